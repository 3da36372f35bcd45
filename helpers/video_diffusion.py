"""Video diffusion with a factorised space-time 3D U-Net, per-frame labels and an AdaIN upsampler.

Chapter 06 explains every part; this module holds the code the chapter and the command line
share:

    python -m helpers.video_diffusion create-config --out base.yaml          (asks, or takes flags)
    python -m helpers.video_diffusion train --config base.yaml --device cpu [--resume]
    python -m helpers.video_diffusion generate --config base.yaml --device cpu --out-dir samples \\
        --seed 0 -n 4 --labels 0,0,0,0,1,1,1,1
    accelerate launch --multi_gpu --num_processes 2 -m helpers.video_diffusion train --config base.yaml

(`accelerate launch --multi_gpu` starts one process per GPU; with `--device cpu` the same command
runs its processes on the CPU, which is how the course's tests try it.)

A config is a YAML file; `SCHEMA` below documents every key, and `load_config` refuses a file
with a missing, unknown or ill-typed key in one line. Training runs under Hugging Face
Accelerate: the same command trains on one CPU, one GPU or several processes.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .datasets import LABEL_COLOURS, clip_span, clip_windows
from .errors import BadInputError, run_command

KINDS = ("base", "upsampler")
SOURCES = ("shapes", "course", "mixed", "folder")
SAMPLERS = ("ddim", "ddpm")
SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")
PREDICTIONS = ("epsilon", "v_prediction", "sample")
CHECKPOINT = "checkpoint.pt"
MAX_RELATIVE = 32  # temporal attention learns one bias per head for each distance up to this


# --- the config schema ----------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    kind: type | tuple[type, ...]
    default: Any
    doc: str
    check: Callable[[Any], str | None] | None = None  # returns what is wrong, or None
    optional: bool = False


def _at_least(low: float) -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"must be {low} or more"


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


def _one_of_int(*choices: int) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else f"must be one of {', '.join(map(str, choices))}"


def _fraction(v: float) -> str | None:
    return None if 0 <= v < 1 else "must lie in [0, 1)"


def _widths(v: list) -> str | None:
    if not v or not all(isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in v):
        return "must be a non-empty list of positive integers"
    return None


SCHEMA: dict[str, Key] = {
    "kind": Key(
        str, "base", "base (makes clips from noise) or upsampler (sharpens a low-resolution clip)", _one_of(*KINDS)
    ),
    "name": Key(str, "video-diffusion", "a name for the model, used in file names and records"),
    "output_dir": Key(str, "runs/video-diffusion", "checkpoint folder; a relative path is relative to the config file"),
    "upsampler": Key(
        (str, type(None)),
        None,
        "base only: config file of an upsampler that generate applies after sampling",
        optional=True,
    ),
    "data.source": Key(
        str,
        "shapes",
        "shapes (labelled bouncing shapes), course (the course's training shots), mixed (both) or folder",
        _one_of(*SOURCES),
    ),
    "data.folder": Key(
        (str, type(None)),
        None,
        "source folder only: frames written by `python -m helpers.frames extract`",
        optional=True,
    ),
    "data.size": Key(int, 32, "frame side in pixels the model makes", _at_least(8)),
    "data.low_size": Key(int, 16, "upsampler only: side of the low-resolution input", _at_least(4)),
    "data.frames": Key(int, 8, "frames per clip (X)", _at_least(2)),
    "data.skip": Key(
        int, 1, "frames skipped between two kept frames (M): a clip spans (X-1)*(M+1)+1 frames", _at_least(0)
    ),
    "data.sequences": Key(
        int, 512, "shapes and mixed: how many shape sequences to generate for training", _at_least(1)
    ),
    "model.width": Key(int, 32, "channels of the first level", _at_least(8)),
    "model.channel_mults": Key(
        list, [1, 2, 2], "channel multiplier per level; each level after the first halves H and W", _widths
    ),
    "model.patch": Key(
        int,
        1,
        "side of the pixel patches folded into channels before the first level (1, 2 or 4)",
        _one_of_int(1, 2, 4),
    ),
    "model.temporal_downsample": Key(bool, False, "halve the frame count too at each level (frames must then divide)"),
    "model.attention_heads": Key(int, 4, "heads of the temporal attention (0 turns it off)", _at_least(0)),
    "model.style_dim": Key(int, 64, "upsampler only: width of the mapping network's style vector", _at_least(1)),
    "labels.classes": Key(int, 0, "number of per-frame class labels (0: none)", _at_least(0)),
    "labels.vector_dim": Key(
        int, 0, "length of a per-frame label vector (0: none; 2 for a shape's x, y)", _at_least(0)
    ),
    "labels.drop_prob": Key(
        float, 0.1, "share of training clips seen without labels (classifier-free guidance)", _fraction
    ),
    "diffusion.timesteps": Key(int, 1000, "noise levels of the forward process", _at_least(2)),
    "diffusion.schedule": Key(str, "squaredcos_cap_v2", "beta schedule (a diffusers name)", _one_of(*SCHEDULES)),
    "diffusion.prediction": Key(
        str,
        "sample",
        "what the network predicts: sample (the clean clip), epsilon (the noise) or v_prediction",
        _one_of(*PREDICTIONS),
    ),
    "diffusion.data_std": Key(
        float,
        0.5,
        "spread of the clean clips in [-1, 1] (the upsampler's residuals: a few hundredths); sets the skip scale",
        lambda v: None if v > 0 else "must be above 0",
    ),
    "training.steps": Key(int, 1000, "optimiser steps", _at_least(1)),
    "training.batch_size": Key(int, 16, "clips per step over all processes", _at_least(1)),
    "training.learning_rate": Key(float, 3e-4, "AdamW learning rate", lambda v: None if v > 0 else "must be above 0"),
    "training.ema_decay": Key(float, 0.999, "decay of the exponential moving average of the weights", _fraction),
    "training.checkpoint_every": Key(int, 200, "steps between checkpoints", _at_least(1)),
    "training.seed": Key(int, 0, "seed of the data order, noise and initial weights", _at_least(0)),
    "sampling.sampler": Key(
        str, "ddim", "ddim (few deterministic steps) or ddpm (the ancestral sampler)", _one_of(*SAMPLERS)
    ),
    "sampling.steps": Key(int, 50, "denoising steps at generation", _at_least(1)),
    "sampling.guidance_scale": Key(
        float, 2.0, "classifier-free guidance: 1 is plain conditional, 0 ignores the labels", _at_least(0)
    ),
    "sampling.fps": Key(int, 8, "frame rate of the GIF and MP4 files", _at_least(1)),
}


def defaults(**overrides: Any) -> dict[str, Any]:
    """A complete config (nested dict) from the schema's defaults, with dotted-key overrides."""
    flat = {key: copy.deepcopy(spec.default) for key, spec in SCHEMA.items()}
    for key, value in overrides.items():
        key = key.replace("__", ".")
        if key not in SCHEMA:
            raise BadInputError(f"config key {key!r} is unknown; known keys: {', '.join(SCHEMA)}")
        flat[key] = value
    return _nest(flat)


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not SCHEMA.get(name):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list"}
    return " or ".join(names.get(k, "null") for k in kinds)


def check_config(config: Any, source: str = "config") -> dict[str, Any]:
    """The config with every key checked, or a BadInputError naming the first bad key and why."""
    if not isinstance(config, dict):
        raise BadInputError(f"{source}: must be a YAML mapping of keys (see `SCHEMA`), found {type(config).__name__}")
    flat = _flatten(config)
    for key in flat:
        if key not in SCHEMA:
            raise BadInputError(f"{source}: key {key!r} is unknown; known keys: {', '.join(SCHEMA)}")
    for key, spec in SCHEMA.items():
        if key not in flat:
            if spec.optional:
                flat[key] = spec.default
                continue
            raise BadInputError(f"{source}: key {key!r} is missing ({spec.doc})")
        value = flat[key]
        if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = flat[key] = float(value)
        kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise BadInputError(f"{source}: key {key!r} must be {_type_name(spec.kind)}, found {value!r}")
        problem = spec.check(value) if spec.check and value is not None else None
        if problem:
            raise BadInputError(f"{source}: key {key!r}={value!r} {problem}")
    _check_together(flat, source)
    return _nest(flat)


def _check_together(flat: dict[str, Any], source: str) -> None:
    levels = len(flat["model.channel_mults"])
    factor = 2 ** (levels - 1)
    size, frames = flat["data.size"], flat["data.frames"]
    if size % (factor * flat["model.patch"]):
        raise BadInputError(
            f"{source}: data.size={size} cannot be cut into {flat['model.patch']}-pixel patches and halved "
            f"{levels - 1} times by the U-Net's {levels} levels; use a multiple of {factor * flat['model.patch']}"
        )
    if flat["model.temporal_downsample"] and frames % factor:
        raise BadInputError(
            f"{source}: data.frames={frames} cannot be halved {levels - 1} times by the U-Net's "
            f"{levels} levels (model.temporal_downsample is on); use a multiple of {factor}"
        )
    heads = flat["model.attention_heads"]
    if heads and flat["model.width"] % heads:
        raise BadInputError(
            f"{source}: model.width={flat['model.width']} must be a multiple of model.attention_heads={heads}"
        )
    if flat["model.width"] % 8:
        raise BadInputError(
            f"{source}: model.width={flat['model.width']} must be a multiple of 8 (group normalisation)"
        )
    if flat["data.source"] == "folder" and not flat["data.folder"]:
        raise BadInputError(f"{source}: data.folder is needed when data.source is 'folder'")
    if flat["data.source"] != "shapes" and (flat["labels.classes"] or flat["labels.vector_dim"]):
        raise BadInputError(
            f"{source}: labels.classes and labels.vector_dim must be 0 for data.source "
            f"{flat['data.source']!r}: only the shapes have per-frame labels"
        )
    from .datasets import SHAPES_TEST_SEED

    if flat["data.source"] in ("shapes", "mixed") and flat["training.seed"] == SHAPES_TEST_SEED:
        raise BadInputError(f"{source}: training.seed={SHAPES_TEST_SEED} draws the held-out shapes; use another seed")
    if flat["data.source"] == "shapes" and flat["labels.classes"] not in (0, len(SHAPE_COLOURS)):
        raise BadInputError(f"{source}: labels.classes must be 0 or {len(SHAPE_COLOURS)} (the shapes' colours)")
    if flat["data.source"] == "shapes" and flat["labels.vector_dim"] not in (0, 2):
        raise BadInputError(f"{source}: labels.vector_dim must be 0 or 2 (the shape's x, y) for the shapes")
    if flat["kind"] == "upsampler":
        low = flat["data.low_size"]
        if low >= size or size % low:
            raise BadInputError(f"{source}: data.low_size={low} must divide data.size={size} and be smaller")
        if flat["upsampler"]:
            raise BadInputError(f"{source}: upsampler is a base-model key; an upsampler config cannot name one")


SHAPE_COLOURS = tuple(LABEL_COLOURS)  # the shapes' class ids 0..3 name these colours


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and check a YAML config; relative paths in it are made relative to its folder."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        reason = str(exc).replace("\n", " ")
        raise BadInputError(f"{path}: not valid YAML ({reason})") from exc
    config = check_config(raw, str(path))
    for key in ("output_dir", "upsampler"):
        if config.get(key) and not Path(config[key]).is_absolute():
            config[key] = str((path.parent / config[key]).resolve())
    if config["data"].get("folder") and not Path(config["data"]["folder"]).is_absolute():
        config["data"]["folder"] = str((path.parent / config["data"]["folder"]).resolve())
    return config


def write_config(config: dict[str, Any], path: str | Path, overwrite: bool = False) -> Path:
    """Check a config and write it as YAML with a comment line per key (the schema's doc)."""
    from .runtime import atomic_write_bytes

    path = Path(path)
    config = check_config(config, str(path))
    if path.exists() and not overwrite:
        raise BadInputError(f"{path}: exists already; pass --overwrite to replace it")
    atomic_write_bytes(path, render_config(config).encode())
    return path


def render_config(config: dict[str, Any]) -> str:
    import yaml

    lines = ["# video diffusion config: python -m helpers.video_diffusion --help explains each command"]
    section = None
    for key, value in _flatten(config).items():
        head, _, leaf = key.rpartition(".")
        if head != section and head:
            lines.append(f"{head}:")
        section = head
        indent = "  " if head else ""
        text = yaml.safe_dump({leaf: value}, default_flow_style=True).strip()[1:-1]
        lines.append(f"{indent}{text}  # {SCHEMA[key].doc}")
    return "\n".join(lines) + "\n"


# --- data ----------------------------------------------------------------------------------


def training_clips(config: dict[str, Any]) -> dict[str, np.ndarray]:
    """Every training clip the config describes: 'clips' (N, X, S, S, 3) uint8, plus 'classes'
    (N, X) and 'vectors' (N, X, 2) for the shapes. The upsampler's clips are at data.size; it
    makes its low-resolution inputs itself."""
    data = config["data"]
    frames, skip, size = data["frames"], data["skip"], data["size"]
    span = clip_span(frames, skip)
    keep = np.arange(0, span, skip + 1)
    if data["source"] == "shapes":
        from .datasets import labelled_shapes

        video, classes, vectors = labelled_shapes(
            data["sequences"], frames=span, size=size, seed=config["training"]["seed"]
        )
        return {"clips": video[:, keep], "classes": classes[:, keep], "vectors": vectors[:, keep]}
    if data["source"] in ("course", "mixed"):
        from .datasets import course_frames, course_split, unit_runs

        video, units = course_frames(size)
        runs = unit_runs(units, course_split(units)["train"]).values()
    else:
        video, runs = _folder_frames(Path(data["folder"]), size)
    try:
        windows = clip_windows(dict(enumerate(runs)), frames, skip)
    except BadInputError:
        raise BadInputError(
            f"data: no shot holds {span} frames (data.frames={frames}, data.skip={skip}); "
            "ask for fewer frames or a smaller skip"
        ) from None
    clips = video[windows]
    if data["source"] == "mixed":
        from .datasets import labelled_shapes

        shapes, _, _ = labelled_shapes(data["sequences"], frames=span, size=size, seed=config["training"]["seed"])
        clips = np.concatenate([clips, shapes[:, keep]])
    return {"clips": clips}


def _folder_frames(folder: Path, size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    import json

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


def to_tensor(clips: np.ndarray):
    """(N, X, H, W, 3) uint8 -> (N, 3, X, H, W) float in [-1, 1]."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(clips)).permute(0, 4, 1, 2, 3).float().div(127.5).sub(1)


def to_frames(tensor) -> np.ndarray:
    """(N, 3, X, H, W) float in [-1, 1] -> (N, X, H, W, 3) uint8."""
    array = tensor.detach().float().clamp(-1, 1).add(1).mul(127.5).round().byte().cpu().numpy()
    return array.transpose(0, 2, 3, 4, 1)


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


# --- the network -------------------------------------------------------------------------


def _torch_modules():
    """The network classes, built on first use so that `--help` needs no torch import."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def frame_conv(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Apply a 2D convolution to every frame of x (B, C, T, H, W)."""
        b, c, t, h, w = x.shape
        y = conv(x.transpose(1, 2).reshape(b * t, c, h, w))
        return y.reshape(b, t, *y.shape[1:]).transpose(1, 2)

    def time_conv(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Apply a 1D convolution along time at every pixel of x (B, C, T, H, W)."""
        b, c, t, h, w = x.shape
        y = conv(x.permute(0, 3, 4, 1, 2).reshape(b * h * w, c, t))
        return y.reshape(b, h, w, c, t).permute(0, 3, 4, 1, 2)

    class AdaIN(nn.Module):
        """Adaptive instance normalisation (StyleGAN): normalise each frame's channels, then
        scale and shift them by amounts a style vector decides."""

        def __init__(self, channels: int, style_dim: int):
            super().__init__()
            self.affine = nn.Linear(style_dim, 2 * channels)
            nn.init.zeros_(self.affine.weight)
            nn.init.zeros_(self.affine.bias)

        def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
            # x (B, C, T, H, W); style (B, T, style_dim): one style per frame
            mean = x.mean(dim=(3, 4), keepdim=True)
            std = x.var(dim=(3, 4), keepdim=True, unbiased=False).add(1e-5).sqrt()
            scale, shift = self.affine(style).transpose(1, 2).chunk(2, dim=1)  # (B, C, T) each
            return (x - mean) / std * (1 + scale[..., None, None]) + shift[..., None, None]

    class ResBlock(nn.Module):
        """Factorised space-time residual block: a 2D convolution on every frame, the frame's
        embedding added (and in the upsampler, every normalisation is AdaIN with the frame's
        style), a second 2D convolution, then a 1D convolution across time."""

        def __init__(self, cin: int, cout: int, emb_dim: int, adain: bool):
            super().__init__()
            self.adain = adain
            self.norm1 = AdaIN(cin, emb_dim) if adain else nn.GroupNorm(8, cin)
            self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
            self.emb = nn.Linear(emb_dim, cout)
            self.norm2 = AdaIN(cout, emb_dim) if adain else nn.GroupNorm(8, cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
            self.norm_t = nn.GroupNorm(8, cout)
            self.conv_t = nn.Conv1d(cout, cout, 3, padding=1)
            nn.init.zeros_(self.conv_t.weight)  # starts as an image block: time mixing is learned
            nn.init.zeros_(self.conv_t.bias)
            self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

        def _norm(self, norm: nn.Module, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
            return norm(x, emb) if self.adain else norm(x)

        def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
            # emb (B, T, emb_dim): the noise level plus this frame's labels
            h = frame_conv(self.conv1, F.silu(self._norm(self.norm1, x, emb)))
            h = h + self.emb(emb).transpose(1, 2)[..., None, None]
            h = frame_conv(self.conv2, F.silu(self._norm(self.norm2, h, emb)))
            h = h + frame_conv(self.skip, x)
            return h + time_conv(self.conv_t, F.silu(self.norm_t(h)))

    class TemporalAttention(nn.Module):
        """Every pixel's features attend over the clip's frames, with a learned bias per head for
        each relative distance (frames that are k apart), clipped at MAX_RELATIVE."""

        def __init__(self, channels: int, heads: int):
            super().__init__()
            self.heads = heads
            self.norm = nn.GroupNorm(8, channels)
            self.qkv = nn.Linear(channels, 3 * channels)
            self.out = nn.Linear(channels, channels)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)
            self.relative = nn.Parameter(torch.zeros(heads, 2 * MAX_RELATIVE + 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, c, t, h, w = x.shape
            tokens = self.norm(x).permute(0, 3, 4, 2, 1).reshape(b * h * w, t, c)
            q, k, v = self.qkv(tokens).reshape(b * h * w, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
            position = torch.arange(t, device=x.device)
            distance = (position[None, :] - position[:, None]).clamp(-MAX_RELATIVE, MAX_RELATIVE) + MAX_RELATIVE
            bias = self.relative[:, distance]  # (heads, T, T)
            mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype))
            mixed = mixed.transpose(1, 2).reshape(b * h * w, t, c)
            out = self.out(mixed).reshape(b, h, w, t, c).permute(0, 4, 3, 1, 2)
            return x + out

    class Level(nn.Module):
        def __init__(self, cin: int, cout: int, emb_dim: int, adain: bool, heads: int):
            super().__init__()
            self.block = ResBlock(cin, cout, emb_dim, adain)
            self.attention = TemporalAttention(cout, heads) if heads else None

        def forward(self, x, emb):
            x = self.block(x, emb)
            return self.attention(x) if self.attention is not None else x

    def sinusoidal(t: torch.Tensor, dim: int) -> torch.Tensor:
        half = dim // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
        angles = t.float()[:, None] * freqs[None]
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    class VideoUNet(nn.Module):
        """A 3D U-Net over clips (B, C, T, H, W), factorised into per-frame 2D convolutions,
        temporal convolutions and temporal attention. Each frame gets an embedding: the noise
        level, plus its class label and/or label vector when the model has them (a learned
        "no label" stands in for dropped labels: classifier-free guidance). With `adain` (the
        upsampler) a mapping network turns that embedding into a style vector that modulates
        every block through AdaIN, and the low-resolution clip is concatenated to the input."""

        def __init__(self, config: dict[str, Any]):
            super().__init__()
            model, labels = config["model"], config["labels"]
            self.upsampler = config["kind"] == "upsampler"
            self.classes, self.vector_dim = labels["classes"], labels["vector_dim"]
            self.temporal_downsample = model["temporal_downsample"]
            width, mults, heads = model["width"], model["channel_mults"], model["attention_heads"]
            emb_dim = 4 * width
            self.time_dim = width
            self.time_mlp = nn.Sequential(nn.Linear(width, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
            if self.classes:
                self.class_emb = nn.Embedding(self.classes + 1, emb_dim)  # the last row: no label
            if self.vector_dim:
                self.vector_mlp = nn.Sequential(
                    nn.Linear(self.vector_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
                )
                self.no_vector = nn.Parameter(torch.zeros(emb_dim))
            if self.upsampler:
                style = model["style_dim"]
                layers: list[nn.Module] = [nn.Linear(emb_dim, style), nn.SiLU()]
                for _ in range(3):
                    layers += [nn.Linear(style, style), nn.SiLU()]
                self.mapping = nn.Sequential(*layers[:-1])
                emb_dim = style
            self.patch = model["patch"]
            in_channels = (6 if self.upsampler else 3) * self.patch**2
            self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
            channels = [width * m for m in mults]
            self.down = nn.ModuleList()
            self.downsample = nn.ModuleList()
            cin = width
            for level, cout in enumerate(channels):
                self.down.append(Level(cin, cout, emb_dim, self.upsampler, heads if level > 0 else 0))
                cin = cout
                if level < len(channels) - 1:
                    self.downsample.append(nn.Conv2d(cout, cout, 3, stride=2, padding=1))
            self.middle = Level(cin, cin, emb_dim, self.upsampler, heads)
            self.middle2 = ResBlock(cin, cin, emb_dim, self.upsampler)
            self.up = nn.ModuleList()
            self.upsample = nn.ModuleList()
            for level in reversed(range(len(channels))):
                cout = channels[level]
                self.up.append(Level(cin + cout, cout, emb_dim, self.upsampler, heads if level > 0 else 0))
                cin = cout
                if level > 0:
                    self.upsample.append(nn.Conv2d(cout, channels[level - 1], 3, padding=1))
                    cin = channels[level - 1]
            self.head = nn.Sequential(nn.GroupNorm(8, cin), nn.SiLU(), nn.Conv2d(cin, 3 * self.patch**2, 3, padding=1))
            self.prediction = config["diffusion"]["prediction"]
            self.data_std = config["diffusion"]["data_std"]
            alphas = scheduler(config).alphas_cumprod.float()
            self.register_buffer("alphas_cumprod", alphas, persistent=False)
            nn.init.zeros_(self.head[-1].weight)
            nn.init.zeros_(self.head[-1].bias)

        def frame_embedding(self, t, frames: int, classes=None, vectors=None, drop=None):
            """(B, T, emb_dim): noise level + labels for every frame. drop (B,) bool hides the
            labels of those clips (training dropout; the unconditional half of guidance)."""
            emb = self.time_mlp(sinusoidal(t, self.time_dim))[:, None].expand(-1, frames, -1)
            batch = emb.shape[0]
            if drop is None:
                drop = torch.zeros(batch, dtype=torch.bool, device=emb.device)
            hide = drop[:, None, None]
            if self.classes:
                if classes is None:
                    classes = torch.full((batch, frames), self.classes, device=emb.device)
                classes = torch.where(drop[:, None], torch.full_like(classes, self.classes), classes)
                emb = emb + self.class_emb(classes)
            if self.vector_dim:
                if vectors is None:
                    vectors, hide = (
                        torch.zeros(batch, frames, self.vector_dim, device=emb.device),
                        torch.ones_like(hide),
                    )
                emb = emb + torch.where(hide, self.no_vector.expand(batch, frames, -1), self.vector_mlp(vectors))
            return self.mapping(emb) if self.upsampler else emb

        def skip_scale(self, t):
            """The best linear guess of the target from the noisy input alone, for data of
            variance data_std**2 (EDM's c_skip): the network adds only what that guess misses."""
            a = self.alphas_cumprod.to(t.device)[t].view(-1, 1, 1, 1, 1)
            s2 = self.data_std**2
            denominator = a * s2 + 1 - a
            if self.prediction == "epsilon":
                return (1 - a).sqrt() / denominator
            if self.prediction == "sample":
                return a.sqrt() * s2 / denominator
            return (a * (1 - a)).sqrt() * (1 - s2) / denominator

        def forward(self, x, t, classes=None, vectors=None, low=None, drop=None):
            noisy = x
            if self.upsampler:
                x = torch.cat([x, low], dim=1)
            emb = self.frame_embedding(t, x.shape[2], classes, vectors, drop)
            if self.patch > 1:  # fold p x p pixel patches into channels: the U-Net runs p times smaller
                x = frame_conv(nn.PixelUnshuffle(self.patch), x)
            h = frame_conv(self.stem, x)
            skips, embs = [], [emb]
            for level, block in enumerate(self.down):
                h = block(h, embs[-1])
                skips.append(h)
                if level < len(self.downsample):
                    h = frame_conv(self.downsample[level], h)
                    if self.temporal_downsample:
                        h = F.avg_pool3d(h, (2, 1, 1))
                        embs.append(F.avg_pool1d(embs[-1].transpose(1, 2), 2).transpose(1, 2))
            h = self.middle2(self.middle(h, embs[-1]), embs[-1])
            for i, block in enumerate(self.up):
                h = block(torch.cat([h, skips.pop()], dim=1), embs[-1])
                if i < len(self.upsample):
                    scale = (2, 2, 2) if self.temporal_downsample else (1, 2, 2)
                    h = frame_conv(self.upsample[i], F.interpolate(h, scale_factor=scale, mode="nearest"))
                    if self.temporal_downsample:
                        embs.pop()
            out = frame_conv(self.head, h)
            out = frame_conv(nn.PixelShuffle(self.patch), out) if self.patch > 1 else out
            return out + self.skip_scale(t) * noisy

    return {"VideoUNet": VideoUNet, "ResBlock": ResBlock, "TemporalAttention": TemporalAttention, "AdaIN": AdaIN}


_MODULES: dict[str, Any] = {}


def modules() -> dict[str, Any]:
    """The network classes: VideoUNet, ResBlock, TemporalAttention, AdaIN."""
    if not _MODULES:
        _MODULES.update(_torch_modules())
    return _MODULES


def build_model(config: dict[str, Any]):
    """The config's network, with its initial weights drawn from training.seed."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config["training"]["seed"])
        return modules()["VideoUNet"](config)


def scheduler(config: dict[str, Any], sampler: str = "ddpm"):
    """The diffusers noise scheduler: DDPM for training and ancestral sampling, DDIM for few steps."""
    from diffusers import DDIMScheduler, DDPMScheduler

    diffusion = config["diffusion"]
    kwargs = {
        "num_train_timesteps": diffusion["timesteps"],
        "beta_schedule": diffusion["schedule"],
        "prediction_type": diffusion["prediction"],
        "clip_sample": True,
    }
    if sampler == "ddim":
        return DDIMScheduler(**kwargs, timestep_spacing="trailing")
    return DDPMScheduler(**kwargs, timestep_spacing="trailing")


def target_of(noise_scheduler, clean, noise, timesteps):
    """What the network learns to predict at these timesteps (epsilon, v or the clean clip)."""
    kind = noise_scheduler.config.prediction_type
    if kind == "epsilon":
        return noise
    if kind == "v_prediction":
        return noise_scheduler.get_velocity(clean, noise, timesteps)
    return clean


def diffusion_loss(model, noise_scheduler, batch: dict[str, Any], generator, drop_prob: float):
    """One DDPM training loss: noise every clip to a random level and predict the target that
    diffusion.prediction names (the clean clip, the noise or v)."""
    import torch
    import torch.nn.functional as F

    clean = batch["clips"]
    n = clean.shape[0]
    device = clean.device
    noise = torch.randn(clean.shape, generator=generator).to(device)
    timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (n,), generator=generator).to(device)
    drop = (torch.rand(n, generator=generator) < drop_prob).to(device)
    low = batch.get("low")  # upsampler: its bicubic input (the clean clip is the residual over it)
    noisy = noise_scheduler.add_noise(clean, noise, timesteps)
    prediction = model(noisy, timesteps, batch.get("classes"), batch.get("vectors"), low=low, drop=drop)
    return F.mse_loss(prediction.float(), target_of(noise_scheduler, clean, noise, timesteps).float())


def prepare_batch(config: dict[str, Any], data: dict[str, Any], index, device):
    """Tensors for one batch: clips in [-1, 1] (the upsampler's: high-res residual over bicubic,
    plus its bicubic input), labels when the model has them."""
    clips = to_tensor(data["clips"][index]).to(device)
    batch: dict[str, Any] = {}
    if config["kind"] == "upsampler":
        _, up = low_resolution(clips, config["data"]["low_size"])
        batch["clips"] = (clips - up).clamp(-1, 1)
        batch["low"] = up
    else:
        batch["clips"] = clips
    if config["labels"]["classes"]:
        batch["classes"] = _as_torch(data["classes"][index]).long().to(device)
    if config["labels"]["vector_dim"]:
        batch["vectors"] = _as_torch(data["vectors"][index]).float().to(device)
    return batch


def _as_torch(array):
    import torch

    return torch.from_numpy(np.ascontiguousarray(array))


# --- training under Accelerate -------------------------------------------------------------


@dataclass
class TrainResult:
    checkpoint: Path
    steps: int  # steps the checkpoint holds now
    steps_run: int  # steps trained by this call
    seconds: float  # training time over all sessions
    history: list[dict[str, float]]
    parameters: int
    processes: int
    main_process: bool = True  # False in the other processes of `accelerate launch`


def checkpoint_path(config: dict[str, Any]) -> Path:
    return Path(config["output_dir"]) / CHECKPOINT


def _model_keys(config: dict[str, Any]) -> dict[str, Any]:
    """The config keys a checkpoint depends on: all but the step counts, the names and the
    sampling settings. Changing one of them needs a fresh training run."""
    free = {"name", "output_dir", "upsampler", "training.steps", "training.checkpoint_every"}
    return {k: v for k, v in _flatten(config).items() if k not in free and not k.startswith("sampling.")}


def _check_same_run(state: dict[str, Any], config: dict[str, Any], path: Path) -> None:
    changed = sorted(k for k, v in _model_keys(config).items() if state["model_keys"].get(k) != v)
    if changed:
        raise BadInputError(
            f"{path}: was trained with other values of {', '.join(changed)}; "
            "use another output_dir, or delete the checkpoint to start over"
        )


def train(
    config: dict[str, Any],
    device: str = "auto",
    *,
    resume: bool = False,
    stop_after: int | None = None,
    show_progress: bool = True,
) -> TrainResult:
    """Train the config's model to training.steps, with a checkpoint every checkpoint_every steps.

    An existing checkpoint is continued only with resume=True (the CLI's --resume), and only when
    it was made by the same model keys; when it already holds every step nothing is trained.
    Run under `accelerate launch`, every process trains on its share of each batch and the
    gradients are averaged: the same command uses one CPU, one GPU or several GPUs.
    stop_after ends this session after that many steps, as an interruption would.
    """
    import torch
    from accelerate import Accelerator
    from diffusers.training_utils import EMAModel

    from .runtime import progress
    from .training import load_checkpoint, save_checkpoint

    cpu = _wants_cpu(device)
    # bfloat16 autocast on GPUs that have it, unless `accelerate launch --mixed_precision` chose
    mixed = os.environ.get("ACCELERATE_MIXED_PRECISION") or (
        "bf16" if not cpu and torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    )
    accelerator = Accelerator(cpu=cpu, mixed_precision=mixed)
    train_cfg = config["training"]
    processes = accelerator.num_processes
    if train_cfg["batch_size"] % processes:
        raise BadInputError(
            f"training.batch_size={train_cfg['batch_size']} cannot be shared by {processes} processes; "
            f"use a multiple of {processes}"
        )
    path = checkpoint_path(config)
    state = load_checkpoint(path)
    if state is not None and not resume:
        raise BadInputError(f"{path}: a checkpoint exists; pass --resume to continue it, or delete it to start over")
    if state is not None:
        _check_same_run(state, config, path)
    if state is not None and state["step"] > train_cfg["steps"]:
        raise BadInputError(f"{path}: holds {state['step']} steps, more than training.steps={train_cfg['steps']}")
    data = training_clips(config)
    model = build_model(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=train_cfg["learning_rate"])
    ema = EMAModel(model.parameters(), decay=train_cfg["ema_decay"], use_ema_warmup=True, power=3 / 4)
    start, history, seconds = 0, [], 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        ema.load_state_dict(state["ema"])
        start, history, seconds = state["step"], state["history"], state["seconds"]
    model, optimiser = accelerator.prepare(model, optimiser)
    ema.to(accelerator.device)
    noise_scheduler = scheduler(config)
    per_process = train_cfg["batch_size"] // processes
    rank = accelerator.process_index
    n_clips = len(data["clips"])
    end = train_cfg["steps"] if stop_after is None else min(train_cfg["steps"], start + stop_after)

    def save(step: int) -> None:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            save_checkpoint(
                path,
                {
                    "model": accelerator.unwrap_model(model).state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "ema": ema.state_dict(),
                    "step": step,
                    "history": history,
                    "seconds": seconds,
                    "config": config,
                    "model_keys": _model_keys(config),
                },
            )
        accelerator.wait_for_everyone()

    model.train()
    mark = time.perf_counter()
    bar = progress(
        range(start, end),
        desc=f"training {config['name']}",
        initial=start,
        total=train_cfg["steps"],
        disable=not (show_progress and accelerator.is_local_main_process),
    )
    for step in bar:
        # each step's data and noise come from (seed, step, process): resuming needs no saved RNG
        generator = torch.Generator().manual_seed(train_cfg["seed"] * 1_000_003 + step * 101 + rank)
        index = torch.randint(0, n_clips, (per_process,), generator=generator).numpy()
        batch = prepare_batch(config, data, index, accelerator.device)
        with accelerator.autocast():
            loss = diffusion_loss(model, noise_scheduler, batch, generator, config["labels"]["drop_prob"])
        optimiser.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        optimiser.step()
        ema.step(model.parameters())
        history.append({"step": step + 1, "loss": float(accelerator.reduce(loss.detach(), "mean"))})
        if (step + 1) % train_cfg["checkpoint_every"] == 0 or step + 1 == end:
            now = time.perf_counter()
            seconds += now - mark
            mark = now
            save(step + 1)
    count = sum(p.numel() for p in accelerator.unwrap_model(model).parameters())
    model.eval()
    return TrainResult(
        path, max(start, end), max(0, end - start), seconds, history, count, processes, accelerator.is_main_process
    )


def _wants_cpu(device: str) -> bool:
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise BadInputError(f"--device {device!r}: must be auto, cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise BadInputError("--device cuda: no CUDA GPU is visible here; use --device cpu")
    return device == "cpu"


def load_model(config: dict[str, Any], device: str = "cpu", ema: bool = True):
    """The trained network (its EMA weights by default), in eval mode, on device."""
    from .training import load_checkpoint

    path = checkpoint_path(config)
    state = load_checkpoint(path)
    if state is None:
        raise BadInputError(
            f"{path}: no checkpoint; train first (python -m helpers.video_diffusion train --config ...)"
        )
    _check_same_run(state, config, path)
    model = build_model(config)
    model.load_state_dict(state["model"])
    if ema:
        from diffusers.training_utils import EMAModel

        averaged = EMAModel(model.parameters())
        averaged.load_state_dict(state["ema"])
        averaged.copy_to(model.parameters())
    return model.to(device).eval()


# --- sampling ------------------------------------------------------------------------------


def sample(
    model,
    config: dict[str, Any],
    n: int,
    *,
    seed: int = 0,
    classes=None,
    vectors=None,
    low=None,
    sampler: str | None = None,
    steps: int | None = None,
    guidance_scale: float | None = None,
    show_progress: bool = False,
):
    """Draw n clips (n, 3, X, S, S) in [-1, 1]. classes (X,) or (n, X) and vectors (X, D) or
    (n, X, D) steer each frame; guidance_scale > 1 pushes harder towards them (classifier-free
    guidance). The upsampler takes `low` (n, 3, X, s, s) and returns the sharpened clip.
    The starting noise and every sampler draw come from `seed`: same seed, same clips."""
    import torch

    from .runtime import progress

    sampling = config["sampling"]
    sampler = sampler or sampling["sampler"]
    steps = steps or sampling["steps"]
    guidance = sampling["guidance_scale"] if guidance_scale is None else guidance_scale
    device = next(model.parameters()).device
    size, frames = config["data"]["size"], config["data"]["frames"]
    labelled = config["labels"]["classes"] or config["labels"]["vector_dim"]
    generator = torch.Generator().manual_seed(seed)
    noise_scheduler = scheduler(config, sampler)
    noise_scheduler.set_timesteps(steps)
    x = torch.randn((n, 3, frames, size, size), generator=generator).to(device)
    if classes is not None:
        classes = _per_clip(torch.as_tensor(classes), n, 1).long().to(device)
    if vectors is not None:
        vectors = _per_clip(torch.as_tensor(vectors), n, 2).float().to(device)
    up = bicubic(low.to(device), size) if low is not None else None
    guided = labelled and guidance != 1 and (classes is not None or vectors is not None)
    with torch.no_grad():
        for t in progress(noise_scheduler.timesteps, desc=f"{sampler} sampling", disable=not show_progress):
            timesteps = torch.full((n,), int(t), device=device)
            if guided:
                both = model(
                    torch.cat([x, x]),
                    torch.cat([timesteps, timesteps]),
                    None if classes is None else torch.cat([classes, classes]),
                    None if vectors is None else torch.cat([vectors, vectors]),
                    low=None if up is None else torch.cat([up, up]),
                    drop=torch.arange(2 * n, device=device) >= n,
                )
                conditional, unconditional = both.chunk(2)
                prediction = unconditional + guidance * (conditional - unconditional)
            else:
                prediction = model(x, timesteps, classes, vectors, low=up)
            x = noise_scheduler.step(prediction.float(), t, x, generator=generator).prev_sample
    return (up + x).clamp(-1, 1) if up is not None else x.clamp(-1, 1)


def _per_clip(labels, n: int, frame_dims: int):
    """Labels for one clip (frame_dims dimensions) repeated for n clips; labels for n clips as given."""
    if labels.dim() == frame_dims:
        return labels[None].expand(n, *labels.shape)
    if labels.dim() != frame_dims + 1 or labels.shape[0] != n:
        raise BadInputError(f"labels of shape {tuple(labels.shape)}: give one clip's labels or one row per clip ({n})")
    return labels


def parse_labels(text: str | None, config: dict[str, Any]) -> np.ndarray | None:
    """'--labels' for a model with class labels: one class per frame ('0,0,1,1', names allowed:
    'red,red,blue,blue') or one for every frame ('2'). Returns (X,) int, or None."""
    if text is None:
        return None
    classes, frames = config["labels"]["classes"], config["data"]["frames"]
    if not classes:
        raise BadInputError(f"--labels: {config['name']} was trained without class labels (labels.classes is 0)")
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


def parse_vectors(text: str | None, config: dict[str, Any]) -> np.ndarray | None:
    """'--vectors' for a model with label vectors: 'x,y;x,y;...' one per frame, or one for all."""
    if text is None:
        return None
    dim, frames = config["labels"]["vector_dim"], config["data"]["frames"]
    if not dim:
        raise BadInputError(f"--vectors: {config['name']} was trained without label vectors (labels.vector_dim is 0)")
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
    config: dict[str, Any],
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
    import torch

    from .video import write_gif, write_mp4

    if n < 1:
        raise BadInputError(f"-n {n}: must be 1 or more")
    classes = parse_labels(labels, config)
    vecs = parse_vectors(vectors, config)
    torch_device = "cpu" if _wants_cpu(device) or not torch.cuda.is_available() else "cuda"
    model = load_model(config, torch_device)
    upsampler_cfg = load_config(config["upsampler"]) if config.get("upsampler") else None
    upsampler = load_model(upsampler_cfg, torch_device) if upsampler_cfg else None
    if upsampler_cfg and upsampler_cfg["data"]["low_size"] != config["data"]["size"]:
        raise BadInputError(
            f"{config['upsampler']}: data.low_size={upsampler_cfg['data']['low_size']} differs from the base model's "
            f"data.size={config['data']['size']}"
        )
    clips = sample(model, config, n, seed=seed, classes=classes, vectors=vecs, show_progress=show_progress)
    if upsampler is not None:
        up_classes = classes if upsampler_cfg["labels"]["classes"] else None
        up_vectors = vecs if upsampler_cfg["labels"]["vector_dim"] else None
        clips = sample(upsampler, upsampler_cfg, n, seed=seed, low=clips, classes=up_classes, vectors=up_vectors)
    import shutil
    import tempfile

    frames = to_frames(clips)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fps = config["sampling"]["fps"]
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


# --- the command line ----------------------------------------------------------------------

QUESTIONS: list[tuple[str, str]] = [
    ("kind", "base or upsampler"),
    ("name", "model name"),
    ("output_dir", "checkpoint folder"),
    ("data.source", "training data: shapes, course or folder"),
    ("data.folder", "frames folder (source folder only)"),
    ("data.size", "frame side in pixels"),
    ("data.low_size", "low-resolution side (upsampler only)"),
    ("data.frames", "frames per clip"),
    ("data.skip", "frames skipped between kept frames"),
    ("labels.classes", "class labels per frame (0 none, 4 the shapes' colours)"),
    ("labels.vector_dim", "label vector length (0 none, 2 the shape's position)"),
    ("training.steps", "training steps"),
    ("training.batch_size", "batch size"),
    ("upsampler", "upsampler config to apply at generation (base only; empty for none)"),
]


def _flag(key: str) -> str:
    return "--" + key.split(".")[-1].replace("_", "-") if key.count(".") else "--" + key.replace("_", "-")


def _parse_value(key: str, text: str) -> Any:
    spec = SCHEMA[key]
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    if text.strip() == "" and type(None) in kinds:
        return None
    try:
        if int in kinds:
            return int(text)
        if float in kinds:
            return float(text)
        if bool in kinds:
            return {"true": True, "yes": True, "false": False, "no": False}[text.strip().lower()]
    except (ValueError, KeyError) as exc:
        raise BadInputError(f"{key}: {text!r} is not {_type_name(spec.kind)}") from exc
    return text.strip()


def _parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """--set KEY=VALUE pairs, each VALUE read as YAML ('16', '[1, 2]', 'true')."""
    import yaml

    answers = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or key not in SCHEMA:
            raise BadInputError(f"--set {item!r}: must be KEY=VALUE with a key of the schema ({', '.join(SCHEMA)})")
        try:
            answers[key] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise BadInputError(f"--set {item!r}: the value is not valid YAML") from exc
    return answers


def create_config(answers: dict[str, Any], ask: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A config from answers (dotted keys), asking `ask(prompt)` for each question not answered."""
    flat = _flatten(defaults())
    flat.update({k: v for k, v in answers.items() if v is not None})
    if answers.get("kind") is None and ask is not None:
        flat["kind"] = _ask(ask, "kind", flat)
    upsampler = flat["kind"] == "upsampler"
    if upsampler:  # sensible upsampler defaults: 32 -> 64 px, no labels, AdaIN styles
        upsampler_defaults = {
            "data.size": 64,
            "data.low_size": 32,
            "name": "upsampler",
            "data.source": "mixed",
            "labels.classes": 0,
            "labels.vector_dim": 0,
            "diffusion.data_std": 0.05,
            "model.patch": 2,
            "model.attention_heads": 0,
            "sampling.steps": 3,
        }
        flat.update({k: v for k, v in upsampler_defaults.items() if answers.get(k) is None})
    for key, _ in QUESTIONS[1:]:
        if answers.get(key) is not None or ask is None:
            continue
        if key == "data.folder" and flat["data.source"] != "folder":
            continue
        if key == "data.low_size" and not upsampler or key == "upsampler" and upsampler:
            continue
        flat[key] = _ask(ask, key, flat)
    return check_config(_nest(flat), "answers")


def _ask(ask: Callable[[str], str], key: str, flat: dict[str, Any]) -> Any:
    prompt = dict(QUESTIONS)[key]
    while True:
        text = ask(f"{prompt} [{flat[key] if flat[key] is not None else ''}]: ")
        if text.strip() == "":
            return flat[key]
        try:
            return _parse_value(key, text)
        except BadInputError as exc:
            print(f"  {exc}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.video_diffusion",
        description=__doc__.split("\n\n")[0],
        epilog="Chapter 06 of the course explains the models; `<command> --help` lists each command's options.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser(
        "create-config",
        help="write a config file, asking for each value not given as a flag",
        description="Write a YAML config. Values not given as flags are asked for when run in a terminal "
        "(or with --interactive); with --defaults the schema's defaults fill them.",
    )
    create.add_argument("--out", required=True, help="the YAML file to write")
    for key, prompt in QUESTIONS:
        create.add_argument(_flag(key), dest=key, default=None, help=f"{prompt} (default {SCHEMA[key].default})")
    create.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other key of the schema, e.g. --set model.width=16 --set model.channel_mults=[1,2] (repeatable)",
    )
    create.add_argument("--interactive", action="store_true", help="ask even when not in a terminal")
    create.add_argument("--defaults", action="store_true", help="never ask; use defaults for what is not given")
    create.add_argument("--overwrite", action="store_true", help="replace an existing file")

    train_p = sub.add_parser("train", help="train (or continue training) the model a config describes")
    train_p.add_argument("--config", "--config-path", dest="config", required=True, help="the YAML config")
    train_p.add_argument("--device", default="auto", help="auto, cpu or cuda (under accelerate launch: its choice)")
    train_p.add_argument("--resume", action="store_true", help="continue from the checkpoint in output_dir")
    train_p.add_argument("--quiet", action="store_true", help="no progress bar")

    gen = sub.add_parser("generate", help="sample clips and write them as GIF and MP4")
    gen.add_argument("-c", "--config", required=True, help="the YAML config of a trained base model")
    gen.add_argument("--device", default="auto", help="auto, cpu or cuda")
    gen.add_argument("--out-dir", required=True, help="folder for sample_NN.gif and sample_NN.mp4")
    gen.add_argument("--seed", type=int, default=0, help="same seed, same clips (default 0)")
    gen.add_argument("-n", type=int, default=1, help="how many clips (default 1)")
    gen.add_argument(
        "--labels", default=None, help="class per frame, e.g. 0,0,0,0,1,1,1,1 or red,...; one value for all frames"
    )
    gen.add_argument(
        "--vectors", default=None, help="label vector per frame, e.g. '-0.5,0;0,0;...'; one for all frames"
    )
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def work() -> None:
        if args.command == "create-config":
            answers = _parse_sets(args.set)  # the named flags below win over --set
            for key, _ in QUESTIONS:
                if getattr(args, key) is not None:
                    answers[key] = _parse_value(key, getattr(args, key))
            interactive = args.interactive or (sys.stdin.isatty() and not args.defaults)
            try:
                config = create_config(answers, ask=input if interactive else None)
            except EOFError:
                raise BadInputError("no answer given; pass the values as flags or --defaults") from None
            path = write_config(config, args.out, overwrite=args.overwrite)
            print(f"wrote {path}")
        elif args.command == "train":
            config = load_config(args.config)
            result = train(config, args.device, resume=args.resume, show_progress=not args.quiet)
            if not result.main_process:
                return
            if result.steps_run == 0:
                print(f"{result.checkpoint} already holds {result.steps} steps; nothing to train")
            else:
                done = f"trained {result.steps_run} steps on {result.processes} process(es)"
                print(f"{done}; checkpoint {result.checkpoint}")
        else:
            config = load_config(args.config)
            if config["kind"] != "base":
                raise BadInputError(f"{args.config}: generate needs a base config (it names its upsampler)")
            paths = generate(
                config,
                args.out_dir,
                device=args.device,
                seed=args.seed,
                n=args.n,
                labels=args.labels,
                vectors=args.vectors,
                show_progress=not args.quiet,
            )
            print(f"wrote {len(paths)} files to {args.out_dir}")

    return run_command(work, interrupted="the last checkpoint is kept")


if __name__ == "__main__":
    sys.exit(main())
