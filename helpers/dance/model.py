"""The networks of chapter 08: an audio-to-pose GAN.

- `ResidualBlock`: two dilated 1D convolutions over time with a skip connection;
- `DanceGenerator`: music features, a style and a noise vector -> a pose per frame (6D joint
  rotations and the root's position), a temporal convolutional network;
- `SequenceDiscriminator`: the critic, which scores windows of joints together with their music;
- `DanceGAN`: the two in one module (one optimiser, one checkpoint);
- `pose_to_joints`, the poses through forward kinematics, and `build_gan`, which seeds the
  initial weights. Chapter 08 explains the networks and why they are built so.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import DanceConfig
from .dancer import STYLE_NAMES
from .data import DanceData, motion_to_pose
from .skeleton import forward_kinematics, sixd_to_matrix

POSE_DIMS = 24 * 6 + 3  # a 6D rotation per joint and the root's position


class ResidualBlock(nn.Module):
    """Two dilated 1D convolutions over time with a skip connection."""

    def __init__(self, width: int, dilation: int, kernel: int = 5):
        super().__init__()
        pad = dilation * (kernel - 1) // 2
        self.net = nn.Sequential(
            nn.GroupNorm(8, width),
            nn.SiLU(),
            nn.Conv1d(width, width, kernel, padding=pad, dilation=dilation),
            nn.GroupNorm(8, width),
            nn.SiLU(),
            nn.Conv1d(width, width, kernel, padding=pad, dilation=dilation),
        )

    def forward(self, x):
        return x + self.net(x)


class DanceGenerator(nn.Module):
    """Music features (B, T, 35), a style and a noise vector -> a pose per frame.

    A temporal convolutional network: dilations 1, 2, 4, ... give each output frame a view of
    several seconds of music around it. The noise vector (one per dance) lets the same music
    get different dances; the output is 6D joint rotations plus the root's position, turned
    into joints by forward kinematics, so bone lengths are fixed by construction."""

    def __init__(self, n_features: int = 35, n_styles: int = 4, width: int = 64, blocks: int = 6,
                 noise_dim: int = 16, rest_pose=None, smooth: int = 2):  # fmt: skip
        super().__init__()
        self.noise_dim = noise_dim
        self.style = nn.Embedding(n_styles, 16)
        self.inp = nn.Conv1d(n_features + 16 + noise_dim, width, 3, padding=1)
        self.blocks = nn.Sequential(*[ResidualBlock(width, 2 ** (i % 5)) for i in range(blocks)])
        self.out = nn.Sequential(nn.GroupNorm(8, width), nn.SiLU(), nn.Conv1d(width, POSE_DIMS, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)
        rest = torch.zeros(POSE_DIMS) if rest_pose is None else torch.as_tensor(rest_pose, dtype=torch.float32)
        self.register_buffer("rest_pose", rest)
        # a fixed Gaussian filter over time (sigma in frames): dancers' joints do not jitter
        taps = torch.arange(-3 * smooth, 3 * smooth + 1, dtype=torch.float32) if smooth > 0 else torch.zeros(1)
        kernel = torch.exp(-0.5 * (taps / max(smooth, 1e-6)) ** 2)
        self.register_buffer("smoothing", (kernel / kernel.sum()).expand(POSE_DIMS, 1, -1).clone())

    def forward(self, features, style, noise):
        frames = features.shape[1]
        cond = torch.cat([self.style(style), noise], dim=-1)[:, :, None].expand(-1, -1, frames)
        x = self.inp(torch.cat([features.transpose(1, 2), cond], dim=1))
        y = self.out(self.blocks(x))
        pad = self.smoothing.shape[-1] // 2
        y = F.conv1d(F.pad(y, (pad, pad), mode="replicate"), self.smoothing.to(y.dtype), groups=POSE_DIMS)
        return (y.transpose(1, 2) + self.rest_pose).float()


class SequenceDiscriminator(nn.Module):
    """Real or generated? Sees a window of poses (root-relative joints and their velocities)
    together with its music, and scores every stretch of ~1 s (strided convolutions)."""

    def __init__(self, n_features: int = 35, width: int = 64):
        super().__init__()
        act = nn.LeakyReLU(0.2)
        # spectral normalisation keeps the critic smooth, which keeps the game stable
        sn = nn.utils.parametrizations.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv1d(72 * 2 + n_features, width, 5, padding=2)),
            act,
            sn(nn.Conv1d(width, width * 2, 4, stride=2, padding=1)),
            act,
            sn(nn.Conv1d(width * 2, width * 2, 4, stride=2, padding=1)),
            act,
            sn(nn.Conv1d(width * 2, 1, 3, padding=1)),
        )

    def forward(self, joints, features):
        rel = joints - joints[:, :, :1] * joints.new_tensor([1.0, 0.0, 1.0])
        vel = torch.diff(joints, dim=1, prepend=joints[:, :1])
        x = torch.cat([rel.flatten(2), vel.flatten(2) * 10, features], dim=-1)
        return self.net(x.transpose(1, 2)).squeeze(1)


class DanceGAN(nn.Module):
    """The generator and its critic in one module: one optimiser and one checkpoint hold both."""

    def __init__(self, generator: DanceGenerator, discriminator: SequenceDiscriminator):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator


def pose_to_joints(pose):
    """(B, T, 147) generator output -> joints (B, T, 24, 3) through forward kinematics."""
    rot = sixd_to_matrix(pose[..., :144].reshape(*pose.shape[:-1], 24, 6))
    return forward_kinematics(rot, pose[..., 144:])


def build_gan(data: DanceData, config: DanceConfig, seed: int | None = None) -> DanceGAN:
    """The generator and the critic, their initial weights drawn from `seed` (default
    `config.seed`) without touching the global random state; the generator starts at the mean
    training pose."""
    rest = np.concatenate([motion_to_pose(c.motion) for c in data.of("train")]).mean(axis=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed if seed is None else seed)
        generator = DanceGenerator(35, len(STYLE_NAMES), config.width, config.blocks, config.noise_dim, rest)
        discriminator = SequenceDiscriminator(35, config.width)
    return DanceGAN(generator, discriminator)
