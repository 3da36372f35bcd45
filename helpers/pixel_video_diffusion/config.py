"""The config of a pixel-space video diffusion model (chapter 06): one typed dataclass per section
of the YAML file, every key documented and checked (helpers.configs), plus the checks that tie
keys together (a frame size the U-Net can halve, labels only for the shapes, ...).

`load_config` reads a YAML file, `write_config` writes one with each key's documentation as a
comment, `create_config` fills a config from answers (asking for the rest at a prompt), and
`replace_keys` changes keys of a checked config by their dotted names.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import configs
from ..configs import above, at_least, fraction, knob, one_of, positive_integers, section
from ..datasets import LABEL_COLOURS, SHAPES_TEST_SEED
from ..errors import BadInputError

KINDS = ("base", "upsampler")
SOURCES = ("shapes", "course", "mixed", "folder")
SAMPLERS = ("ddim", "ddpm")
SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")
PREDICTIONS = ("epsilon", "v_prediction", "sample")
SHAPE_COLOURS = tuple(LABEL_COLOURS)  # the shapes' class ids 0..3 name these colours


@dataclass
class Data:
    """data: what the model trains on"""

    source: str = knob(
        "shapes",
        "shapes (labelled bouncing shapes), course (the course's training shots), mixed (both) or folder",
        one_of(*SOURCES),
    )
    folder: str | None = knob(
        None, "source folder only: frames written by `python -m helpers.frames extract`", optional=True
    )
    size: int = knob(32, "frame side in pixels the model makes", at_least(8))
    low_size: int = knob(16, "upsampler only: side of the low-resolution input", at_least(4))
    frames: int = knob(8, "frames per clip (X)", at_least(2))
    skip: int = knob(1, "frames skipped between two kept frames (M): a clip spans (X-1)*(M+1)+1 frames", at_least(0))
    sequences: int = knob(512, "shapes and mixed: how many shape sequences to generate for training", at_least(1))


@dataclass
class Model:
    """model: the 3D U-Net"""

    width: int = knob(32, "channels of the first level", at_least(8))
    channel_mults: list[int] = knob(
        [1, 2, 2], "channel multiplier per level; each level after the first halves H and W", positive_integers
    )
    patch: int = knob(
        1, "side of the pixel patches folded into channels before the first level (1, 2 or 4)", one_of(1, 2, 4)
    )
    temporal_downsample: bool = knob(False, "halve the frame count too at each level (frames must then divide)")
    attention_heads: int = knob(4, "heads of the temporal attention (0 turns it off)", at_least(0))
    style_dim: int = knob(64, "upsampler only: width of the mapping network's style vector", at_least(1))


@dataclass
class Labels:
    """labels: what steers each frame"""

    classes: int = knob(0, "number of per-frame class labels (0: none)", at_least(0))
    vector_dim: int = knob(0, "length of a per-frame label vector (0: none; 2 for a shape's x, y)", at_least(0))
    drop_prob: float = knob(0.1, "share of training clips seen without labels (classifier-free guidance)", fraction)


@dataclass
class Diffusion:
    """diffusion: the noise process and the network's target"""

    timesteps: int = knob(1000, "noise levels of the forward process", at_least(2))
    schedule: str = knob("squaredcos_cap_v2", "beta schedule (a diffusers name)", one_of(*SCHEDULES))
    prediction: str = knob(
        "sample",
        "what the network predicts: sample (the clean clip), epsilon (the noise) or v_prediction",
        one_of(*PREDICTIONS),
    )
    data_std: float = knob(
        0.5,
        "spread of the clean clips in [-1, 1] (for the upsampler, of its residual over bicubic); sets the skip scale",
        above(0),
    )


@dataclass
class Training:
    """training: the optimisation"""

    steps: int = knob(1000, "optimiser steps", at_least(1))
    batch_size: int = knob(16, "clips per step over all processes", at_least(1))
    learning_rate: float = knob(3e-4, "AdamW learning rate", above(0))
    ema_decay: float = knob(0.999, "decay of the exponential moving average of the weights", fraction)
    checkpoint_every: int = knob(200, "steps between checkpoints", at_least(1))
    seed: int = knob(0, "seed of the data order, noise and initial weights", at_least(0))


@dataclass
class Sampling:
    """sampling: how clips are made"""

    sampler: str = knob("ddim", "ddim (few deterministic steps) or ddpm (the ancestral sampler)", one_of(*SAMPLERS))
    steps: int = knob(50, "denoising steps at generation", at_least(1))
    guidance_scale: float = knob(
        2.0, "classifier-free guidance: 1 is plain conditional, 0 ignores the labels", at_least(0)
    )
    fps: int = knob(8, "frame rate of the GIF and MP4 files", at_least(1))


@dataclass
class VideoDiffusionConfig:
    """A base model (clips from noise) or an upsampler (a sharper clip from a low-resolution one)."""

    kind: str = knob(
        "base", "base (makes clips from noise) or upsampler (sharpens a low-resolution clip)", one_of(*KINDS)
    )
    name: str = knob("video-diffusion", "a name for the model, used in file names and records")
    output_dir: str = knob("runs/video-diffusion", "checkpoint folder; a relative path is relative to the config file")
    upsampler: str | None = knob(
        None, "base only: config file of an upsampler that generate applies after sampling", optional=True
    )
    data: Data = section(Data)
    model: Model = section(Model)
    labels: Labels = section(Labels)
    diffusion: Diffusion = section(Diffusion)
    training: Training = section(Training)
    sampling: Sampling = section(Sampling)


DOCS = configs.docs(VideoDiffusionConfig)  # every key's documentation: 'data.size' -> 'frame side in ...'


def defaults(**overrides: Any) -> VideoDiffusionConfig:
    """A complete config from the defaults, with dotted-key overrides ('data.size' or data__size),
    checked like a file."""
    return replace_keys(VideoDiffusionConfig(), "defaults", **overrides)


def replace_keys(config: VideoDiffusionConfig, source: str = "config", **overrides: Any) -> VideoDiffusionConfig:
    """A checked copy of `config` with some keys changed by their dotted names."""
    return check_config(_with(config, overrides), source)


def _with(config: VideoDiffusionConfig, overrides: dict[str, Any]) -> dict[str, Any]:
    flat = configs.flatten(config)
    for key, value in overrides.items():
        key = key.replace("__", ".")
        if key not in flat:
            raise BadInputError(f"config key {key!r} is unknown; known keys: {', '.join(DOCS)}")
        flat[key] = copy.deepcopy(value)
    return configs.nest(flat)


def check_config(config: Any, source: str = "config") -> VideoDiffusionConfig:
    """The config (a mapping or a config) with every key checked, or a BadInputError naming the
    first bad key and why."""
    if isinstance(config, VideoDiffusionConfig):
        config = configs.to_mapping(config)
    checked = configs.from_mapping(VideoDiffusionConfig, config, source)
    _check_together(checked, source)
    return checked


def _check_together(c: VideoDiffusionConfig, source: str) -> None:
    levels = len(c.model.channel_mults)
    factor = 2 ** (levels - 1)
    size, frames = c.data.size, c.data.frames
    if size % (factor * c.model.patch):
        raise BadInputError(
            f"{source}: data.size={size} cannot be cut into {c.model.patch}-pixel patches and halved "
            f"{levels - 1} times by the U-Net's {levels} levels; use a multiple of {factor * c.model.patch}"
        )
    if c.model.temporal_downsample and frames % factor:
        raise BadInputError(
            f"{source}: data.frames={frames} cannot be halved {levels - 1} times by the U-Net's "
            f"{levels} levels (model.temporal_downsample is on); use a multiple of {factor}"
        )
    heads = c.model.attention_heads
    if heads and c.model.width % heads:
        raise BadInputError(
            f"{source}: model.width={c.model.width} must be a multiple of model.attention_heads={heads}"
        )
    if c.model.width % 8:
        raise BadInputError(f"{source}: model.width={c.model.width} must be a multiple of 8 (group normalisation)")
    if c.data.source == "folder" and not c.data.folder:
        raise BadInputError(f"{source}: data.folder is needed when data.source is 'folder'")
    if c.data.source != "shapes" and (c.labels.classes or c.labels.vector_dim):
        raise BadInputError(
            f"{source}: labels.classes and labels.vector_dim must be 0 for data.source "
            f"{c.data.source!r}: only the shapes have per-frame labels"
        )
    if c.data.source in ("shapes", "mixed") and c.training.seed == SHAPES_TEST_SEED:
        raise BadInputError(f"{source}: training.seed={SHAPES_TEST_SEED} draws the held-out shapes; use another seed")
    if c.data.source == "shapes" and c.labels.classes not in (0, len(SHAPE_COLOURS)):
        raise BadInputError(f"{source}: labels.classes must be 0 or {len(SHAPE_COLOURS)} (the shapes' colours)")
    if c.data.source == "shapes" and c.labels.vector_dim not in (0, 2):
        raise BadInputError(f"{source}: labels.vector_dim must be 0 or 2 (the shape's x, y) for the shapes")
    if c.kind == "upsampler":
        low = c.data.low_size
        if low >= size or size % low:
            raise BadInputError(f"{source}: data.low_size={low} must divide data.size={size} and be smaller")
        if c.upsampler:
            raise BadInputError(f"{source}: upsampler is a base-model key; an upsampler config cannot name one")


# --- files ----------------------------------------------------------------------------------------


def load_config(path: str | Path) -> VideoDiffusionConfig:
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
    for owner, key in ((config, "output_dir"), (config, "upsampler"), (config.data, "folder")):
        value = getattr(owner, key)
        if value and not Path(value).is_absolute():
            setattr(owner, key, str((path.parent / value).resolve()))
    return config


def write_config(config: VideoDiffusionConfig, path: str | Path, overwrite: bool = False) -> Path:
    """Check a config and write it as YAML with a comment line per key (its documentation)."""
    from ..runtime import atomic_write_bytes

    path = Path(path)
    config = check_config(config, str(path))
    if path.exists() and not overwrite:
        raise BadInputError(f"{path}: exists already; pass --overwrite to replace it")
    atomic_write_bytes(path, render_config(config).encode())
    return path


def render_config(config: VideoDiffusionConfig) -> str:
    import yaml

    lines = ["# video diffusion config: python -m helpers.pixel_video_diffusion --help explains each command"]
    section_name = None
    for key, value in configs.flatten(config).items():
        head, _, leaf = key.rpartition(".")
        if head != section_name and head:
            lines.append(f"{head}:")
        section_name = head
        indent = "  " if head else ""
        text = yaml.safe_dump({leaf: value}, default_flow_style=True).strip()[1:-1]
        lines.append(f"{indent}{text}  # {DOCS[key]}")
    return "\n".join(lines) + "\n"


# --- making a config from answers -----------------------------------------------------------------

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
UPSAMPLER_DEFAULTS = {  # sensible upsampler defaults: 32 -> 64 px, no labels, AdaIN styles
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


def key_type(key: str) -> Any:
    """The annotation of a dotted key ('data.size' -> int)."""
    import typing

    cls: Any = VideoDiffusionConfig
    *parents, leaf = key.split(".")
    for parent in parents:
        cls = typing.get_type_hints(cls)[parent]
    return typing.get_type_hints(cls)[leaf]


def parse_value(key: str, text: str) -> Any:
    """A typed value for `key` from what a user typed ('16' -> 16, '' -> None where allowed)."""
    kind = key_type(key)
    kinds = set(getattr(kind, "__args__", (kind,)))
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
        raise BadInputError(f"{key}: {text!r} is not {configs.type_name(kind)}") from exc
    return text.strip()


def create_config(answers: dict[str, Any], ask: Callable[[str], str] | None = None) -> VideoDiffusionConfig:
    """A config from answers (dotted keys), asking `ask(prompt)` for each question not answered."""
    flat = configs.flatten(VideoDiffusionConfig())
    unknown = sorted(set(answers) - set(flat))
    if unknown:
        raise BadInputError(f"config key {unknown[0]!r} is unknown; known keys: {', '.join(DOCS)}")
    flat.update({k: v for k, v in answers.items() if v is not None})
    if answers.get("kind") is None and ask is not None:
        flat["kind"] = _ask(ask, "kind", flat)
    upsampler = flat["kind"] == "upsampler"
    if upsampler:
        flat.update({k: v for k, v in UPSAMPLER_DEFAULTS.items() if answers.get(k) is None})
    for key, _ in QUESTIONS[1:]:
        if answers.get(key) is not None or ask is None:
            continue
        if key == "data.folder" and flat["data.source"] != "folder":
            continue
        if key == "data.low_size" and not upsampler or key == "upsampler" and upsampler:
            continue
        flat[key] = _ask(ask, key, flat)
    return check_config(configs.nest(flat), "answers")


def _ask(ask: Callable[[str], str], key: str, flat: dict[str, Any]) -> Any:
    prompt = dict(QUESTIONS)[key]
    while True:
        text = ask(f"{prompt} [{flat[key] if flat[key] is not None else ''}]: ")
        if text.strip() == "":
            return flat[key]
        try:
            return parse_value(key, text)
        except BadInputError as exc:
            print(f"  {exc}", file=sys.stderr)


def model_keys(config: VideoDiffusionConfig) -> dict[str, Any]:
    """The config keys a checkpoint depends on: all but the step counts, the names and the
    sampling settings. Changing one of them needs a fresh training run."""
    free = {"name", "output_dir", "upsampler", "training.steps", "training.checkpoint_every"}
    return {k: v for k, v in configs.flatten(config).items() if k not in free and not k.startswith("sampling.")}


def with_upsampler(config: VideoDiffusionConfig, upsampler: str | Path) -> VideoDiffusionConfig:
    """The base config with an upsampler config named for `generate` to apply."""
    return dataclasses.replace(config, upsampler=str(upsampler))
