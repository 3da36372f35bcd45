"""Baseline predictors: the scores a learned model has to beat.

Every predictor has one interface: it takes the context, frames (T, H, W, C) as float in
[0, 1] with the newest last, and returns the next frame (H, W, C). Chapter 02 explains why
each is a fair opponent, and when it is a strong one. The optical flow it uses (`optical_flow`,
`warp`) also serves metrics.warping_error.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .errors import BadInputError

Predictor = Callable[[np.ndarray], np.ndarray]


# --- optical flow (the flow baseline, and metrics.warping_error) ------------------------------


def optical_flow(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Dense Farneback flow F with source(p) ~ target(p + F(p)); frames (H, W, C) in [0, 1]."""

    def grey(frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame)
        frame = frame.mean(axis=-1) if frame.ndim == 3 else frame
        return np.round(frame * 255).astype(np.uint8)

    return cv2.calcOpticalFlowFarneback(grey(source), grey(target), None, 0.5, 3, 15, 3, 5, 1.2, 0)


def warp(frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample `frame` at p + flow(p) (backward warping, bilinear, border pixels repeated)."""
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    warped = cv2.remap(
        np.asarray(frame, dtype=np.float32),
        grid_x + flow[..., 0],
        grid_y + flow[..., 1],
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return warped.reshape(np.shape(frame))


def _need(context: np.ndarray, frames: int, name: str) -> np.ndarray:
    context = np.asarray(context)
    if context.ndim != 4 or len(context) < frames:
        raise BadInputError(
            f"{name}: needs a context of at least {frames} frames (T, H, W, C), got shape {context.shape}"
        )
    return context


def copy_last(context: np.ndarray) -> np.ndarray:
    """Predict that nothing moves: the next frame is the last one."""
    return _need(context, 1, "copy last")[-1].copy()


def linear_extrapolation(context: np.ndarray) -> np.ndarray:
    """Continue each pixel's last change: 2 x_t - x_{t-1}, clipped to [0, 1]."""
    context = _need(context, 2, "linear extrapolation")
    return np.clip(2.0 * context[-1] - context[-2], 0.0, 1.0)


def flow_extrapolation(context: np.ndarray) -> np.ndarray:
    """Move the last frame once more along the last optical flow.

    With B the flow from the last frame back to the one before (last(p) ~ previous(p + B(p))),
    an object moving at constant speed is found in the next frame where the last frame has it
    shifted by the same step again: next(p) ~ last(p + B(p)).
    """
    context = _need(context, 2, "flow extrapolation")
    backward = optical_flow(context[-1], context[-2])
    return np.clip(warp(context[-1], backward), 0.0, 1.0)


BASELINES: dict[str, Predictor] = {
    "copy last": copy_last,
    "linear": linear_extrapolation,
    "flow": flow_extrapolation,
}
