"""Autoregressive rollouts: let a predictor continue a sequence on its own outputs.

`rollout` feeds each prediction back as the newest context frame, times the generation, and
refuses a predictor that does not read the frames it is given, the classic bug of a generation
loop that keeps feeding the same input at every step. `drift` scores every step against the
truth (viz.comparison_strip and viz.save_comparison draw truth | prediction | error). Chapter 02
explains rollouts and drift; chapter 03 shows the feedback bug in a real training project.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .baselines import Predictor
from .errors import BadInputError, CourseError
from .metrics import as_unit_float, mae_per_frame, mse_per_frame, paired, psnr_per_frame, ssim_per_frame
from .runtime import progress


class FeedbackError(CourseError):
    """The predictor ignores its input: a rollout with it would repeat one frame forever."""


@dataclass
class Rollout:
    frames: np.ndarray  # (steps, H, W, C) predictions, float in [0, 1]
    context: np.ndarray  # the frames the rollout started from
    seconds: float  # wall time spent in the predictor

    @property
    def fps(self) -> float:
        """Generated frames per second (predictor time only)."""
        return len(self.frames) / self.seconds if self.seconds > 0 else float("inf")


def _predict(predictor: Predictor, window: np.ndarray, frame_shape: tuple[int, ...], step: int) -> np.ndarray:
    out = np.asarray(predictor(window))
    if out.shape != frame_shape:
        raise BadInputError(f"step {step}: the predictor returned shape {out.shape}, expected one frame {frame_shape}")
    return as_unit_float(out[None, ...], f"step {step} prediction")[0]


def check_reads_its_input(predictor: Predictor, window: np.ndarray) -> None:
    """Refuse a predictor whose output does not depend on its input.

    The newest context frame is replaced by its negative (1 - x). A working predictor changes
    its answer; one that reads a stale variable instead of its argument (the same input fed at
    every step) does not. Stochastic predictors are compared against their own run-to-run noise.
    """
    frame_shape = window.shape[1:]
    first = _predict(predictor, window, frame_shape, 0)
    again = _predict(predictor, window, frame_shape, 0)
    changed = window.copy()
    changed[-1] = 1.0 - changed[-1]
    other = _predict(predictor, changed, frame_shape, 0)
    noise = float(np.abs(first - again).mean())
    response = float(np.abs(first - other).mean())
    if response <= max(1e-6, 2.0 * noise):
        raise FeedbackError(
            "the predictor gives the same output when its newest input frame changes "
            f"(mean change {response:.2g}, run-to-run noise {noise:.2g}): it is not reading the frames it is "
            "given, so a rollout would feed it the same input at every step. Predict from the argument "
            "(e.g. lambda context: model(context[-1])), not from a variable captured before the loop"
        )


def rollout(
    predictor: Predictor,
    context: np.ndarray,
    steps: int,
    window: int | None = None,
    check_feedback: bool = True,
    show_progress: bool = False,
) -> Rollout:
    """Predict `steps` frames, each from the latest `window` frames, own predictions included.

    `context` is (T, H, W, C) uint8 or float in [0, 1]. With `check_feedback`, the predictor is
    first probed (check_reads_its_input); only a predictor that really ignores its input
    needs check_feedback=False.
    """
    history = list(as_unit_float(context, "context"))
    if np.asarray(context).ndim != 4:
        raise BadInputError(f"context: one sequence (T, H, W, C) at a time, got shape {np.shape(context)}")
    if not isinstance(steps, int) or steps < 1:
        raise BadInputError(f"steps {steps!r}: must be 1 or more")
    window = window or len(history)
    if window < 1 or window > len(history):
        raise BadInputError(f"window {window}: must be between 1 and the {len(history)} context frames")
    if check_feedback:
        check_reads_its_input(predictor, np.stack(history[-window:]))
    frame_shape = history[0].shape
    outputs, seconds = [], 0.0
    quiet = {} if show_progress else {"disable": True}  # shown: progress() still hides it in the book run
    for step in progress(range(steps), desc="rollout", leave=False, **quiet):
        inputs = np.stack(history[-window:])
        started = time.perf_counter()
        frame = _predict(predictor, inputs, frame_shape, step)
        seconds += time.perf_counter() - started
        history.append(frame)  # the model's own output becomes its newest input
        outputs.append(frame)
    return Rollout(np.stack(outputs), np.stack(history[: len(history) - steps]), seconds)


def one_step(predictor: Predictor, sequence: np.ndarray, context: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Predict every frame of `sequence` (T, H, W, C) after the first `context` ones, each from the
    true frames before it (no feedback: the other half of a rollout). Returns (predictions, truth)."""
    seq = np.asarray(sequence)
    if seq.ndim != 4 or len(seq) <= context:
        raise BadInputError(f"sequence: need (T, H, W, C) with more than {context} frames, got shape {seq.shape}")
    predicted = np.stack([predictor(seq[t - context : t]) for t in range(context, len(seq))])
    return predicted, seq[context:]


def drift(prediction: np.ndarray, truth: np.ndarray, mask: np.ndarray | None = None):
    """Scores at every step of a rollout (a pandas DataFrame indexed by step 1..H).

    Sequences are (H, h, w, C); batches (N, H, h, w, C) are averaged over N at each step. `mask`
    (h, w), (H, h, w) or (N, H, h, w) keeps the scores on picture content (see metrics).
    """
    import pandas as pd

    pred, true = paired(prediction, truth)

    def mean(values: np.ndarray) -> np.ndarray:
        return values.mean(axis=0) if pred.ndim == 5 else values

    table = pd.DataFrame(
        {
            "psnr": mean(psnr_per_frame(pred, true, mask)),
            "ssim": mean(ssim_per_frame(pred, true, mask=mask)),
            "mse": mean(mse_per_frame(pred, true, mask)),
            "mae": mean(mae_per_frame(pred, true, mask)),
        }
    )
    table.index = pd.RangeIndex(1, len(table) + 1, name="step")
    return table


def evaluate_rollouts(
    predictor: Predictor,
    sequences: np.ndarray,
    context_frames: int,
    steps: int | None = None,
    check_feedback: bool = True,
    show_progress: bool = True,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, float], object]:
    """Roll a predictor out on every sequence of a batch (N, T, H, W, C) and score it.

    The first `context_frames` frames are given, the next `steps` (default: the rest) are
    predicted. Returns the predictions (N, steps, H, W, C), the summary scores (per-pixel and
    OpenSTL-convention MSE/MAE, PSNR, SSIM, frames per second) and the per-step drift table.
    The Moving MNIST protocol is context_frames=10, steps=10 on (N, 20, 64, 64, 1) sequences.
    `mask` ((H, W) or (N, H, W) bool, True on picture content) leaves letterbox padding unscored.
    """
    from .metrics import openstl_mae, openstl_mse

    batch = as_unit_float(sequences, "sequences")
    if batch.ndim != 5:
        raise BadInputError(f"sequences: expected a batch (N, T, H, W, C), got shape {batch.shape}")
    steps = steps or batch.shape[1] - context_frames
    if context_frames < 1 or steps < 1 or context_frames + steps > batch.shape[1]:
        raise BadInputError(
            f"{context_frames} context + {steps} predicted frames do not fit sequences of {batch.shape[1]} frames"
        )
    truth = batch[:, context_frames : context_frames + steps]
    predictions, seconds = [], 0.0
    name = getattr(predictor, "__name__", "predictor")
    quiet = {} if show_progress else {"disable": True}
    for n, sequence in enumerate(progress(batch, desc=f"rollouts: {name}", **quiet)):
        result = rollout(predictor, sequence[:context_frames], steps, check_feedback=check_feedback and n == 0)
        predictions.append(result.frames)
        seconds += result.seconds
    prediction = np.stack(predictions)
    if mask is not None and np.ndim(mask) == 3:  # one mask per sequence, the same at every step
        mask = np.asarray(mask)[:, None]
    table = drift(prediction, truth, mask)
    scores = {
        "openstl_mse": openstl_mse(prediction, truth, mask),
        "openstl_mae": openstl_mae(prediction, truth, mask),
        "mse": float(table["mse"].mean()),
        "mae": float(table["mae"].mean()),
        "psnr": float(table["psnr"].mean()),
        "ssim": float(table["ssim"].mean()),
        "fps": prediction.shape[0] * steps / seconds if seconds > 0 else float("inf"),
    }
    return prediction, scores, table
