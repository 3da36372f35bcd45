"""From decoded frames to the frames worth keeping: differences, motion keyframes, scene cuts.

Also the command-line tool that turns a video into a folder of PNG frames:

    python -m helpers.frames extract VIDEO --out DIR --size 128 [--stride N]
        [--keyframes K --window SECONDS] [--pad-color white] [--max-files-per-folder N]

Options out of range (--size beyond 1..MAX_SIZE = 4096 pixels, a stride, keyframe count or file
count under 1, a time that is negative or not finite) are refused in one line naming the option,
before the video is opened.

Chapter 01 explains each step.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import BadInputError, OutputExistsError, ParameterError, VideoError, run_command
from .parameters import integer, number, positive, show

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _grey(frames: np.ndarray) -> np.ndarray:
    array = np.asarray(frames)
    if array.ndim == 4:
        return array.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if array.ndim == 3:
        return array.astype(np.float32)
    raise BadInputError(f"frames: expected (N, H, W, 3) or (N, H, W), got shape {array.shape}")


def frame_differences(frames: np.ndarray) -> np.ndarray:
    """Mean absolute grey-level difference of each frame to its predecessor (N-1 values, 0..255)."""
    grey = _grey(frames)
    if len(grey) < 2:
        raise BadInputError(f"frames: need at least 2 frames to compare, got {len(grey)}")
    return np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2))


def motion_keyframes(differences: np.ndarray, k: int, window: int) -> np.ndarray:
    """In every full window of `window` frames, the `k` frames that changed most since their predecessor.

    `differences[i]` is the change from frame i to frame i+1 (see frame_differences), so frame
    j's own score is differences[j-1] and the very first frame, which has no predecessor, scores 0.
    Returns sorted frame positions. A trailing partial window is dropped: it would be judged
    on fewer frames than the rest.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise BadInputError(f"keyframes {k!r}: must be 1 or more")
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise BadInputError(f"window {window!r}: must be 1 frame or more")
    if k > window:
        raise BadInputError(f"keyframes {k}: more than the {window} frames in one window")
    n_frames = len(differences) + 1
    if n_frames < window:
        raise BadInputError(f"video has {n_frames} frames, shorter than one window of {window} frames")
    scores = np.concatenate([[0.0], np.asarray(differences, dtype=np.float64)])
    chosen = []
    for start in range(0, n_frames - window + 1, window):
        chosen.extend(start + top_k(scores[start : start + window], k))
    return np.asarray(chosen, dtype=int)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest scores, in increasing order; ties go to the earlier position."""
    return np.sort(np.argsort(-np.asarray(scores), kind="stable")[:k])


def detect_scene_cuts(
    differences: np.ndarray, ratio: float = 3.0, min_difference: float = 10.0, context: int = 12
) -> np.ndarray:
    """Frame positions where a new shot starts.

    A cut is a jump in frame difference that towers over the motion around it: more than
    `ratio` times the median difference in the `context` frames on either side, and at least
    `min_difference` grey levels. A fixed threshold has to sit between motion and cuts for every
    video, and a fast pan in one film or a quiet cut in another moves that line; a rule relative
    to the neighbourhood carries over from film to film (chapter 01 measures both on bikes.mp4).
    """
    diffs = np.asarray(differences, dtype=np.float64)
    cuts = []
    for i, value in enumerate(diffs):
        neighbours = np.concatenate([diffs[max(0, i - context) : i], diffs[i + 1 : i + 1 + context]])
        local = float(np.median(neighbours)) if len(neighbours) else 0.0
        if value >= min_difference and value > ratio * max(local, 1e-6):
            cuts.append(i + 1)
    return np.asarray(cuts, dtype=int)


def shot_ids(n_frames: int, cuts: Iterable[int]) -> np.ndarray:
    """Label each of `n_frames` frames with the number of the shot it belongs to (0, 1, ...)."""
    labels = np.zeros(n_frames, dtype=int)
    for cut in sorted(cuts):
        labels[cut:] += 1
    return labels


# --- the frames folder ----------------------------------------------------------------------


def holds_frames(folder: Path) -> bool:
    """True when `folder` already has frames.json or image files (at any depth)."""
    if not folder.is_dir():
        return False
    if (folder / "frames.json").exists():
        return True
    return any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.rglob("*"))


def frame_file(position: int, index: int, max_per_folder: int | None) -> str:
    """Relative file name of the position-th written frame; `index` is its frame number in the video."""
    name = f"frame_{index:06d}.png"
    if max_per_folder:
        return f"{position // max_per_folder:04d}/{name}"
    return name


MAX_SIZE = 4096  # pixels a side: a 4K frame; FFmpeg's scaler fails on far larger sizes


def check_options(
    *,
    size: int | Sequence[int] = 128,
    stride: int = 1,
    start: float = 0.0,
    end: float | None = None,
    keyframes: int | None = None,
    window: float | None = None,
    pad_color: str = "black",
    max_files_per_folder: int | None = None,
) -> None:
    """Refuse an option of `extract` that is out of range, in one line naming the option and
    what it accepts, before any video is opened. The first bad option is reported."""
    from . import video as vid

    sides = list(size) if isinstance(size, Sequence) and not isinstance(size, str) else [size]
    side = integer(1, MAX_SIZE)
    if len(sides) not in (1, 2) or any(side.problem(s) for s in sides):
        raise ParameterError(
            f"--size {show(size)}: must be a whole number of pixels from 1 to {MAX_SIZE} "
            "(the side of the square frames)"
        )
    optional = (
        ("--stride", stride, integer(1, why="keep every N-th frame")),
        ("--start", start, number(0, why="seconds")),
        ("--end", end, positive(why="seconds")),
        ("--keyframes", keyframes, integer(1, why="frames kept per window")),
        ("--window", window, positive(why="seconds")),
        ("--max-files-per-folder", max_files_per_folder, integer(1)),
    )
    for option, value, rule in optional:
        reason = None if value is None and option != "--stride" else rule.problem(value)
        if reason:
            raise ParameterError(f"{option} {show(value)}: {reason}")
    if end is not None and end <= start:
        raise ParameterError(f"--end {show(end)}: must be after --start {show(start)}")
    if (keyframes is None) != (window is None):
        raise ParameterError("--keyframes and --window go together: K frames out of every WINDOW seconds")
    try:
        vid.parse_color(pad_color)
    except BadInputError as exc:
        raise ParameterError(f"--pad-color {show(pad_color)}: {str(exc).split(': ', 1)[-1]}") from None


def extract(
    video: str | Path,
    out: str | Path,
    *,
    size: int | Sequence[int] = 128,
    stride: int = 1,
    start: float = 0.0,
    end: float | None = None,
    keyframes: int | None = None,
    window: float | None = None,
    pad_color: str = "black",
    max_files_per_folder: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    """Write a video's frames as PNG files plus frames.json into `out`.

    All frames are written into a temporary sibling folder that replaces `out` only when
    everything succeeded, so a failure never leaves a half-written folder behind. Returns the
    metadata written to frames.json.
    """
    from tqdm.auto import tqdm

    from . import video as vid

    out = Path(out)
    check_options(
        size=size,
        stride=stride,
        start=start,
        end=end,
        keyframes=keyframes,
        window=window,
        pad_color=pad_color,
        max_files_per_folder=max_files_per_folder,
    )
    vid.check_video_path(video)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out}: exists and is not a folder")
    if holds_frames(out) and not overwrite:
        raise OutputExistsError(f"{out}: already holds frames; pass --overwrite to replace them")

    info = vid.probe(video)
    window_frames = None
    if keyframes is not None:
        window_frames = max(1, round(window * info.fps))
        available = (min(end, info.duration) if end is not None else info.duration) - start
        if available + 1e-9 < window:
            raise VideoError(f"{video}: {available:.2f} s from the start time is shorter than the {window:g} s window")
        if keyframes > window_frames:
            raise BadInputError(
                f"--keyframes {keyframes}: more than the {window_frames} frames "
                f"in a {window:g} s window at {info.fps:g} fps"
            )

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    try:
        frames_iter = vid.iter_frames(
            video, size=size, start=start, end=end, stride=1 if keyframes else stride, pad_color=pad_color
        )
        bar = tqdm(
            frames_iter,
            total=info.frames,
            desc=f"decoding {Path(video).name}",
            unit="frame",
            disable=not progress,
            file=sys.stderr,
        )
        written: list[dict] = []
        if keyframes is None:
            for index, image in bar:
                _save(staging, image, index, len(written), max_files_per_folder, written, info.fps)
        else:
            _extract_keyframes(bar, staging, keyframes, window_frames, max_files_per_folder, written, info.fps)
        bar.close()
        if not written:
            raise VideoError(f"{video}: no frames in the requested range")
        metadata = {
            "source": str(Path(video).resolve()),
            "fps": info.fps,
            "source_size": [info.width, info.height],
            "size": list(vid.parse_size(size)),
            "pad_color": pad_color,
            # where the picture lies in every frame; the rest is letterbox padding, never scored
            "content_box": dict(
                zip(
                    ("top", "left", "height", "width"),
                    vid.content_box((info.width, info.height), vid.parse_size(size)),
                    strict=True,
                )
            ),
            "stride": stride if keyframes is None else None,
            "keyframes": keyframes,
            "window_seconds": window,
            "start": start,
            "end": end,
            "count": len(written),
            "indices": [f["index"] for f in written],
            "files": written,
        }
        (staging / "frames.json").write_text(json.dumps(metadata, indent=1))
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return metadata


def _save(folder: Path, image: np.ndarray, index: int, position: int, max_per_folder, written, fps) -> None:
    name = frame_file(position, index, max_per_folder)
    target = folder / name
    target.parent.mkdir(exist_ok=True)
    Image.fromarray(image).save(target, compress_level=1)
    written.append({"file": name, "index": int(index), "time": round(index / fps, 4)})


def _extract_keyframes(frames_iter, folder, k, window_frames, max_per_folder, written, fps) -> None:
    """Buffer one window of frames at a time and keep its k most changing frames."""
    buffer: list[tuple[int, np.ndarray]] = []
    previous: np.ndarray | None = None
    for index, image in frames_iter:
        buffer.append((index, image))
        if len(buffer) == window_frames:
            previous = _flush_window(buffer, previous, folder, k, max_per_folder, written, fps)
            buffer = []
    # a trailing partial window is dropped, as motion_keyframes documents


def _flush_window(buffer, previous, folder, k, max_per_folder, written, fps):
    stack = np.stack([img for _, img in buffer])
    with_previous = stack if previous is None else np.concatenate([previous[None], stack])
    diffs = frame_differences(with_previous) if len(with_previous) > 1 else np.zeros(0)
    # the first frame of a window is compared with the last frame of the window before it
    scores = diffs if previous is not None else np.concatenate([[0.0], diffs])
    for pos in top_k(scores, k):
        index, image = buffer[pos]
        _save(folder, image, index, len(written), max_per_folder, written, fps)
    return stack[-1]


# --- command line ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.frames", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="write a video's frames as PNG files plus frames.json")
    ex.add_argument("video", help="the video file (any format FFmpeg reads)")
    ex.add_argument("--out", required=True, help="output folder (must not already hold frames)")
    ex.add_argument(
        "--size", type=int, default=128, help=f"square side in pixels, 1 to {MAX_SIZE}; letterboxed (default 128)"
    )
    ex.add_argument("--stride", type=int, default=1, help="keep every N-th frame (default 1)")
    ex.add_argument("--start", type=float, default=0.0, help="start time in seconds")
    ex.add_argument("--end", type=float, default=None, help="end time in seconds (default: the end)")
    ex.add_argument("--keyframes", type=int, default=None, help="keep the K most changing frames of each window")
    ex.add_argument("--window", type=float, default=None, help="window length in seconds for --keyframes")
    ex.add_argument("--pad-color", default="black", help="letterbox colour: a name or #rrggbb (default black)")
    ex.add_argument("--max-files-per-folder", type=int, default=None, help="split output into numbered subfolders")
    ex.add_argument("--overwrite", action="store_true", help="replace an output folder that already holds frames")
    ex.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def work() -> None:
        meta = extract(
            args.video,
            args.out,
            size=args.size,
            stride=args.stride,
            start=args.start,
            end=args.end,
            keyframes=args.keyframes,
            window=args.window,
            pad_color=args.pad_color,
            max_files_per_folder=args.max_files_per_folder,
            overwrite=args.overwrite,
            progress=not args.quiet,
        )
        print(f"wrote {meta['count']} frames to {args.out} (see {Path(args.out) / 'frames.json'})")

    return run_command(work)


if __name__ == "__main__":
    sys.exit(main())
