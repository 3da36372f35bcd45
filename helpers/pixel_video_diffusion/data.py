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


def device_clips(data: dict[str, np.ndarray], device) -> dict[str, Any]:
    """The training clips as tensors on `device`, made once before training: 'clips' stays uint8
    (a quarter of float32's memory), 'classes' long and 'vectors' float32. On the CPU the tensors
    share the arrays' memory (no copy); on a GPU every batch is then indexed and scaled there,
    with nothing crossing from the host in a training step."""
    import torch

    tensors: dict[str, Any] = {"clips": torch.from_numpy(np.ascontiguousarray(data["clips"])).to(device)}
    if "classes" in data:
        tensors["classes"] = torch.from_numpy(np.ascontiguousarray(data["classes"])).long().to(device)
    if "vectors" in data:
        tensors["vectors"] = torch.from_numpy(np.ascontiguousarray(data["vectors"])).float().to(device)
    return tensors


def _signed_clips(clips):
    """(N, X, S, S, 3) uint8 tensor -> (N, 3, X, S, S) float32 in [-1, 1]: the operations of
    helpers.tensors.clips_to_tensor, in the same order, so the CPU gives the same bits."""
    return clips.permute(0, 4, 1, 2, 3).float().div(255 / 2).add(-1.0)


def prepare_batch(config: VideoDiffusionConfig, data: dict[str, Any], index, device):
    """Tensors for one batch: clips in [-1, 1] (the upsampler's: high-res residual over bicubic,
    plus its bicubic input), labels when the model has them. `data` is what training_clips
    returns (NumPy arrays, indexed on the host and copied to `device`) or what device_clips
    returns (tensors already on `device`, indexed there by an index tensor on `device`)."""
    import torch

    if isinstance(data["clips"], np.ndarray):
        index = np.asarray(index.cpu() if isinstance(index, torch.Tensor) else index)
        clips = clips_to_tensor(data["clips"][index]).to(device)
        label = lambda key, kind: torch.from_numpy(np.ascontiguousarray(data[key][index])).to(kind).to(device)  # noqa: E731
    else:
        clips = _signed_clips(data["clips"][index]).to(device)
        label = lambda key, kind: data[key][index].to(kind).to(device)  # noqa: E731
    batch: dict[str, Any] = {}
    if config.kind == "upsampler":
        _, up = low_resolution(clips, config.data.low_size)
        batch["clips"] = (clips - up).clamp(-1, 1)
        batch["low"] = up
    else:
        batch["clips"] = clips
    if config.labels.classes:
        batch["classes"] = label("classes", torch.long)
    if config.labels.vector_dim:
        batch["vectors"] = label("vectors", torch.float32)
    return batch
