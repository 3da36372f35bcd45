"""The training clips of a pixel-space video diffusion model (chapter 06): labelled bouncing
shapes, the course's training shots, both, or a folder of extracted frames; the low-resolution
input of the upsampler; one batch of tensors for a training step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import clip_span, clip_windows
from ..errors import BadInputError
from ..tensors import clips_to_tensor
from .config import VideoDiffusionConfig


def training_clips(config: VideoDiffusionConfig) -> dict[str, np.ndarray]:
    """Every training clip the config describes: 'clips' (N, X, S, S, 3) uint8, plus 'classes'
    (N, X) and 'vectors' (N, X, 2) for the shapes. The upsampler's clips are at data.size; it
    makes its low-resolution inputs itself."""
    data = config.data
    frames, skip, size = data.frames, data.skip, data.size
    span = clip_span(frames, skip)
    keep = np.arange(0, span, skip + 1)
    if data.source == "shapes":
        from ..datasets import labelled_shapes

        video, classes, vectors = labelled_shapes(data.sequences, frames=span, size=size, seed=config.training.seed)
        return {"clips": video[:, keep], "classes": classes[:, keep], "vectors": vectors[:, keep]}
    if data.source in ("course", "mixed"):
        from ..datasets import course_frames, course_split, unit_runs

        video, units = course_frames(size)
        runs = unit_runs(units, course_split(units)["train"]).values()
    else:
        video, runs = folder_frames(Path(data.folder), size)
    try:
        windows = clip_windows(dict(enumerate(runs)), frames, skip)
    except BadInputError:
        raise BadInputError(
            f"data: no shot holds {span} frames (data.frames={frames}, data.skip={skip}); "
            "ask for fewer frames or a smaller skip"
        ) from None
    clips = video[windows]
    if data.source == "mixed":
        from ..datasets import labelled_shapes

        shapes, _, _ = labelled_shapes(data.sequences, frames=span, size=size, seed=config.training.seed)
        clips = np.concatenate([clips, shapes[:, keep]])
    return {"clips": clips}


def folder_frames(folder: Path, size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The frames a `python -m helpers.frames extract` folder lists, resized to size x size, as one run."""
    from PIL import Image

    meta_path = folder / "frames.json"
    if not meta_path.is_file():
        raise BadInputError(f"{folder}: no frames.json; write the folder with `python -m helpers.frames extract`")
    meta = json.loads(meta_path.read_text())
    images = []
    for entry in meta["frames"]:
        file = folder / entry["file"]
        try:
            image = Image.open(file).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
        except (OSError, ValueError) as exc:
            raise BadInputError(f"{file}: cannot be read as an image ({exc})") from exc
        images.append(np.asarray(image))
    if not images:
        raise BadInputError(f"{folder}: frames.json lists no frames")
    return np.stack(images), [np.arange(len(images))]


def low_resolution(clips, low_size: int):
    """What the upsampler starts from: the clip shrunk to low_size (area average) and brought
    back to full size with bicubic interpolation. Returns (low, bicubic), both float tensors."""
    import torch.nn.functional as F

    n, c, t, h, w = clips.shape
    flat = clips.transpose(1, 2).reshape(n * t, c, h, w)
    low = F.interpolate(flat, size=(low_size, low_size), mode="area")
    low = low.reshape(n, t, c, low_size, low_size).transpose(1, 2)
    return low, bicubic(low, h)


def bicubic(low, size: int):
    """Upscale a low-resolution clip (N, C, X, h, w) to size with bicubic interpolation."""
    import torch.nn.functional as F

    n, c, t, h, w = low.shape
    flat = low.transpose(1, 2).reshape(n * t, c, h, w)
    up = F.interpolate(flat, size=(size, size), mode="bicubic", align_corners=False).clamp(-1, 1)
    return up.reshape(n, t, c, size, size).transpose(1, 2)


def prepare_batch(config: VideoDiffusionConfig, data: dict[str, Any], index, device):
    """Tensors for one batch: clips in [-1, 1] (the upsampler's: high-res residual over bicubic,
    plus its bicubic input), labels when the model has them."""
    import torch

    clips = clips_to_tensor(data["clips"][index]).to(device)
    batch: dict[str, Any] = {}
    if config.kind == "upsampler":
        _, up = low_resolution(clips, config.data.low_size)
        batch["clips"] = (clips - up).clamp(-1, 1)
        batch["low"] = up
    else:
        batch["clips"] = clips
    if config.labels.classes:
        batch["classes"] = torch.from_numpy(np.ascontiguousarray(data["classes"][index])).long().to(device)
    if config.labels.vector_dim:
        batch["vectors"] = torch.from_numpy(np.ascontiguousarray(data["vectors"][index])).float().to(device)
    return batch
