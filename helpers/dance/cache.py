"""Chapter 08's trained model, cached under build/dance/ for `predict` and `evaluate`:
`trained_model` runs every stage (data, search, the final GAN) resuming each, and `save_model`
keeps the generator's weights with what `predict` needs to use them. Chapter 08 explains the
stages.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from ..runtime import atomic_path, build_dir
from .config import DATA_KNOBS, GAN_KNOBS, DanceConfig
from .data import DanceData, build_data
from .model import DanceGAN
from .search import search, study_file, study_storage, tuned
from .train import train_gan


def model_dir(config: DanceConfig) -> Path:
    """The folder of the trained model for these data and GAN settings."""
    return build_dir("dance", f"model-{config.key(*DATA_KNOBS, *GAN_KNOBS)}")


def save_model(gan: DanceGAN, data: DanceData, config: DanceConfig) -> Path:
    """The generator's weights and what `predict` needs to use it, in one folder."""
    folder = model_dir(config)
    with atomic_path(folder / "generator.pt") as tmp:
        torch.save(gan.generator.state_dict(), tmp)
    info = {
        "config": asdict(config),
        "feature_mean": data.feature_mean.tolist(),
        "feature_std": data.feature_std.tolist(),
    }
    with atomic_path(folder / "model.json") as tmp:
        tmp.write_text(json.dumps(info, indent=1))
    return folder


def trained_model(
    config: DanceConfig, *, device: str = "cpu", storage: str | None = None
) -> tuple[DanceGAN, DanceData, DanceConfig]:
    """(gan, data, final config): search, then train the best settings; every stage resumes."""
    data = build_data(config)
    storage = storage or study_storage(study_file(config))
    study = search(data, config, storage, device=device, trial_dir=build_dir("dance", "trials"))
    final = tuned(config, study)
    gan, _ = train_gan(data, final, model_dir(final) / "checkpoint.pt", device=device)
    save_model(gan, data, final)
    return gan, data, final
