"""Training chapter 06's video diffusion models under Hugging Face Accelerate (one CPU, one GPU or
several processes with the same code), with an EMA of the weights, checkpoints and resume; and
loading a trained model back, refusing a checkpoint made by another config."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import configs
from ..errors import BadInputError
from .config import VideoDiffusionConfig, model_keys

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainResult:
    checkpoint: Path
    steps: int  # steps the checkpoint holds now
    steps_run: int  # steps trained by this call
    seconds: float  # training time over all sessions
    history: list[dict[str, float]]
    parameters: int
    processes: int
    main_process: bool = True  # False in the other processes of `accelerate launch`


def checkpoint_path(config: VideoDiffusionConfig) -> Path:
    return Path(config.output_dir) / CHECKPOINT


def _check_same_run(state: dict[str, Any], config: VideoDiffusionConfig, path: Path) -> None:
    changed = sorted(k for k, v in model_keys(config).items() if state["model_keys"].get(k) != v)
    if changed:
        raise BadInputError(
            f"{path}: was trained with other values of {', '.join(changed)}; "
            "use another output_dir, or delete the checkpoint to start over"
        )


def wants_cpu(device: str) -> bool:
    """True for --device cpu; refuses an unknown device, and cuda where no GPU is visible."""
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise BadInputError(f"--device {device!r}: must be auto, cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise BadInputError("--device cuda: no CUDA GPU is visible here; use --device cpu")
    return device == "cpu"


def step_generator(seed: int, device):
    """The generator of one training step's batch index and noise, seeded by (seed, step, process)
    and living on the training device: a CUDA generator on a GPU, so those draws happen there."""
    import torch

    return torch.Generator(device=device).manual_seed(seed)


def train(
    config: VideoDiffusionConfig,
    device: str = "auto",
    *,
    resume: bool = False,
    stop_after: int | None = None,
    show_progress: bool = True,
) -> TrainResult:
    """Train the config's model to training.steps, with a checkpoint every checkpoint_every steps.

    An existing checkpoint is continued only with resume=True (the CLI's --resume), and only when
    it was made by the same model keys; when it already holds every step nothing is trained.
    Run under `accelerate launch`, every process trains on its share of each batch and the
    gradients are averaged: the same command uses one CPU, one GPU or several GPUs.
    stop_after ends this session after that many steps, as an interruption would.

    Where the work happens: the training clips are moved to the device once, as a uint8 tensor
    (data.device_clips); every step draws its batch index and its noise with a generator *on
    the device* (step_generator), indexes and scales the clips there, and the loss is read back
    to the host only at each checkpoint. Nothing crosses from the host in a step, so a GPU is not
    held back by the CPU building batches.

    Reproducibility: on the CPU this is bit for bit what a host-side loop computes (the same
    generator draws, the same batches: tests/test_pixel_video_diffusion.py checks both, and a
    checkpoint trained before this change hashed the same after it). On a GPU the draws come from
    the CUDA generator, whose stream of numbers differs from the CPU generator's for the same
    seed: a GPU run trains on other batches and noise than a CPU run, so its numbers differ (as
    its arithmetic would anyway), while two runs on the same GPU type and library versions with
    the same seed still draw the same numbers (cuDNN's nondeterministic kernels aside).
    """
    import torch
    from accelerate import Accelerator
    from diffusers.training_utils import EMAModel

    from ..runtime import progress, under_papermill
    from ..training import load_checkpoint, save_checkpoint
    from .data import device_clips, prepare_batch, training_clips
    from .diffusion import diffusion_loss, scheduler
    from .model import build_model

    cpu = wants_cpu(device)
    # bfloat16 autocast on GPUs that have it, unless `accelerate launch --mixed_precision` chose
    mixed = os.environ.get("ACCELERATE_MIXED_PRECISION") or (
        "bf16" if not cpu and torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    )
    accelerator = Accelerator(cpu=cpu, mixed_precision=mixed)
    train_cfg = config.training
    processes = accelerator.num_processes
    if train_cfg.batch_size % processes:
        raise BadInputError(
            f"training.batch_size={train_cfg.batch_size} cannot be shared by {processes} processes; "
            f"use a multiple of {processes}"
        )
    path = checkpoint_path(config)
    state = load_checkpoint(path)
    if state is not None and not resume:
        raise BadInputError(f"{path}: a checkpoint exists; pass --resume to continue it, or delete it to start over")
    if state is not None:
        _check_same_run(state, config, path)
    if state is not None and state["step"] > train_cfg.steps:
        raise BadInputError(f"{path}: holds {state['step']} steps, more than training.steps={train_cfg.steps}")
    clips = training_clips(config)
    model = build_model(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=train_cfg.learning_rate)
    # foreach: one fused update of every EMA weight per step on a GPU (the CPU keeps the per-tensor
    # update, whose rounding the CPU results were made with)
    ema = EMAModel(model.parameters(), decay=train_cfg.ema_decay, use_ema_warmup=True, power=3 / 4, foreach=not cpu)
    start, history, seconds = 0, [], 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        ema.load_state_dict(state["ema"])
        start, history, seconds = state["step"], state["history"], state["seconds"]
    model, optimiser = accelerator.prepare(model, optimiser)
    ema.to(accelerator.device)
    noise_scheduler = scheduler(config)
    per_process = train_cfg.batch_size // processes
    rank = accelerator.process_index
    n_clips = len(clips["clips"])
    data = device_clips(clips, accelerator.device)
    del clips
    end = train_cfg.steps if stop_after is None else min(train_cfg.steps, start + stop_after)

    pending: list = []  # this process's losses since the last checkpoint, still on the device

    def save(step: int) -> None:
        if pending:  # one transfer (and one reduction over processes) per checkpoint, not per step
            losses = accelerator.reduce(torch.stack(pending), "mean").float().cpu().tolist()
            history.extend({"step": step - len(losses) + 1 + i, "loss": loss} for i, loss in enumerate(losses))
            pending.clear()
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            save_checkpoint(
                path,
                {
                    "model": accelerator.unwrap_model(model).state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "ema": ema.state_dict(),
                    "step": step,
                    "history": history,
                    "seconds": seconds,
                    "config": configs.to_mapping(config),
                    "model_keys": model_keys(config),
                },
            )
        accelerator.wait_for_everyone()

    model.train()
    mark = time.perf_counter()
    bar = progress(
        range(start, end),
        desc=f"training {config.name}",
        initial=start,
        total=train_cfg.steps,
        # silent in the book's papermill run too: a widget saved into a page is a blank bar
        disable=not (show_progress and accelerator.is_local_main_process) or under_papermill(),
    )
    for step in bar:
        # each step's data and noise come from (seed, step, process): resuming needs no saved RNG
        generator = step_generator(train_cfg.seed * 1_000_003 + step * 101 + rank, accelerator.device)
        index = torch.randint(0, n_clips, (per_process,), generator=generator, device=generator.device)
        batch = prepare_batch(config, data, index, accelerator.device)
        with accelerator.autocast():
            loss = diffusion_loss(model, noise_scheduler, batch, generator, config.labels.drop_prob)
        optimiser.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        optimiser.step()
        ema.step(model.parameters())
        pending.append(loss.detach())
        if (step + 1) % train_cfg.checkpoint_every == 0 or step + 1 == end:
            now = time.perf_counter()
            seconds += now - mark
            mark = now
            save(step + 1)
    count = sum(p.numel() for p in accelerator.unwrap_model(model).parameters())
    model.eval()
    return TrainResult(
        path, max(start, end), max(0, end - start), seconds, history, count, processes, accelerator.is_main_process
    )


def load_model(config: VideoDiffusionConfig, device: str = "cpu", ema: bool = True):
    """The trained network (its EMA weights by default), in eval mode, on device."""
    from ..training import load_checkpoint
    from .model import build_model

    path = checkpoint_path(config)
    state = load_checkpoint(path)
    if state is None:
        raise BadInputError(
            f"{path}: no checkpoint; train first (python -m helpers.pixel_video_diffusion train --config ...)"
        )
    _check_same_run(state, config, path)
    model = build_model(config)
    model.load_state_dict(state["model"])
    if ema:
        from diffusers.training_utils import EMAModel

        averaged = EMAModel(model.parameters())
        averaged.load_state_dict(state["ema"])
        averaged.copy_to(model.parameters())
    return model.to(device).eval()
