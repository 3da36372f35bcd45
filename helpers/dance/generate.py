"""Dances from chapter 08's trained generator: `generate` turns music features, a style and a
seed into a `Motion` standing on the floor. Chapter 08 explains it.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import BadInputError
from .dancer import STYLE_NAMES
from .data import DanceData
from .skeleton import FEET, Motion, forward_kinematics, sixd_to_matrix


def generate(generator, data: DanceData, features: np.ndarray, style: str, seed: int, device: str = "cpu") -> Motion:
    """A dance (Motion) for music features (T, 35) at the data's frame rate."""
    if style not in STYLE_NAMES:
        raise BadInputError(f"style {style!r}: choose one of {', '.join(STYLE_NAMES)}")
    noise = torch.randn(1, generator.noise_dim, generator=torch.Generator().manual_seed(seed))
    x = torch.from_numpy(data.normalised(features))[None].to(device)
    with torch.no_grad():
        pose = generator(x, torch.tensor([STYLE_NAMES.index(style)], device=device), noise.to(device))[0].cpu()
    rot = sixd_to_matrix(pose[:, :144].reshape(-1, 24, 6)).numpy()
    translation = pose[:, 144:].numpy().copy()
    joints = forward_kinematics(rot, translation)
    translation[:, 1] -= min(0.0, float(joints[:, FEET, 1].min()))  # never below the floor
    return Motion(rot, translation, data.config.fps, style, "generated")
