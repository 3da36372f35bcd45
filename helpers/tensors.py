"""Frames between NumPy and PyTorch, with the direction, the rank and the value range in the name.

NumPy frames are channels last, as video files and the metrics hold them; PyTorch tensors are
channels first, as networks take them:

- `frames_to_tensor(frames, value_range)`: images (N, H, W, C), uint8 or floats in [0, 1]
  -> float tensor (N, C, H, W) in `value_range`;
- `tensor_to_frames(images, value_range)`: float tensor (N, C, H, W) in `value_range`
  -> float array (N, H, W, C) in [0, 1] (what helpers.metrics scores);
- `clips_to_tensor(clips, value_range)`: clips (N, T, H, W, C) uint8 -> float tensor
  (N, C, T, H, W) in `value_range`;
- `tensor_to_clips(clips, value_range)`: float tensor (N, C, T, H, W) -> uint8 array
  (N, T, H, W, C) (what GIF and MP4 writers take).

Diffusion models work in [-1, 1] (`SIGNED`), metrics and plots in [0, 1] (`UNIT`). Values outside
the range are clipped on the way back to frames.
"""

from __future__ import annotations

import numpy as np

from .errors import BadInputError

UNIT = (0.0, 1.0)
SIGNED = (-1.0, 1.0)


def _check_range(value_range: tuple[float, float]) -> tuple[float, float]:
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise BadInputError(f"value_range {value_range}: the upper end must lie above the lower one")
    return low, high


def frames_to_tensor(frames, value_range: tuple[float, float] = UNIT):
    """(N, H, W, C) uint8 or [0, 1] floats -> (N, C, H, W) float32 tensor in value_range."""
    import torch

    from .metrics import as_unit_float

    low, high = _check_range(value_range)
    array = np.asarray(frames)
    if array.ndim != 4:
        raise BadInputError(f"frames of shape {array.shape}: expected (N, H, W, C) images")
    unit = as_unit_float(array, "frames")
    tensor = torch.from_numpy(unit.copy()).permute(0, 3, 1, 2).float()
    return tensor if (low, high) == UNIT else tensor * (high - low) + low


def tensor_to_frames(images, value_range: tuple[float, float] = UNIT) -> np.ndarray:
    """(N, C, H, W) tensor in value_range -> (N, H, W, C) float32 array in [0, 1]."""
    low, high = _check_range(value_range)
    if images.ndim != 4:
        raise BadInputError(f"images of shape {tuple(images.shape)}: expected (N, C, H, W)")
    unit = images.detach().float()
    if (low, high) != UNIT:
        unit = (unit - low) / (high - low)
    return unit.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()


def clips_to_tensor(clips: np.ndarray, value_range: tuple[float, float] = SIGNED):
    """(N, T, H, W, C) uint8 clips -> (N, C, T, H, W) float32 tensor in value_range."""
    import torch

    low, high = _check_range(value_range)
    array = np.asarray(clips)
    if array.ndim != 5 or array.dtype != np.uint8:
        raise BadInputError(f"clips of shape {array.shape} and dtype {array.dtype}: expected (N, T, H, W, C) uint8")
    tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(0, 4, 1, 2, 3).float()
    return tensor.div(255 / (high - low)).add(low)


def tensor_to_clips(clips, value_range: tuple[float, float] = SIGNED) -> np.ndarray:
    """(N, C, T, H, W) float tensor in value_range -> (N, T, H, W, C) uint8 array."""
    low, high = _check_range(value_range)
    if clips.ndim != 5:
        raise BadInputError(f"clips of shape {tuple(clips.shape)}: expected (N, C, T, H, W)")
    scaled = clips.detach().float().clamp(low, high).sub(low).mul(255 / (high - low))
    return scaled.round().byte().cpu().numpy().transpose(0, 2, 3, 4, 1)
