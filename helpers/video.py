"""Video in and out: decode a time range with a frame stride to a target size, write GIF and MP4.

Decoding uses PyAV (FFmpeg's libraries). Frames come out as RGB uint8 arrays of shape
(N, H, W, 3). Chapter 01 explains strides, letterboxing and why they matter for next-frame
models.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageColor

from .errors import BadInputError, VideoError
from .runtime import atomic_path

RESIZE_MODES = ("letterbox", "stretch", "crop")
# A decode that stops this far short of the frame count in the header counts as truncated.
TRUNCATION_TOLERANCE = 0.02


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its first video stream."""

    path: str
    width: int
    height: int
    fps: float
    frames: int
    duration: float
    codec: str


@dataclass
class Clip:
    """Decoded frames plus where they came from."""

    frames: np.ndarray  # (N, H, W, 3) uint8
    indices: np.ndarray  # frame numbers in the source video
    fps: float  # frame rate of the source video
    source: str
    size: tuple[int, int] = field(default=(0, 0))  # (width, height) of the frames
    # (top, left, height, width) of the picture inside each frame; the rest is letterbox padding
    content: tuple[int, int, int, int] | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def content_mask(self) -> np.ndarray:
        """(H, W) bool: True on picture content, False on letterbox padding. Scores are computed
        on the True pixels only (metrics' `mask`), so padding never counts as a perfect match."""
        height, width = self.frames.shape[1:3]
        return box_mask((height, width), self.content or (0, 0, height, width))

    @property
    def times(self) -> np.ndarray:
        """Time of each frame in the source video, in seconds."""
        return self.indices / self.fps


# --- checks ---------------------------------------------------------------------------------


def check_video_path(path: str | Path) -> Path:
    """Fail with a one-line reason when `path` cannot possibly be a video."""
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: is empty (0 bytes)")
    return path


def _open(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise VideoError(
            f"{path}: not a video FFmpeg can read ({_reason(exc)}); is it truncated or mislabelled?"
        ) from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: holds no video stream")
    return container


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(": '")[0].strip()


def parse_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    """None (keep the source size), an int (a square) or (width, height); all positive."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        width = height = int(size)
    elif isinstance(size, Sequence) and len(size) == 2 and all(isinstance(v, (int, np.integer)) for v in size):
        width, height = int(size[0]), int(size[1])
    else:
        raise BadInputError(f"size {size!r}: give an integer or a (width, height) pair")
    if width <= 0 or height <= 0:
        raise BadInputError(f"size {size!r}: must be positive")
    return width, height


def parse_color(color: str | Sequence[int]) -> tuple[int, int, int]:
    """A colour name ('white'), a hex code ('#202020') or an (r, g, b) triple, as RGB uint8 values."""
    if isinstance(color, str):
        try:
            rgb = ImageColor.getrgb(color)
        except ValueError as exc:
            raise BadInputError(f"colour {color!r}: unknown; use a name like 'black' or a code like '#202020'") from exc
        return tuple(int(v) for v in rgb[:3])  # type: ignore[return-value]
    values = tuple(int(v) for v in color)
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise BadInputError(f"colour {color!r}: an (r, g, b) triple needs three values in 0..255")
    return values  # type: ignore[return-value]


# --- geometry -------------------------------------------------------------------------------


def fit_within(src: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """The largest (width, height) with the source's aspect ratio that fits inside the target."""
    scale = min(target[0] / src[0], target[1] / src[1])
    return max(1, round(src[0] * scale)), max(1, round(src[1] * scale))


def content_box(
    src: tuple[int, int], target: tuple[int, int] | None, mode: str = "letterbox"
) -> tuple[int, int, int, int]:
    """Where the picture lies in a frame resized from `src` to `target` (both (width, height)):
    (top, left, height, width). Only letterboxing pads; the other modes fill the whole frame."""
    if target is None:
        return 0, 0, src[1], src[0]
    if mode != "letterbox":
        return 0, 0, target[1], target[0]
    inner = fit_within(src, target)
    return (target[1] - inner[1]) // 2, (target[0] - inner[0]) // 2, inner[1], inner[0]


def box_mask(shape: tuple[int, int], box: Sequence[int]) -> np.ndarray:
    """(H, W) bool mask that is True inside box = (top, left, height, width)."""
    top, left, height, width = (int(v) for v in box)
    mask = np.zeros(shape, dtype=bool)
    mask[top : top + height, left : left + width] = True
    return mask


def pad_to(image: np.ndarray, target: tuple[int, int], color: tuple[int, int, int]) -> np.ndarray:
    """Centre `image` (H, W, 3) on a canvas of `target` (width, height) filled with `color`."""
    height, width = image.shape[:2]
    canvas = np.empty((target[1], target[0], 3), dtype=np.uint8)
    canvas[:] = color
    top, left = (target[1] - height) // 2, (target[0] - width) // 2
    canvas[top : top + height, left : left + width] = image
    return canvas


def resize_frame(
    image: np.ndarray, size: tuple[int, int], mode: str = "letterbox", pad_color: str | Sequence[int] = "black"
) -> np.ndarray:
    """Resize one RGB uint8 frame to (width, height) = `size`.

    letterbox keeps the whole picture and pads the rest with `pad_color`; stretch distorts
    it; crop fills the target and cuts the overflow from both sides.
    """
    import cv2

    if mode not in RESIZE_MODES:
        raise BadInputError(f"resize mode {mode!r}: use one of {', '.join(RESIZE_MODES)}")
    src = (image.shape[1], image.shape[0])
    if mode == "stretch":
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if mode == "letterbox":
        inner = fit_within(src, size)
        return pad_to(cv2.resize(image, inner, interpolation=cv2.INTER_AREA), size, parse_color(pad_color))
    scale = max(size[0] / src[0], size[1] / src[1])
    big = (max(size[0], round(src[0] * scale)), max(size[1], round(src[1] * scale)))
    resized = cv2.resize(image, big, interpolation=cv2.INTER_AREA)
    top, left = (big[1] - size[1]) // 2, (big[0] - size[0]) // 2
    return resized[top : top + size[1], left : left + size[0]]


# --- decoding -------------------------------------------------------------------------------


def probe(path: str | Path) -> VideoInfo:
    """Read the header of a video: size, frame rate, frame count, duration, codec."""
    path = check_video_path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        if fps <= 0:
            raise VideoError(f"{path}: the video stream declares no frame rate")
        if stream.duration is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = 0.0
        frames = int(stream.frames) or round(duration * fps)
        return VideoInfo(str(path), stream.width, stream.height, fps, frames, duration, stream.codec_context.name)


def iter_frames(
    path: str | Path,
    *,
    size: int | Sequence[int] | None = None,
    start: float = 0.0,
    end: float | None = None,
    stride: int = 1,
    mode: str = "letterbox",
    pad_color: str | Sequence[int] = "black",
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame number, RGB uint8 frame) for every `stride`-th frame in [start, end) seconds.

    Frames that are skipped are never converted, so large strides decode quickly. The whole
    range is checked against the video's length before decoding starts, and a file that ends
    before the frame count its header declares is reported as truncated.
    """
    target = parse_size(size)
    if not isinstance(stride, (int, np.integer)) or isinstance(stride, bool) or stride < 1:
        raise BadInputError(f"stride {stride!r}: must be a whole number of frames, 1 or more")
    if mode not in RESIZE_MODES:
        raise BadInputError(f"resize mode {mode!r}: use one of {', '.join(RESIZE_MODES)}")
    color = parse_color(pad_color)
    info = probe(path)
    if start < 0 or (end is not None and end <= start):
        raise BadInputError(f"time range [{start}, {end}) s: start must be >= 0 and end after start")
    if info.duration and start >= info.duration:
        raise VideoError(f"{path}: is {info.duration:.2f} s long; the requested start at {start:g} s is past its end")
    if end is not None and info.duration and end > info.duration + 0.5 / info.fps:
        raise VideoError(f"{path}: is {info.duration:.2f} s long, shorter than the requested range ending at {end:g} s")

    first = math.ceil(start * info.fps - 1e-6)
    last = info.frames if end is None else min(info.frames, math.ceil(end * info.fps - 1e-6))
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        if first > 0:
            container.seek(int((first / info.fps + origin) / stream.time_base), stream=stream, backward=True)
        decoded_to = -1
        for frame in container.decode(stream):
            index = round((float(frame.time) - origin) * info.fps) if frame.time is not None else decoded_to + 1
            decoded_to = index
            if index < first:
                continue
            if index >= last:
                break
            if (index - first) % stride:
                continue
            if target is None:
                image = frame.to_ndarray(format="rgb24")
            elif mode == "letterbox":
                inner = fit_within((frame.width, frame.height), target)
                image = pad_to(
                    frame.reformat(width=inner[0], height=inner[1], format="rgb24", interpolation="AREA").to_ndarray(),
                    target,
                    color,
                )
            else:
                image = resize_frame(frame.to_ndarray(format="rgb24"), target, mode, color)
            yield index, image
    except av.error.FFmpegError as exc:
        raise VideoError(
            f"{path}: damaged video, decoding failed near frame {decoded_to + 1} ({_reason(exc)})"
        ) from exc
    finally:
        container.close()
    expected = last - 1
    if decoded_to < expected and (expected - decoded_to) > max(1, TRUNCATION_TOLERANCE * info.frames):
        raise VideoError(
            f"{path}: truncated: the header declares {info.frames} frames "
            f"but decoding stopped at frame {decoded_to + 1}"
        )


def read_frames(
    path: str | Path,
    *,
    size: int | Sequence[int] | None = None,
    start: float = 0.0,
    end: float | None = None,
    stride: int = 1,
    mode: str = "letterbox",
    pad_color: str | Sequence[int] = "black",
    max_frames: int | None = None,
) -> Clip:
    """Decode a video (or part of it) into a Clip; see iter_frames for the arguments."""
    if max_frames is not None and max_frames < 1:
        raise BadInputError(f"max_frames {max_frames!r}: must be 1 or more")
    info = probe(path)
    indices, frames = [], []
    for index, image in iter_frames(
        path, size=size, start=start, end=end, stride=stride, mode=mode, pad_color=pad_color
    ):
        indices.append(index)
        frames.append(image)
        if max_frames is not None and len(frames) >= max_frames:
            break
    if not frames:
        raise VideoError(f"{path}: no frames in the requested range [{start:g}, {end}) s")
    stack = np.stack(frames)
    box = content_box((info.width, info.height), parse_size(size), mode)
    return Clip(stack, np.asarray(indices), info.fps, str(path), (stack.shape[2], stack.shape[1]), box)


# --- encoding -------------------------------------------------------------------------------


def as_uint8_frames(frames: np.ndarray | Sequence[np.ndarray], name: str = "frames") -> np.ndarray:
    """Frames as (N, H, W, 3) uint8. Floats must be in [0, 1]; grey (N, H, W) frames become RGB."""
    array = np.asarray(frames)
    if array.ndim == 3:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 4 or array.shape[-1] not in (1, 3) or len(array) == 0:
        raise BadInputError(f"{name}: expected a non-empty (N, H, W, 3) array, got shape {array.shape}")
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise BadInputError(f"{name}: contains NaN or infinite values")
        low, high = float(array.min()), float(array.max())
        if low < -1e-6 or high > 1 + 1e-6:
            raise BadInputError(f"{name}: float frames must lie in [0, 1], found [{low:.3g}, {high:.3g}]")
        return np.round(np.clip(array, 0, 1) * 255).astype(np.uint8)
    raise BadInputError(f"{name}: dtype {array.dtype} is neither uint8 nor float")


def write_gif(frames: np.ndarray | Sequence[np.ndarray], path: str | Path, fps: float = 10, loop: int = 0) -> Path:
    """Write an animated GIF (plays in every browser and in the HTML book)."""
    array = as_uint8_frames(frames)
    path = Path(path)
    with atomic_path(path) as tmp:
        images = [Image.fromarray(frame) for frame in array]
        images[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=max(20, round(1000 / fps)),
            loop=loop,
            disposal=2,
        )
    return path


def write_mp4(
    frames: np.ndarray | Sequence[np.ndarray],
    path: str | Path,
    fps: float = 25,
    crf: int = 18,
    *,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> Path:
    """Write an H.264 MP4 (yuv420p, so every player opens it). Odd sizes are padded by one pixel.
    With `audio` (mono float samples in [-1, 1] at `sample_rate`) an AAC sound track is muxed in."""
    array = as_uint8_frames(frames)
    height, width = array.shape[1:3]
    even = (width + width % 2, height + height % 2)
    path = Path(path)
    if audio is not None and not sample_rate:
        raise BadInputError("sample_rate: give the audio's sample rate to mux it into the MP4")
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=round(fps) if float(fps).is_integer() else fps)
        stream.width, stream.height = even
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf)}
        sound = container.add_stream("aac", rate=int(sample_rate), layout="mono") if audio is not None else None
        for image in array:
            if (width, height) != even:
                image = pad_to(image, even, (0, 0, 0))
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            _mux_audio(container, sound, np.asarray(audio, dtype=np.float32).reshape(-1), int(sample_rate))
    return path


def _mux_audio(container, stream, samples: np.ndarray, sample_rate: int, chunk: int = 1024) -> None:
    for start in range(0, len(samples), chunk):
        piece = np.clip(samples[start : start + chunk], -1, 1)[None, :]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(piece), format="fltp", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def media_durations(path: str | Path) -> dict[str, float]:
    """Seconds of video and of audio in a file, as players read them: each stream's own duration
    (for AAC that excludes the encoder's priming samples), counted from decoded frames where the
    header lacks it. {'video': ..., 'audio': ...}; 0.0 for a missing stream."""
    path = check_video_path(path)
    out = {"video": 0.0, "audio": 0.0}
    with _open(path) as container:
        for kind in out:
            streams = getattr(container.streams, kind)
            if not streams:
                continue
            stream = streams[0]
            if stream.duration:
                out[kind] = float(stream.duration * stream.time_base)
            elif kind == "audio":
                out[kind] = sum(f.samples for f in container.decode(stream)) / stream.rate
            else:
                out[kind] = sum(1 for _ in container.decode(stream)) / float(stream.average_rate)
    return out
