"""Network building blocks that more than one video family uses, each named for its contract.

Clips are tensors of shape (B, C, T, H, W): batch, channels, frames, height, width.

- `per_frame(module, clip)`: a 2D module (a convolution, a normalisation) applied to each frame
  on its own; the clip's shape in, the module's channels out.
- `per_pixel_in_time(module, clip)`: a 1D module (a convolution over time) applied along the
  frames at each pixel on its own.
- `timestep_embedding(t, dim)`: the sinusoidal embedding of a diffusion timestep or noise level
  (Transformer positions, as DDPM uses them), (B,) -> (B, dim).
- `group_norm(channels)`: GroupNorm with up to 8 groups (fewer for narrow layers).
- `CausalTemporalAttention`: self-attention along time at each pixel, frame i attending to
  frames 0..i only, with per-frame normalisation: a later frame can never change an earlier one.

Chapter 06 (pixel-space video diffusion) introduces the factorised reshapes, chapter 07 (latent
video diffusion) the causal attention, and chapter 09 builds its frame-by-frame model from them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .errors import BadInputError


def per_frame(module: nn.Module, clip: torch.Tensor) -> torch.Tensor:
    """Apply a 2D module to every frame of a clip (B, C, T, H, W) on its own: the frames are
    folded into the batch, so nothing passes between them."""
    b, c, t, height, width = clip.shape
    flat = clip.permute(0, 2, 1, 3, 4).reshape(b * t, c, height, width)
    out = module(flat)
    return out.reshape(b, t, *out.shape[1:]).permute(0, 2, 1, 3, 4)


def per_pixel_in_time(module: nn.Module, clip: torch.Tensor) -> torch.Tensor:
    """Apply a 1D module along time at every pixel of a clip (B, C, T, H, W): each pixel's
    sequence of T values is one item of the batch, so nothing passes between pixels."""
    b, c, t, height, width = clip.shape
    out = module(clip.permute(0, 3, 4, 1, 2).reshape(b * height * width, c, t))
    return out.reshape(b, height, width, out.shape[1], out.shape[2]).permute(0, 3, 4, 1, 2)


def timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding (B,) -> (B, dim): sines and cosines of the timestep at geometrically
    spaced frequencies from 1 to 1/10000, so nearby timesteps get nearby vectors."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=timesteps.device, dtype=torch.float32) / half)
    angles = timesteps.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with 8 groups, or one group per channel below 8 channels."""
    return nn.GroupNorm(min(8, channels), channels)


class CausalTemporalAttention(nn.Module):
    """Self-attention along time at every pixel with a causal mask: frame i attends to frames
    0..i only (MagicVideo's directed temporal attention). Per-frame normalisation, a
    zero-initialised output projection (the block starts as the identity) and a residual
    connection. Input and output (B, C, T, H, W)."""

    def __init__(self, channels: int, heads: int = 4):
        super().__init__()
        if channels % heads:
            raise BadInputError(f"attention over {channels} channels: not divisible into {heads} heads")
        self.heads = heads
        self.norm = group_norm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        b, c, t, height, width = clip.shape
        x = per_frame(self.norm, clip).permute(0, 3, 4, 2, 1).reshape(b * height * width, t, c)
        q, k, v = self.qkv(x).reshape(-1, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (BHW, heads, T, c/heads)
        y = self.out(y.transpose(1, 2).reshape(-1, t, c))
        return clip + y.reshape(b, height, width, t, c).permute(0, 4, 3, 1, 2)
