"""Diffusion for chapter 06's U-Net: diffusers' noise schedulers, the training loss, and sampling
with classifier-free guidance (DDPM's ancestral steps or DDIM's few deterministic ones)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..errors import BadInputError
from .config import VideoDiffusionConfig
from .data import bicubic


def scheduler(config: VideoDiffusionConfig, sampler: str = "ddpm"):
    """The diffusers noise scheduler: DDPM for training and ancestral sampling, DDIM for few steps."""
    from diffusers import DDIMScheduler, DDPMScheduler

    diffusion = config.diffusion
    kwargs = {
        "num_train_timesteps": diffusion.timesteps,
        "beta_schedule": diffusion.schedule,
        "prediction_type": diffusion.prediction,
        "clip_sample": True,
    }
    if sampler == "ddim":
        return DDIMScheduler(**kwargs, timestep_spacing="trailing")
    return DDPMScheduler(**kwargs, timestep_spacing="trailing")


def target_of(noise_scheduler, clean, noise, timesteps):
    """What the network learns to predict at these timesteps (epsilon, v or the clean clip)."""
    kind = noise_scheduler.config.prediction_type
    if kind == "epsilon":
        return noise
    if kind == "v_prediction":
        return noise_scheduler.get_velocity(clean, noise, timesteps)
    return clean


def diffusion_loss(model, noise_scheduler, batch: dict[str, Any], generator, drop_prob: float):
    """One DDPM training loss: noise every clip to a random level and predict the target that
    diffusion.prediction names (the clean clip, the noise or v)."""
    clean = batch["clips"]
    n = clean.shape[0]
    device = clean.device
    # drawn where the generator lives (the training device, see train.step_generator), then
    # moved: a no-op there, a copy only for a CPU generator with a GPU model
    where = generator.device
    noise = torch.randn(clean.shape, generator=generator, device=where).to(device)
    steps = noise_scheduler.config.num_train_timesteps
    timesteps = torch.randint(0, steps, (n,), generator=generator, device=where).to(device)
    drop = (torch.rand(n, generator=generator, device=where) < drop_prob).to(device)
    low = batch.get("low")  # upsampler: its bicubic input (the clean clip is the residual over it)
    noisy = noise_scheduler.add_noise(clean, noise, timesteps)
    prediction = model(noisy, timesteps, batch.get("classes"), batch.get("vectors"), low=low, drop=drop)
    return F.mse_loss(prediction.float(), target_of(noise_scheduler, clean, noise, timesteps).float())


def sample(
    model,
    config: VideoDiffusionConfig,
    n: int,
    *,
    seed: int = 0,
    classes=None,
    vectors=None,
    low=None,
    sampler: str | None = None,
    steps: int | None = None,
    guidance_scale: float | None = None,
    show_progress: bool = False,
):
    """Draw n clips (n, 3, X, S, S) in [-1, 1]. classes (X,) or (n, X) and vectors (X, D) or
    (n, X, D) steer each frame; guidance_scale > 1 pushes harder towards them (classifier-free
    guidance). The upsampler takes `low` (n, 3, X, s, s) and returns the sharpened clip.
    The starting noise and every sampler draw come from `seed`: same seed, same clips."""
    from ..runtime import progress, under_papermill

    sampling = config.sampling
    sampler = sampler or sampling.sampler
    steps = steps or sampling.steps
    guidance = sampling.guidance_scale if guidance_scale is None else guidance_scale
    device = next(model.parameters()).device
    size, frames = config.data.size, config.data.frames
    labelled = config.labels.classes or config.labels.vector_dim
    generator = torch.Generator().manual_seed(seed)
    noise_scheduler = scheduler(config, sampler)
    noise_scheduler.set_timesteps(steps)
    x = torch.randn((n, 3, frames, size, size), generator=generator).to(device)
    if classes is not None:
        classes = _per_clip(torch.as_tensor(classes), n, 1).long().to(device)
    if vectors is not None:
        vectors = _per_clip(torch.as_tensor(vectors), n, 2).float().to(device)
    up = bicubic(low.to(device), size) if low is not None else None
    guided = labelled and guidance != 1 and (classes is not None or vectors is not None)
    quiet = not show_progress or under_papermill()  # a widget saved into the book is a blank bar
    with torch.no_grad():
        for t in progress(noise_scheduler.timesteps, desc=f"{sampler} sampling", disable=quiet):
            timesteps = torch.full((n,), int(t), device=device)
            if guided:
                both = model(
                    torch.cat([x, x]),
                    torch.cat([timesteps, timesteps]),
                    None if classes is None else torch.cat([classes, classes]),
                    None if vectors is None else torch.cat([vectors, vectors]),
                    low=None if up is None else torch.cat([up, up]),
                    drop=torch.arange(2 * n, device=device) >= n,
                )
                conditional, unconditional = both.chunk(2)
                prediction = unconditional + guidance * (conditional - unconditional)
            else:
                prediction = model(x, timesteps, classes, vectors, low=up)
            x = noise_scheduler.step(prediction.float(), t, x, generator=generator).prev_sample
    return (up + x).clamp(-1, 1) if up is not None else x.clamp(-1, 1)


def _per_clip(labels, n: int, frame_dims: int):
    """Labels for one clip (frame_dims dimensions) repeated for n clips; labels for n clips as given."""
    if labels.dim() == frame_dims:
        return labels[None].expand(n, *labels.shape)
    if labels.dim() != frame_dims + 1 or labels.shape[0] != n:
        raise BadInputError(f"labels of shape {tuple(labels.shape)}: give one clip's labels or one row per clip ({n})")
    return labels
