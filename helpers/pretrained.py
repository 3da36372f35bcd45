"""Pretrained networks under the course's weights policy (chapter 00, section 6).

`plan_weights` decides where a chapter's weights come from (the model hub, a local folder, or a
tiny local configuration, labelled TINY_LABEL on every output made with it); the loaders follow
its plan.

`load_autoencoder` returns Stable Diffusion's image autoencoder (AutoencoderKL) through
diffusers' own `from_pretrained`, from the model hub or a local folder; offline it builds the
same class from a small local configuration with random weights, and says so in its plan.
Chapter 04 fine-tunes it; the diffusion chapters encode frames with it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from .errors import BadInputError

TINY_LABEL = "tiny offline weights: checks the pipeline, not the quality"


def hub_reachable(host: str = "huggingface.co", timeout: float = 2.0) -> bool:
    """Can this machine open a connection to the model hub? Offline machines answer fast."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def plan_weights(spec: str, default_hub_id: str) -> dict[str, str]:
    """Decide where a chapter's pretrained weights come from.

    spec is a hub id ('org/name'), a local folder, 'auto' (the hub id `default_hub_id` when the
    hub answers, else tiny) or 'tiny' (a small local configuration of the same architecture).
    Returns {'kind': 'hub' | 'local' | 'tiny', 'id': ..., 'label': ..., 'reason': ...}; every
    output made with kind 'tiny' must carry the label.
    """
    if not isinstance(spec, str) or not spec:
        raise BadInputError(f"weights {spec!r}: give a hub id, a local folder, 'auto' or 'tiny'")
    if spec == "tiny":
        return {"kind": "tiny", "id": "tiny", "label": TINY_LABEL, "reason": "asked for tiny weights"}
    if Path(spec).expanduser().exists():
        return {
            "kind": "local",
            "id": str(Path(spec).expanduser()),
            "label": f"weights from {spec}",
            "reason": "local path",
        }
    hub_id = default_hub_id if spec == "auto" else spec
    if "/" not in hub_id:
        raise BadInputError(f"weights {spec!r}: not a local path and not a hub id of the form 'org/name'")
    if hub_reachable():
        return {"kind": "hub", "id": hub_id, "label": f"pretrained weights {hub_id}", "reason": "hub reachable"}
    return {
        "kind": "tiny",
        "id": "tiny",
        "label": TINY_LABEL,
        "reason": f"the model hub is not reachable from here, so {hub_id} cannot be downloaded",
    }


AUTOENCODER_HUB_ID = "stabilityai/sd-vae-ft-mse"
# Same architecture family as Stable Diffusion's VAE (down/up encoder blocks, 4 latent channels),
# small enough to train on a laptop CPU: 3 levels (4x smaller latents instead of 8x), no attention.
TINY_AUTOENCODER_CONFIG: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 3,
    "up_block_types": ["UpDecoderBlock2D"] * 3,
    "block_out_channels": [16, 32, 32],
    "layers_per_block": 1,
    "latent_channels": 4,
    "norm_num_groups": 8,
    "mid_block_add_attention": False,
}


def load_autoencoder(weights: str = "auto", device: str = "cpu", sample_size: int = 64):
    """(AutoencoderKL, plan): from the hub or a local folder with `from_pretrained`, else tiny."""
    from diffusers import AutoencoderKL

    plan = plan_weights(weights, AUTOENCODER_HUB_ID)
    if plan["kind"] in ("hub", "local"):
        model = AutoencoderKL.from_pretrained(plan["id"])
    else:
        model = AutoencoderKL(**TINY_AUTOENCODER_CONFIG, sample_size=sample_size)
    return model.to(device), plan


def downsampling(model) -> int:
    """How many times smaller the latents are than the image (8 for Stable Diffusion's VAE)."""
    return 2 ** (len(model.config.block_out_channels) - 1)
