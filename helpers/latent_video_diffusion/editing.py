"""Gen-1-style editing for chapter 07: a structure signal that needs no weights (luminance at a
chosen level of detail, standing in for MiDaS depth), an offline content embedding, and how well
an edit keeps the structure."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..errors import BadInputError

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


def structure_correlation(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean Pearson correlation, frame by frame, of two structure signals (N, 1, H, W). `mask`
    ((N, 1, H, W) or (N, H, W), True on picture content) limits it to the picture: two frames that
    share only their letterbox bars would otherwise correlate well above 0."""
    a, b = a.flatten(1).float(), b.flatten(1).float()
    if mask is None:
        keep = torch.ones_like(a)
    else:
        keep = mask.reshape(len(mask), -1).to(a.dtype)
        if keep.shape != a.shape:
            raise BadInputError(
                f"structure mask of shape {tuple(mask.shape)}: expected one per frame, {tuple(a.shape)}"
            )
        if (keep.sum(1) < 2).any():
            raise BadInputError("structure mask: every frame needs 2 or more picture pixels")
    count = keep.sum(1, keepdim=True)
    a = (a - (a * keep).sum(1, keepdim=True) / count) * keep
    b = (b - (b * keep).sum(1, keepdim=True) / count) * keep
    return float(((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-8)).mean())


def picture_mask(masks, size: int) -> torch.Tensor:
    """Content masks (N, H, W), True on picture, at the structure signal's `size`: (N, 1, size,
    size), True where a cell lies wholly on picture content."""
    masks = torch.as_tensor(masks)
    if masks.ndim != 3:
        raise BadInputError(f"masks of shape {tuple(masks.shape)}: expected (N, H, W)")
    return F.interpolate(masks[:, None].float(), size=(size, size), mode="area") > 0.999
