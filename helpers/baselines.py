"""Baseline predictors: the scores a learned model has to beat.

Every predictor has one interface: it takes the context, frames (T, H, W, C) as float in
[0, 1] with the newest last, and returns the next frame (H, W, C). Chapter 02 explains why
each is a fair opponent, and when it is a strong one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .errors import BadInputError
from .metrics import optical_flow, warp

Predictor = Callable[[np.ndarray], np.ndarray]


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
