"""The baselines chapter 08 sets beside its generator: real poses in random order, and retrieval
of the training dance whose music is nearest. Chapter 08 explains what each one tells.
"""

from __future__ import annotations

import numpy as np

from .data import DanceData
from .skeleton import Motion


def random_poses(data: DanceData, frames: int, seed: int) -> Motion:
    """Real poses in random order: each frame a pose drawn from any training dance."""
    rng = np.random.default_rng(seed)
    train = data.of("train")
    picks = [(rng.integers(len(train)), rng.integers(len(train[0].motion))) for _ in range(frames)]
    rot = np.stack([train[c].motion.rotations[f] for c, f in picks])
    trans = np.stack([train[c].motion.translation[f] for c, f in picks])
    return Motion(rot, trans, data.config.fps, "", "random poses")


def retrieve(data: DanceData, features: np.ndarray, style: str | None = None) -> Motion:
    """Retrieval: the training dance whose music is nearest (mean and spread of each normalised
    feature, and the beat rate) to the given music, cut or looped to its length."""

    def summary(f: np.ndarray) -> np.ndarray:
        z = data.normalised(f)
        return np.concatenate([z.mean(0), z.std(0)])

    train = [c for c in data.of("train") if style is None or c.style == style]
    target = summary(features)
    best = min(train, key=lambda c: float(np.linalg.norm(summary(c.music.features) - target)))
    index = np.arange(len(features)) % len(best.motion)
    m = best.motion
    return Motion(m.rotations[index], m.translation[index], m.fps, best.style, f"retrieved: {best.name}")
