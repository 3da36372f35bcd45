"""Diffusion for chapter 07's latent video U-Net: diffusers' schedulers (v-prediction, cosine
schedule), the denoising loss, and DDIM sampling with classifier-free guidance on the content."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..errors import BadInputError
from .model import LatentVideoUNet


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
