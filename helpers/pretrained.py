"""Pretrained networks under the course's weights policy (chapter 00, section 6).

`load_autoencoder` returns Stable Diffusion's image autoencoder (AutoencoderKL) through
diffusers' own `from_pretrained`, from the model hub or a local folder; offline it builds the
same class from a small local configuration with random weights, and says so in its plan.
Chapter 04 fine-tunes it; the diffusion chapters encode frames with it.
"""

from __future__ import annotations

from typing import Any

from .runtime import plan_weights

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
