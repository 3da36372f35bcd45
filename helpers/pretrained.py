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
from dataclasses import dataclass
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


@dataclass
class CourseAutoencoder:
    """The course's image autoencoder, fine-tuned on the training shots and frozen.

    encode/decode work on batches of frames in [-1, 1] (N, 3, H, W) and on scaled latents
    (N, C, H/f, W/f); decode returns float frames in [0, 1] on the CPU, channels first.
    """

    model: Any
    plan: dict[str, str]
    label: str  # what to print next to every output made through it
    fit: Any  # helpers.training.FitResult of the fine-tuning (all sessions)
    checkpoint: Path
    device: str

    @property
    def scale(self) -> float:
        return float(getattr(self.model.config, "scaling_factor", 1.0))

    @property
    def shrink(self) -> int:
        return downsampling(self.model)

    def encode(self, images, batch: int = 64):
        import torch

        with torch.no_grad():
            parts = [self.model.encode(b.to(self.device)).latent_dist.mean for b in images.split(batch)]
        return torch.cat(parts) * self.scale

    def decode(self, latents, batch: int = 64):
        import torch

        with torch.no_grad():
            parts = [self.model.decode(z.to(self.device) / self.scale).sample for z in latents.split(batch)]
        return ((torch.cat(parts).float().clamp(-1, 1) + 1) / 2).cpu()


def course_autoencoder(
    weights: str = "auto",
    size: int = 64,
    steps: int = 150,
    *,
    seed: int = 0,
    device: str = "cpu",
    batch_size: int = 8,
) -> CourseAutoencoder:
    """Stable Diffusion's autoencoder fine-tuned `steps` steps on the course's training shots at
    `size` pixels (chapter 04 explains it), trained once and cached under build/autoencoder/.

    Chapters 04, 05 and 07 call this with their own settings; equal settings (step count
    included) share one training run, and an interrupted run resumes from its checkpoint.
    Offline (`weights` 'tiny', or 'auto' with no hub) the same class is built small and trained
    from random weights; `label` says so.
    """
    import torch

    # the weights must not depend on which chapter trains them first: seed the model's
    # initialisation and the training's own noise from `seed` alone, and give the caller's random
    # state back untouched (forked), whether the run trains or loads its checkpoint
    with torch.random.fork_rng(devices=[] if device == "cpu" else None):
        torch.manual_seed(seed)
        return _train_course_autoencoder(weights, size, steps, seed, device, batch_size)


def _train_course_autoencoder(weights: str, size: int, steps: int, seed: int, device: str, batch_size: int):
    import torch

    from . import datasets
    from .runtime import build_dir, settings_key

    model, plan = load_autoencoder(weights, device, sample_size=size)
    label = (
        plan["label"]
        if plan["kind"] != "tiny"
        else f"{plan['label']} (a small AutoencoderKL trained here from random weights)"
    )
    frames, units = datasets.course_frames(size)
    images = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1  # [-1, 1], as SD expects
    train_positions = datasets.positions_of(units, datasets.course_split(units)["train"])

    settings = {"weights": plan["id"], "size": size, "steps": steps, "seed": seed, "batch": batch_size, "format": 2}
    checkpoint = build_dir("autoencoder") / f"autoencoder-{settings_key(settings)}.pt"
    run = fit_autoencoder(
        model, images[train_positions], steps, checkpoint, lr=1e-4 if plan["kind"] != "tiny" else 1e-3,
        seed=seed, device=device, batch_size=batch_size, desc="fine-tuning the course autoencoder",
    )  # fmt: skip
    return CourseAutoencoder(model, plan, label, run, checkpoint, device)


def fit_autoencoder(
    model, images, steps: int, checkpoint: str | Path, *, lr: float, seed: int, device: str, batch_size: int, desc: str
):
    """Train an AutoencoderKL on `images` ([-1, 1], N x 3 x H x W) to reconstruct them (MSE plus
    a tiny KL term), resuming from `checkpoint`; returns the FitResult and leaves it frozen.
    Chapter 04 explains it; chapter 08 trains one on its dancer's pictures."""
    import torch
    import torch.nn.functional as F

    from . import training

    def batch_fn(generator: torch.Generator):
        pick = torch.randint(0, len(images), (batch_size,), generator=generator)
        return images[pick].to(device)

    def loss_fn(net, batch, step):
        posterior = net.encode(batch).latent_dist
        reconstruction = net.decode(posterior.sample()).sample
        mse = F.mse_loss(reconstruction.float(), batch)
        return mse + 1e-6 * posterior.kl().mean(), {"mse": mse.item()}

    run = training.fit(
        model, torch.optim.Adam(model.parameters(), lr), batch_fn, loss_fn, steps, checkpoint,
        seed=seed, every=100, device=device, desc=desc,
    )  # fmt: skip
    model.requires_grad_(False).eval()
    return run
