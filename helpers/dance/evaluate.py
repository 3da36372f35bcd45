"""Scoring chapter 08's dances: `evaluate_motions` (FID_k, FID_g, Div_k, Div_g, BAS, PFC of a set
of dances against real ones), `validation_score`, what the search minimises, and `benchmark`,
the generator and every baseline on the test pieces. Chapter 08 explains the scores.
"""

from __future__ import annotations

import time

import numpy as np

from . import metrics
from .baselines import random_poses, retrieve
from .config import DanceConfig
from .data import DanceData
from .generate import generate
from .model import build_gan
from .skeleton import Motion


def evaluate_motions(real: list[Motion], made: list[Motion], beats: list[np.ndarray],
                     fps: float, published_acceleration: bool = False) -> dict[str, float]:  # fmt: skip
    """The papers' scores (metrics.evaluate) of the dances `made` against the `real` ones."""
    return metrics.evaluate(
        [m.joints for m in real], [m.joints for m in made], beats, fps, published_acceleration=published_acceleration
    )


def validation_score(gan, data: DanceData, part: str = "val", device: str = "cpu") -> dict[str, float]:
    """The generator's scores on `part`, one dance per clip (its music, its style): the search
    minimises their FID_k on the validation pieces."""
    clips = data.of(part)
    made = [
        generate(gan.generator, data, c.music.features, c.style, seed=i, device=device) for i, c in enumerate(clips)
    ]
    gan.generator.eval()
    return evaluate_motions([c.motion for c in clips], made, [c.music.beat_frames for c in clips], data.config.fps)


BASELINES = ("generator", "untrained generator", "random poses", "retrieval", "real test dances")


def benchmark(gan, data: DanceData, config: DanceConfig, *, device: str = "cpu", published_acceleration: bool = False):
    """Every model and baseline on every test dance: one dance per test clip (its music, its
    style), scored against the real test dances. Returns (scores {name: metrics},
    motions {name: [Motion]}, the generator's frames per second)."""
    clips = data.of("test")
    real = [c.motion for c in clips]
    beats = [c.music.beat_frames for c in clips]
    started = time.perf_counter()
    made = {
        "generator": [generate(gan.generator, data, c.music.features, c.style, i, device) for i, c in enumerate(clips)]
    }
    fps = sum(len(m) for m in made["generator"]) / (time.perf_counter() - started)
    untrained = build_gan(data, config, seed=config.seed + 1).to(device).eval()
    made["untrained generator"] = [
        generate(untrained.generator, data, c.music.features, c.style, i, device) for i, c in enumerate(clips)
    ]
    made["random poses"] = [random_poses(data, len(c.motion), seed=config.seed + i) for i, c in enumerate(clips)]
    made["retrieval"] = [retrieve(data, c.music.features, c.style) for c in clips]
    made["real test dances"] = real
    scores = {
        name: evaluate_motions(real, motions, beats, config.fps, published_acceleration)
        for name, motions in made.items()
    }
    return scores, made, fps
