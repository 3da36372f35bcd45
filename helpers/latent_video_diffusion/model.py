"""The latent video U-Net of chapter 07, with a switch between three temporal designs.

A clip is encoded frame by frame with the course autoencoder (`pretrained.course_autoencoder`)
into latents of shape (B, C, T, H, W), and a U-Net denoises the whole clip at once. What the
U-Net does across time is the `temporal` switch:

- "3d": every residual block uses full 3D convolutions (3x3x3 kernels), so every layer mixes
  neighbouring frames;
- "2d+adapter": per-frame 2D convolutions plus MagicVideo's frame-wise adapter, a learned scale
  and shift per channel for each frame position; nothing passes between frames;
- "2d+adapter+directed": the same plus *directed* temporal self-attention after every block:
  each frame attends to itself and to earlier frames only (layers.CausalTemporalAttention), so
  the network is causal in time.

Normalisation is per frame in every design, so the directed design's causality is exact: a later
frame's input cannot change an earlier frame's output (tests/test_latent_video_diffusion.py checks it).

The same U-Net takes extra conditioning: channels concatenated to its input (the first frame's
latent for image-to-video, a structure map for Gen-1-style editing) and a vector added to the
timestep embedding (a content embedding), with a learned "no content" vector for classifier-free
guidance, and an optional structure-detail level (Gen-1's structure fidelity `t_s`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import BadInputError
from ..layers import CausalTemporalAttention, group_norm, per_frame, timestep_embedding

TEMPORAL_DESIGNS = ("3d", "2d+adapter", "2d+adapter+directed")


class FrameAdapter(nn.Module):
    """MagicVideo's frame-wise adapter: h_i <- s_i * h_i + b_i with a learned scale s_i and shift
    b_i per channel for frame position i. It lets each position shift its feature distribution
    (an image model becomes a per-position one) at 2 x channels x frames parameters, and passes
    nothing from one frame to another."""

    def __init__(self, channels: int, max_frames: int):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(max_frames, channels))
        self.shift = nn.Parameter(torch.zeros(max_frames, channels))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        frames = h.shape[2]
        if frames > len(self.scale):
            raise BadInputError(f"clip of {frames} frames: this adapter was built for at most {len(self.scale)}")
        scale = self.scale[:frames].T[None, :, :, None, None]
        shift = self.shift[:frames].T[None, :, :, None, None]
        return h * scale + shift


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, with the timestep (+ conditioning) embedding added in between.
    The convolutions are 3D (3x3x3) in the "3d" design and per-frame 2D otherwise; the adapter
    designs end with a FrameAdapter."""

    def __init__(self, cin: int, cout: int, emb_dim: int, temporal: str, max_frames: int):
        super().__init__()
        self.temporal = temporal
        conv = (
            (lambda i, o: nn.Conv3d(i, o, 3, padding=1))
            if temporal == "3d"
            else (lambda i, o: nn.Conv2d(i, o, 3, padding=1))
        )
        self.norm1, self.conv1 = group_norm(cin), conv(cin, cout)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2, self.conv2 = group_norm(cout), conv(cout, cout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.adapter = FrameAdapter(cout, max_frames) if temporal != "3d" else None

    def _conv(self, conv: nn.Module, h: torch.Tensor) -> torch.Tensor:
        return conv(h) if self.temporal == "3d" else per_frame(conv, h)

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        x = self._conv(self.conv1, F.silu(per_frame(self.norm1, h)))
        x = x + self.emb(emb)[:, :, None, None, None]
        x = self._conv(self.conv2, F.silu(per_frame(self.norm2, x)))
        if self.adapter is not None:
            x = self.adapter(x)
        return per_frame(self.skip, h) + x


class LatentVideoUNet(nn.Module):
    """A two-level U-Net over latent clips (B, C, T, H, W) with the `temporal` design switch.

    cond_channels: channels concatenated to the input (e.g. the first frame's latent, a structure
    map). vector_dim: a conditioning vector (a content embedding) added to the timestep embedding;
    `drop_vector` marks samples that get the learned "no content" vector instead. levels: how
    many structure-detail levels (Gen-1's t_s) the model knows, plus one meaning "no structure".
    """

    def __init__(
        self,
        channels: int = 4,
        *,
        temporal: str = "2d+adapter+directed",
        width: int = 32,
        max_frames: int = 16,
        cond_channels: int = 0,
        vector_dim: int = 0,
        levels: int = 0,
        heads: int = 4,
    ):
        super().__init__()
        if temporal not in TEMPORAL_DESIGNS:
            raise BadInputError(f"temporal={temporal!r}: choose one of {', '.join(TEMPORAL_DESIGNS)}")
        self.temporal, self.channels, self.width = temporal, channels, width
        self.cond_channels, self.vector_dim, self.levels = cond_channels, vector_dim, levels
        emb = 4 * width
        self.time = nn.Sequential(nn.Linear(width, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.vector = nn.Linear(vector_dim, emb) if vector_dim else None
        self.no_vector = nn.Parameter(torch.zeros(emb)) if vector_dim else None
        self.level = nn.Embedding(levels + 1, emb) if levels else None
        wide = 2 * width

        def block(cin: int, cout: int) -> ResBlock:
            return ResBlock(cin, cout, emb, temporal, max_frames)

        def attention(ch: int) -> nn.Module:
            return CausalTemporalAttention(ch, heads) if temporal.endswith("directed") else nn.Identity()

        self.stem = nn.Conv2d(channels + cond_channels, width, 3, padding=1)
        self.down1, self.attn1 = block(width, width), attention(width)
        self.downsample = nn.Conv2d(width, width, 3, stride=2, padding=1)
        self.down2, self.attn2 = block(width, wide), attention(wide)
        self.mid, self.attn_mid = block(wide, wide), attention(wide)
        self.up2, self.attn_up2 = block(2 * wide, wide), attention(wide)
        self.upsample = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(wide, width, 3, padding=1))
        self.up1, self.attn_up1 = block(2 * width, width), attention(width)
        self.head = nn.Sequential(group_norm(width), nn.SiLU(), nn.Conv2d(width, channels, 3, padding=1))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def embedding(self, timesteps, vector=None, drop_vector=None, level=None) -> torch.Tensor:
        emb = self.time(timestep_embedding(timesteps, self.width))
        if self.vector is not None:
            if vector is None:
                raise BadInputError(f"this model takes a {self.vector_dim}-d conditioning vector; none given")
            content = self.vector(vector)
            if drop_vector is not None:
                content = torch.where(drop_vector[:, None], self.no_vector.expand_as(content), content)
            emb = emb + content
        if self.level is not None:
            if level is None:
                raise BadInputError(f"this model takes a structure level 0..{self.levels}; none given")
            emb = emb + self.level(level)
        return emb

    def forward(self, x, timesteps, cond=None, vector=None, drop_vector=None, level=None) -> torch.Tensor:
        if x.ndim != 5 or x.shape[1] != self.channels:
            raise BadInputError(f"latent clip of shape {tuple(x.shape)}: expected (B, {self.channels}, T, H, W)")
        if x.shape[-1] % 2 or x.shape[-2] % 2:
            raise BadInputError(f"latent clip of shape {tuple(x.shape)}: height and width must be even")
        if self.cond_channels:
            if cond is None or cond.shape[1] != self.cond_channels or cond.shape[2:] != x.shape[2:]:
                got = None if cond is None else tuple(cond.shape)
                raise BadInputError(
                    f"conditioning {got}: expected (B, {self.cond_channels}, {', '.join(map(str, x.shape[2:]))})"
                )
            x = torch.cat([x, cond], dim=1)
        emb = self.embedding(timesteps.expand(x.shape[0]), vector, drop_vector, level)
        h1 = self.attn1(self.down1(per_frame(self.stem, x), emb))
        h2 = self.attn2(self.down2(per_frame(self.downsample, h1), emb))
        h = self.attn_mid(self.mid(h2, emb))
        h = self.attn_up2(self.up2(torch.cat([h, h2], dim=1), emb))
        h = self.attn_up1(self.up1(torch.cat([per_frame(self.upsample, h), h1], dim=1), emb))
        return per_frame(self.head, h)
