"""A resumable PyTorch training loop: progress bar, atomic checkpoints, mixed precision on GPU.

`fit` owns what every training run of the course needs and nothing a chapter teaches: the
model, the batches and the loss stay in the chapter. Each checkpoint holds the model, the
optimiser, the gradient scaler, the random state of the batch sampler and torch's own random
state (noise drawn inside the model), the step, the loss history and the seconds spent, so an
interrupted run continues exactly where it stopped, and a finished one is loaded instead of
trained again ("load the checkpoint if it exists, else train"). Chapter 00 shows the pattern;
chapter 04 is the first to train with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BadInputError
from .runtime import atomic_write_bytes, progress, settings_key


def mixed_precision_dtype(device: str, amp: bool | None = None):
    """The autocast dtype `fit` trains with: None (full float32) off CUDA or when amp is False;
    torch.bfloat16 on GPUs that support it; torch.float16 (with a gradient scaler) on older ones."""
    import torch

    if device != "cuda" or amp is False or not torch.cuda.is_available():
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def parameter_count(model, trainable: bool = False) -> int:
    """How many numbers a torch module learns: all its parameters, or only those that train."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable)


def checkpoint_path(folder: str | Path, name: str, **settings: Any) -> Path:
    """Where a training run's checkpoint lives: folder/<name>-<16 hex digits of the settings>.pt.

    Give it everything that shapes the model and its training except the step count: `fit` then
    loads a finished run instead of training it again ("load the checkpoint if it exists, else
    train"), more steps continue it, and any other change trains a new one."""
    from .results import slug

    return Path(folder) / f"{slug(name)}-{settings_key(settings)}.pt"


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Save a training state (model and optimiser state dicts, step, history) atomically with torch."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())
    return Path(path)


def load_checkpoint(path: str | Path) -> dict[str, Any] | None:
    """The state saved at `path`, or None when there is none yet ("load if it exists, else train")."""
    import torch

    path = Path(path)
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a damaged file must not be silently ignored
        raise BadInputError(f"{path}: checkpoint cannot be read ({exc}); delete it to train from scratch") from exc


@dataclass
class FitResult:
    history: Any  # pandas DataFrame: one row per step, one column per logged value
    seconds: float  # training time over all sessions
    resumed_from: int  # the step the checkpoint held when this session started (0: fresh)
    steps_run: int  # steps trained in this session
    steps_per_second: float  # in this session (NaN when nothing was left to train)


def fit(
    model,
    optimiser,
    batch_fn: Callable[[Any], Any],
    loss_fn: Callable[[Any, Any, int], tuple[Any, dict[str, float]]],
    steps: int,
    checkpoint: str | Path,
    *,
    seed: int = 0,
    every: int = 100,
    device: str = "cpu",
    amp: bool | None = None,
    desc: str = "training",
    stop_after: int | None = None,
) -> FitResult:
    """Train `model` for `steps` optimiser steps in total, resuming from `checkpoint` if it exists.

    batch_fn(generator) draws one batch with the given torch.Generator (saved in checkpoints,
    so the data order survives an interruption). loss_fn(model, batch, step) returns the loss
    tensor and a dict of numbers to log. amp defaults to on for CUDA and is off elsewhere:
    bfloat16 autocast where the GPU supports it (Ampere and newer: no scaler needed, the exponent
    range is float32's), else float16 with a gradient scaler (see mixed_precision_dtype).
    stop_after ends this session after that many steps, as an interruption would (to try resuming).
    """
    import pandas as pd
    import torch

    if steps < 0 or every < 1:
        raise BadInputError(f"steps {steps} and every {every}: steps must be >= 0 and every >= 1")
    checkpoint = Path(checkpoint)
    amp_dtype = mixed_precision_dtype(device, amp)
    amp = amp_dtype is not None
    # float16 gradients underflow without loss scaling; bfloat16 has float32's range and needs none
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    generator = torch.Generator().manual_seed(seed)
    state = load_checkpoint(checkpoint)
    start, history, seconds = 0, [], 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scaler.load_state_dict(state["scaler"])
        generator.set_state(state["generator"])
        if "torch_rng" in state:  # noise drawn inside the model (dropout, sampling) continues too
            torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        start, history, seconds = state["step"], state["history"], state["seconds"]
        if start > steps:
            raise BadInputError(
                f"{checkpoint}: holds {start} steps, more than the {steps} asked for; "
                "ask for at least as many steps, or delete the checkpoint to start over"
            )

    def save(step: int) -> None:
        save_checkpoint(
            checkpoint,
            {
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "scaler": scaler.state_dict(),
                "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                "step": step,
                "history": history,
                "seconds": seconds,
            },
        )

    model.train()
    end = steps if stop_after is None else min(steps, start + stop_after)
    session_start = time.perf_counter()
    mark = session_start
    step = start
    for step in progress(range(start, end), desc=desc, initial=start, total=steps):
        batch = batch_fn(generator)
        with torch.autocast(device_type="cuda" if device == "cuda" else "cpu", dtype=amp_dtype, enabled=amp):
            loss, logs = loss_fn(model, batch, step)
        optimiser.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimiser)
        scaler.update()
        history.append({"step": step + 1, "loss": float(loss.detach()), **{k: float(v) for k, v in logs.items()}})
        if (step + 1) % every == 0 or step + 1 == end:
            now = time.perf_counter()
            seconds += now - mark
            mark = now
            save(step + 1)
    model.eval()
    ran = max(0, end - start)
    elapsed = time.perf_counter() - session_start
    rate = ran / elapsed if ran else float("nan")
    return FitResult(pd.DataFrame(history), seconds, start, ran, rate)
