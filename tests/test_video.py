"""helpers.video: decoding, letterboxing, encoding, and the errors for bad input."""

import time

import numpy as np
import pytest

from helpers import video
from helpers.errors import BadInputError, VideoError


def test_probe_reads_the_header(bikes_path):
    info = video.probe(bikes_path)
    assert (info.width, info.height, info.frames) == (640, 272, 250)
    assert info.fps == pytest.approx(25.0)
    assert info.duration == pytest.approx(10.0)


def test_decode_whole_clip_to_letterboxed_square(bunny_path):
    clip = video.read_frames(bunny_path, size=128)
    assert clip.frames.shape == (132, 128, 128, 3) and clip.frames.dtype == np.uint8
    assert clip.indices.tolist() == list(range(132))
    # 1280x720 into 128x128: 72 rows of picture, 28 rows of black above and below
    assert (clip.frames[:, :28] == 0).all() and (clip.frames[:, -28:] == 0).all()
    assert clip.frames[:, 28:100].mean() > 20


def test_decode_meets_the_speed_target(bunny_path):
    video.read_frames(bunny_path, size=128, max_frames=2)  # warm the codec and caches
    best = min(_timed(lambda: video.read_frames(bunny_path, size=128)) for _ in range(2))
    assert best < 2.0, f"decoding bigbuckbunny.mp4 to 128x128 took {best:.2f} s (target: under 2 s)"


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def test_time_range_and_stride_pick_the_right_frames(bikes_path):
    clip = video.read_frames(bikes_path, size=64, start=2.0, end=3.0, stride=5)
    assert clip.indices.tolist() == [50, 55, 60, 65, 70]
    assert np.allclose(clip.times, [2.0, 2.2, 2.4, 2.6, 2.8])


def test_stride_frames_equal_the_same_frames_decoded_one_by_one(carphone_path):
    every = video.read_frames(carphone_path, size=32)
    strided = video.read_frames(carphone_path, size=32, stride=7)
    assert np.array_equal(strided.frames, every.frames[::7])


def test_pad_colour_and_modes():
    image = np.full((50, 200, 3), 100, dtype=np.uint8)
    boxed = video.resize_frame(image, (40, 40), pad_color="white")
    assert (boxed[0] == 255).all() and (boxed[20] == 100).all()
    assert video.resize_frame(image, (40, 40), mode="stretch").shape == (40, 40, 3)
    assert video.resize_frame(image, (40, 40), mode="crop").shape == (40, 40, 3)
    assert (video.resize_frame(image, (40, 40), mode="crop") == 100).all()
    assert video.parse_color("#102030") == (16, 32, 48)


def test_gif_and_mp4_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    frames = np.repeat(rng.integers(0, 255, (6, 1, 1, 3), dtype=np.uint8), 32, axis=1).repeat(33, axis=2)
    gif = video.write_gif(frames, tmp_path / "a.gif", fps=5)
    mp4 = video.write_mp4(frames, tmp_path / "a.mp4", fps=5)
    assert gif.stat().st_size > 0
    info = video.probe(mp4)
    assert (info.frames, info.width, info.height) == (6, 34, 32)  # odd width padded to even
    back = video.read_frames(mp4)
    assert np.abs(back.frames[:, :, :33].astype(int) - frames).mean() < 6  # lossy, but close
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_float_frames_are_checked(tmp_path):
    with pytest.raises(BadInputError, match=r"\[0, 1\]"):
        video.write_gif(np.full((2, 8, 8, 3), 2.0), tmp_path / "x.gif")
    with pytest.raises(BadInputError, match="NaN"):
        video.write_gif(np.full((2, 8, 8, 3), np.nan), tmp_path / "x.gif")
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such file"),
        ("zero_byte", r"empty \(0 bytes\)"),
        ("text", "not a video FFmpeg can read"),
        ("truncated_index", "not a video FFmpeg can read"),
        ("truncated_data", "truncated: the header declares 250 frames"),
    ],
)
def test_bad_files_give_one_line_errors_naming_the_file(case, message, bad_videos, tmp_path):
    path = tmp_path / "missing.mp4" if case == "missing" else bad_videos[case]
    with pytest.raises(VideoError, match=message) as info:
        video.read_frames(path, size=32)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_the_faststart_copy_itself_is_fine(bad_videos):
    assert len(video.read_frames(bad_videos["faststart_whole"], size=16)) == 250


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 0}, "must be positive"),
        ({"size": (64, -1)}, "must be positive"),
        ({"stride": -1}, "stride -1"),
        ({"stride": 0}, "stride 0"),
        ({"end": 20.0}, "shorter than the requested range"),
        ({"start": 12.0}, "past its end"),
        ({"start": 3.0, "end": 2.0}, "end after start"),
        ({"pad_color": "blurple"}, "unknown"),
        ({"mode": "squash"}, "resize mode"),
    ],
)
def test_bad_parameters_are_refused(kwargs, message, bikes_path):
    with pytest.raises(BadInputError, match=message):
        video.read_frames(bikes_path, **({"size": 32} | kwargs))


def test_letterboxed_clips_know_where_their_picture_is(bikes_path):
    # bikes is 640x272: at 128x128 the picture is 128x54, centred, and 58% of each frame is padding
    assert video.content_box((640, 272), (128, 128)) == (37, 0, 54, 128)
    assert video.content_box((640, 272), (128, 128), mode="crop") == (0, 0, 128, 128)
    assert video.content_box((640, 272), None) == (0, 0, 272, 640)
    clip = video.read_frames(bikes_path, size=128, max_frames=2)
    assert clip.content == (37, 0, 54, 128)
    mask = clip.content_mask()
    assert mask.shape == (128, 128) and mask.mean() == pytest.approx(54 / 128)
    assert (clip.frames[:, ~mask] < 20).all()  # black padding outside the mask


def test_write_mp4_muxes_a_sound_track_as_long_as_the_audio(tmp_path):
    from helpers.video import media_durations, write_mp4

    frames = np.random.default_rng(0).integers(0, 255, (50, 32, 32, 3), dtype=np.uint8)
    rate = 22050
    audio = 0.3 * np.sin(2 * np.pi * 440 * np.arange(int(rate * 2.0)) / rate)
    with_sound = write_mp4(frames, tmp_path / "a.mp4", 25, audio=audio, sample_rate=rate)
    assert media_durations(with_sound) == pytest.approx({"video": 2.0, "audio": 2.0}, abs=1 / 25)
    silent = write_mp4(frames, tmp_path / "b.mp4", 25)
    assert media_durations(silent)["audio"] == 0.0
    with pytest.raises(BadInputError, match="sample_rate"):
        write_mp4(frames, tmp_path / "c.mp4", 25, audio=audio)
    assert not (tmp_path / "c.mp4").exists()
