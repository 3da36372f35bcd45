"""Latent video diffusion with a switch between three temporal designs (chapter 07 explains them).

A clip is encoded frame by frame with the course autoencoder (`pretrained.course_autoencoder`)
into latents of shape (B, C, T, H, W), and a U-Net denoises the whole clip at once. What the
U-Net does across time is the `temporal` switch:

- "3d": every residual block uses full 3D convolutions (3x3x3 kernels), so every layer mixes
  neighbouring frames;
- "2d+adapter": per-frame 2D convolutions plus MagicVideo's frame-wise adapter, a learned scale
  and shift per channel for each frame position; nothing passes between frames;
- "2d+adapter+directed": the same plus *directed* temporal self-attention after every block:
  each frame attends to itself and to earlier frames only, so the network is causal in time.

Normalisation is per frame in every design, so the directed design's causality is exact: a later
frame's input cannot change an earlier frame's output (tests/test_latent_video.py checks it).

The same U-Net takes extra conditioning: channels concatenated to its input (the first frame's
latent for image-to-video, a structure map for Gen-1-style editing) and a vector added to the
timestep embedding (a content embedding), with a learned "no content" vector for classifier-free
guidance, and an optional structure-detail level (Gen-1's structure fidelity `t_s`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .errors import BadInputError

TEMPORAL_DESIGNS = ("3d", "2d+adapter", "2d+adapter+directed")


def per_frame(module: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """Apply a 2D module to every frame of (B, C, T, H, W) on its own."""
    b, c, t, height, width = h.shape
    flat = h.permute(0, 2, 1, 3, 4).reshape(b * t, c, height, width)
    out = module(flat)
    return out.reshape(b, t, *out.shape[1:]).permute(0, 2, 1, 3, 4)


def group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


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


class DirectedTemporalAttention(nn.Module):
    """Self-attention along time at every pixel, with a causal mask: frame i attends to frames
    0..i only (MagicVideo's directed temporal attention). Per-frame normalisation, a zero-initialised
    output projection (the block starts as the identity), and a residual connection."""

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

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b, c, t, height, width = h.shape
        x = per_frame(self.norm, h).permute(0, 3, 4, 2, 1).reshape(b * height * width, t, c)
        q, k, v = self.qkv(x).reshape(-1, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (BHW, heads, T, c/heads)
        y = self.out(y.transpose(1, 2).reshape(-1, t, c))
        return h + y.reshape(b, height, width, t, c).permute(0, 4, 3, 1, 2)


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


def timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=timesteps.device) / half)
    angles = timesteps.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


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
            return DirectedTemporalAttention(ch, heads) if temporal.endswith("directed") else nn.Identity()

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


# --- diffusion -----------------------------------------------------------------------------


def schedulers(timesteps: int = 1000):
    """diffusers' DDPM (training: adds the noise) and DDIM (sampling) schedulers, v-prediction,
    cosine noise schedule, DDIM on 'trailing' timesteps so its first step starts from pure noise."""
    from diffusers import DDIMScheduler, DDPMScheduler

    common = {
        "num_train_timesteps": timesteps,
        "beta_schedule": "squaredcos_cap_v2",
        "prediction_type": "v_prediction",
        "clip_sample": False,
    }
    return DDPMScheduler(**common), DDIMScheduler(**common, timestep_spacing="trailing")


def diffusion_loss(model: LatentVideoUNet, train_scheduler, x0: torch.Tensor, **conditioning) -> torch.Tensor:
    """The denoising loss: noise the clean latent clip x0 at a random timestep, predict v."""
    noise = torch.randn_like(x0)
    t = torch.randint(0, train_scheduler.config.num_train_timesteps, (len(x0),), device=x0.device)
    noisy = train_scheduler.add_noise(x0, noise, t)
    target = train_scheduler.get_velocity(x0, noise, t)
    return F.mse_loss(model(noisy, t, **conditioning).float(), target)


@torch.no_grad()
def sample(
    model: LatentVideoUNet,
    sampler,
    shape: tuple[int, ...],
    *,
    steps: int = 20,
    seed: int = 0,
    guidance: float = 1.0,
    device: str = "cpu",
    **conditioning: Any,
) -> torch.Tensor:
    """DDIM sampling of latent clips of `shape` (B, C, T, H, W) from seeded noise. guidance > 1
    applies classifier-free guidance on the content vector: the prediction without content is
    pushed towards the one with it."""
    if steps < 1:
        raise BadInputError(f"steps={steps}: sampling needs at least 1 step")
    model.eval()
    sampler.set_timesteps(steps)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(device)
    guided = guidance != 1.0 and model.vector is not None
    for t in sampler.timesteps:
        t_batch = t.reshape(1).to(device)
        prediction = model(x, t_batch, **conditioning)
        if guided:
            off = torch.ones(len(x), dtype=torch.bool, device=device)
            unconditional = model(x, t_batch, **{**conditioning, "drop_vector": off})
            prediction = unconditional + guidance * (prediction - unconditional)
        x = sampler.step(prediction, t, x).prev_sample
    return x


# --- measuring a design ---------------------------------------------------------------------


def training_step_memory(model: nn.Module, step: Callable[[], torch.Tensor], device: str = "cpu") -> dict[str, float]:
    """Memory of one training step, in MiB.

    On CUDA: torch.cuda.max_memory_allocated over a forward and backward pass (peak, everything).
    On the CPU PyTorch keeps no allocator statistics, so it is counted: the activations autograd
    saves for the backward pass (caught with saved_tensors_hooks, each storage once) plus the
    weights, their gradients and Adam's two moments (4 x the parameter bytes)."""
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    model.zero_grad(set_to_none=True)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step().backward()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
        model.zero_grad(set_to_none=True)
        return {"activations MiB": float("nan"), "peak MiB": (peak + 3 * params) / 2**20}
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = step()
    loss.backward()
    model.zero_grad(set_to_none=True)
    activations = sum(seen.values())
    return {"activations MiB": activations / 2**20, "peak MiB": (activations + 4 * params) / 2**20}


# --- structure and content -------------------------------------------------------------


STRUCTURE_BLUR = (0.0, 1.0, 2.0, 4.0)  # Gaussian sigma in latent pixels for each structure level t_s


def structure_signal(frames: torch.Tensor, size: int, level: int = 0) -> torch.Tensor:
    """A structure proxy that needs no weights (stands in for Gen-1's MiDaS depth): each frame's
    luminance, resized to `size`, blurred by STRUCTURE_BLUR[level] (more blur keeps less detail:
    Gen-1's structure fidelity), then standardised per frame so that brightness and colour are
    left to the content. frames: (N, 3, H, W) in [-1, 1] or [0, 1]; returns (N, 1, size, size)."""
    if not 0 <= level < len(STRUCTURE_BLUR):
        raise BadInputError(f"structure level {level}: choose 0..{len(STRUCTURE_BLUR) - 1}")
    weights = torch.tensor([0.299, 0.587, 0.114], device=frames.device)[None, :, None, None]
    luminance = (frames.float() * weights).sum(1, keepdim=True)
    luminance = F.interpolate(luminance, size=(size, size), mode="area")
    sigma = STRUCTURE_BLUR[level]
    if sigma > 0:
        radius = int(math.ceil(3 * sigma))
        x = torch.arange(-radius, radius + 1, device=frames.device, dtype=torch.float32)
        kernel = torch.exp(-(x**2) / (2 * sigma**2))
        kernel = kernel / kernel.sum()
        luminance = F.pad(luminance, (radius, radius, radius, radius), mode="replicate")
        luminance = F.conv2d(luminance, kernel[None, None, None, :])
        luminance = F.conv2d(luminance, kernel[None, None, :, None])
    mean = luminance.mean(dim=(2, 3), keepdim=True)
    std = luminance.std(dim=(2, 3), keepdim=True).clamp_min(1e-3)
    return (luminance - mean) / std


def pooled_content(latents: torch.Tensor) -> torch.Tensor:
    """The offline content embedding: each latent channel's mean and standard deviation over the
    frame, (N, 2C). It holds colour and texture statistics and no layout (the structure's job)."""
    return torch.cat([latents.mean(dim=(2, 3)), latents.std(dim=(2, 3))], dim=1)


def structure_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean Pearson correlation, frame by frame, of two structure signals (N, 1, H, W)."""
    a = a.flatten(1) - a.flatten(1).mean(1, keepdim=True)
    b = b.flatten(1) - b.flatten(1).mean(1, keepdim=True)
    return float(((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-8)).mean())
