"""Training chapter 08's dance GAN: `gan_loss`, one step's loss for both networks at once, and
`train_gan`, which builds the GAN and trains it with helpers.training.fit (resumable from its
checkpoint). Chapter 08 explains the losses and the game.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.func import functional_call

from .. import training
from .config import DanceConfig
from .data import DanceData, batches
from .model import DanceGAN, build_gan, pose_to_joints


def gan_loss(gan, batch, config: DanceConfig) -> tuple[Any, dict[str, float]]:
    """One step's loss for both networks at once (simultaneous gradient descent):
    discriminator: hinge loss on real windows and on generated ones (detached);
    generator: fool a frozen copy of the discriminator, plus L1 reconstruction of the joints and
    rotations, and of the joints' velocities and accelerations (what makes motion smooth)."""
    features, style, noise, real_pose, real_joints = batch
    fake_pose = gan.generator(features, style, noise)
    fake_joints = pose_to_joints(fake_pose)
    d = gan.discriminator
    d_loss = F.relu(1 - d(real_joints, features)).mean() + F.relu(1 + d(fake_joints.detach(), features)).mean()
    frozen = {k: v.detach() for k, v in d.named_parameters()}
    adv = -functional_call(d, frozen, (fake_joints, features)).mean()
    rec = F.l1_loss(fake_joints, real_joints) + 0.1 * F.l1_loss(fake_pose, real_pose)
    vel = F.l1_loss(torch.diff(fake_joints, dim=1), torch.diff(real_joints, dim=1)) * config.fps
    acc = F.l1_loss(torch.diff(fake_joints, 2, dim=1), torch.diff(real_joints, 2, dim=1)) * config.fps
    g_loss = config.lambda_adv * adv + config.lambda_rec * rec + config.lambda_vel * vel + config.lambda_acc * acc
    logs = {"d": d_loss.item(), "adv": adv.item(), "rec": rec.item(), "vel": vel.item(), "acc": acc.item()}
    return g_loss + d_loss, logs


def train_gan(
    data: DanceData,
    config: DanceConfig,
    checkpoint: str | Path,
    *,
    device: str = "cpu",
    steps: int | None = None,
    desc: str = "training the dance GAN",
    stop_after: int | None = None,
) -> tuple[DanceGAN, Any]:
    """Build the GAN and train it (resuming from `checkpoint`): returns (gan, FitResult)."""
    gan = build_gan(data, config).to(device)
    optimiser = torch.optim.Adam(
        [
            {"params": gan.generator.parameters(), "lr": config.lr_g},
            {"params": gan.discriminator.parameters(), "lr": config.lr_d},
        ],
        betas=(0.5, 0.999),
    )
    run = training.fit(
        gan, optimiser, batches(data, config, device=device), lambda m, b, s: gan_loss(m, b, config),
        config.steps if steps is None else steps, checkpoint, seed=config.seed, every=50, device=device,
        amp=False, desc=desc, stop_after=stop_after,
    )  # fmt: skip
    gan.eval()
    return gan, run
