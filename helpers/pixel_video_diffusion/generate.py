"""Making clips with chapter 06's trained models: per-frame labels as a user types them, and
`generate`, which samples, upsamples when the config names an upsampler, and writes a GIF and
an MP4 per clip, all or nothing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import BadInputError
from .config import SHAPE_COLOURS, VideoDiffusionConfig, load_config


def parse_labels(text: str | None, config: VideoDiffusionConfig) -> np.ndarray | None:
    """'--labels' for a model with class labels: one class per frame ('0,0,1,1', names allowed:
    'red,red,blue,blue') or one for every frame ('2'). Returns (X,) int, or None."""
    if text is None:
        return None
    classes, frames = config.labels.classes, config.data.frames
    if not classes:
        raise BadInputError(f"--labels: {config.name} was trained without class labels (labels.classes is 0)")
    names = {name: i for i, name in enumerate(SHAPE_COLOURS[:classes])}
    values = []
    for item in [part.strip() for part in text.split(",")]:
        if item in names:
            values.append(names[item])
        elif item.lstrip("-").isdigit() and 0 <= int(item) < classes:
            values.append(int(item))
        else:
            raise BadInputError(f"--labels: {item!r} is not a class; use 0..{classes - 1} or {', '.join(names)}")
    if len(values) == 1:
        values *= frames
    if len(values) != frames:
        raise BadInputError(
            f"--labels: {len(values)} labels given, the model makes {frames} frames; give 1 or {frames}"
        )
    return np.asarray(values)


def parse_vectors(text: str | None, config: VideoDiffusionConfig) -> np.ndarray | None:
    """'--vectors' for a model with label vectors: 'x,y;x,y;...' one per frame, or one for all."""
    if text is None:
        return None
    dim, frames = config.labels.vector_dim, config.data.frames
    if not dim:
        raise BadInputError(f"--vectors: {config.name} was trained without label vectors (labels.vector_dim is 0)")
    rows = []
    for part in text.split(";"):
        try:
            row = [float(v) for v in part.split(",")]
        except ValueError as exc:
            raise BadInputError(f"--vectors: {part!r} is not {dim} comma-separated numbers") from exc
        if len(row) != dim or not all(math.isfinite(v) for v in row):
            raise BadInputError(f"--vectors: {part!r} must hold {dim} finite numbers")
        rows.append(row)
    if len(rows) == 1:
        rows *= frames
    if len(rows) != frames:
        raise BadInputError(
            f"--vectors: {len(rows)} vectors given, the model makes {frames} frames; give 1 or {frames}"
        )
    return np.asarray(rows, dtype=np.float32)


def generate(
    config: VideoDiffusionConfig,
    out_dir: str | Path,
    *,
    device: str = "auto",
    seed: int = 0,
    n: int = 1,
    labels: str | None = None,
    vectors: str | None = None,
    show_progress: bool = True,
) -> list[Path]:
    """Sample n clips and write sample_NN.gif and sample_NN.mp4 for each into out_dir (upsampled
    first when the config names an upsampler). Every input is checked before any work starts;
    the files appear only once all samples are made."""
    import shutil
    import tempfile

    import torch

    from ..tensors import tensor_to_clips
    from ..video import write_gif, write_mp4
    from .diffusion import sample
    from .train import load_model, wants_cpu

    if n < 1:
        raise BadInputError(f"-n {n}: must be 1 or more")
    classes = parse_labels(labels, config)
    vecs = parse_vectors(vectors, config)
    torch_device = "cpu" if wants_cpu(device) or not torch.cuda.is_available() else "cuda"
    model = load_model(config, torch_device)
    upsampler_cfg = load_config(config.upsampler) if config.upsampler else None
    upsampler = load_model(upsampler_cfg, torch_device) if upsampler_cfg else None
    if upsampler_cfg and upsampler_cfg.data.low_size != config.data.size:
        raise BadInputError(
            f"{config.upsampler}: data.low_size={upsampler_cfg.data.low_size} differs from the base model's "
            f"data.size={config.data.size}"
        )
    clips = sample(model, config, n, seed=seed, classes=classes, vectors=vecs, show_progress=show_progress)
    if upsampler is not None:
        up_classes = classes if upsampler_cfg.labels.classes else None
        up_vectors = vecs if upsampler_cfg.labels.vector_dim else None
        clips = sample(upsampler, upsampler_cfg, n, seed=seed, low=clips, classes=up_classes, vectors=up_vectors)
    frames = tensor_to_clips(clips)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fps = config.sampling.fps
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:  # every file is made in a staging folder first: a failure leaves no partial set behind
        for i, clip in enumerate(frames):
            write_gif(clip, staging / f"sample_{i:02d}.gif", fps=fps)
            write_mp4(clip, staging / f"sample_{i:02d}.mp4", fps=fps)
        written = []
        for file in sorted(staging.iterdir()):
            written.append(file.replace(out / file.name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
