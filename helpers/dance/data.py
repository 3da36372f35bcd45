"""The data set of chapter 08: music21 pieces rendered at several tempos, their FACT features at
the pose frame rate, one procedural dance per style to each (`build_data`), split by piece into
train / validation / test; the poses as the generator writes them (`motion_to_pose`) and random
training windows (`batches`). Chapter 08 explains how it is made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BadInputError
from ..runtime import progress
from . import music
from .config import DanceConfig
from .dancer import STYLE_NAMES, procedural_dance
from .skeleton import Motion, matrix_to_6d


@dataclass
class DanceClip:
    """One piece of music at one tempo and one dance to it."""

    piece: str
    tempo_bpm: float
    style: str
    music: music.MusicFeatures
    motion: Motion
    beat_times: np.ndarray  # the percussion's beat grid (seconds): what the dancer danced to
    audio_seed: int

    @property
    def name(self) -> str:
        return f"{self.piece} @{self.tempo_bpm:.0f} bpm, {self.style}"


@dataclass
class DanceData:
    """Every clip, their split by piece, and the training features' mean and spread."""

    clips: list[DanceClip]
    split: dict[str, list[str]]  # train / val / test -> piece ids
    feature_mean: np.ndarray
    feature_std: np.ndarray
    config: DanceConfig

    def of(self, part: str) -> list[DanceClip]:
        return [c for c in self.clips if c.piece in self.split[part]]

    def normalised(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.feature_mean) / self.feature_std).astype(np.float32)


def piece_ids() -> list[str]:
    return [p if isinstance(p, str) else p.id for p in music.CORPUS_PIECES]


def build_data(config: DanceConfig) -> DanceData:
    """Render every piece at every tempo, extract its features at the pose frame rate, and make
    one dance per style to it (the procedural dancer, its moves on the percussion's beats).
    Train / validation / test are split by piece, so no test music is ever heard in training."""
    ids = piece_ids()[: config.pieces]
    if config.test_pieces + config.val_pieces >= len(ids):
        raise BadInputError(f"pieces {config.pieces}: need more than test_pieces + val_pieces")
    test = ids[len(ids) - config.test_pieces :]
    val = ids[len(ids) - config.test_pieces - config.val_pieces : len(ids) - config.test_pieces]
    split = {"train": [p for p in ids if p not in test + val], "val": val, "test": test}
    clips = []
    jobs = [(p, f) for p in ids for f in config.tempo_factors]
    for n, (piece, factor) in enumerate(progress(jobs, desc="rendering music and dances")):
        _, base = music.render_piece(piece, config.sample_rate, seconds=2.0, seed=config.seed)
        tempo = float(base["tempo_bpm"]) * factor
        audio, info = music.render_piece(
            piece, config.sample_rate, tempo_bpm=tempo, seconds=config.seconds, seed=config.seed + n
        )
        features = music.audio_features(audio, config.sample_rate, config.fps)
        for s, style in enumerate(STYLE_NAMES):
            motion = procedural_dance(
                np.asarray(info["beat_times"]), config.seconds, fps=config.fps, style=style,
                beats_per_bar=int(info["beats_per_bar"]), seed=config.seed * 1000 + n * 10 + s,
            )  # fmt: skip
            clips.append(
                DanceClip(piece, tempo, style, features, motion, np.asarray(info["beat_times"]), config.seed + n)
            )
    train_features = np.concatenate([c.music.features for c in clips if c.piece in split["train"]])
    mean, std = train_features.mean(axis=0), train_features.std(axis=0) + 1e-6
    return DanceData(clips, split, mean.astype(np.float32), std.astype(np.float32), config)


def clip_audio(clip: DanceClip, config: DanceConfig) -> np.ndarray:
    """The audio of a data set clip (music.render_piece's cache makes this instant)."""
    audio, _ = music.render_piece(
        clip.piece, config.sample_rate, tempo_bpm=clip.tempo_bpm, seconds=config.seconds, seed=clip.audio_seed
    )
    return audio


def motion_to_pose(motion: Motion) -> np.ndarray:
    return np.concatenate([matrix_to_6d(motion.rotations).reshape(len(motion), -1), motion.translation], axis=1).astype(
        np.float32
    )


def batches(data: DanceData, config: DanceConfig, part: str = "train", device: str = "cpu"):
    """batch_fn for helpers.training.fit: random windows of `config.window` frames."""
    import torch

    clips = data.of(part)
    features = torch.from_numpy(np.stack([data.normalised(c.music.features) for c in clips]))
    poses = torch.from_numpy(np.stack([motion_to_pose(c.motion) for c in clips]))
    joints = torch.from_numpy(np.stack([c.motion.joints for c in clips]).astype(np.float32))
    styles = torch.tensor([STYLE_NAMES.index(c.style) for c in clips])
    frames = features.shape[1]
    if config.window > frames:
        raise BadInputError(f"window {config.window}: longer than the clips ({frames} frames)")

    def batch_fn(generator):
        pick = torch.randint(0, len(clips), (config.batch_size,), generator=generator)
        start = torch.randint(0, frames - config.window + 1, (config.batch_size,), generator=generator)
        span = start[:, None] + torch.arange(config.window)
        rows = pick[:, None]
        noise = torch.randn(config.batch_size, config.noise_dim, generator=generator)
        out = (features[rows, span], styles[pick], noise, poses[rows, span], joints[rows, span])
        return tuple(t.to(device) for t in out)

    return batch_fn
