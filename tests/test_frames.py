"""helpers.frames: differences, keyframes, scene cuts, and the extract command."""

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import datasets, frames
from helpers.errors import BadInputError, ParameterError


@pytest.fixture(scope="module")
def bikes64():
    return datasets.load_clip("bikes", size=64)


def test_frame_differences_on_known_frames():
    stack = np.zeros((3, 4, 4, 3), dtype=np.uint8)
    stack[1] = 10
    stack[2, :2] = 10
    assert frames.frame_differences(stack) == pytest.approx([10.0, 5.0], abs=1e-3)


def test_keyframes_pick_the_largest_changes_per_window():
    diffs = np.array([1, 9, 1, 1, 7, 2, 8, 3, 1], dtype=float)  # 10 frames
    # frame j scores diffs[j-1]: [0, 1, 9, 1, 1 | 7, 2, 8, 3, 1]; ties go to the earlier frame
    assert frames.motion_keyframes(diffs, 2, 5).tolist() == [1, 2, 5, 7]
    assert frames.motion_keyframes(diffs, 1, 5).tolist() == [2, 7]


def test_keyframes_refuse_impossible_requests():
    with pytest.raises(BadInputError, match="more than the 5 frames"):
        frames.motion_keyframes(np.ones(9), 6, 5)
    with pytest.raises(BadInputError, match="shorter than one window"):
        frames.motion_keyframes(np.ones(9), 2, 50)


def test_scene_cuts_of_bikes_and_none_in_single_shots(bikes64):
    cuts = frames.detect_scene_cuts(frames.frame_differences(bikes64.frames))
    assert cuts.tolist() == [30, 76, 137, 187, 242]
    for name in ("bigbuckbunny", "carphone"):
        clip = datasets.load_clip(name, size=64)
        assert len(frames.detect_scene_cuts(frames.frame_differences(clip.frames))) == 0


def test_shot_ids():
    assert frames.shot_ids(6, [2, 4]).tolist() == [0, 0, 1, 1, 2, 2]


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "helpers.frames", "extract", *map(str, args), "--quiet"], capture_output=True, text=True
    )


def test_extract_writes_pngs_and_metadata(tmp_path, carphone_path):
    out = tmp_path / "frames"
    result = run_cli(carphone_path, "--out", out, "--size", 32, "--stride", 10, "--pad-color", "white")
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "frames.json").read_text())
    assert meta["indices"] == list(range(0, 120, 10)) and meta["count"] == 12
    assert meta["size"] == [32, 32] and meta["fps"] == pytest.approx(29.97, abs=0.01)
    # carphone is 176x144: letterboxed to 32x32 its picture is 32x26, three rows of padding above
    assert meta["content_box"] == {"top": 3, "left": 0, "height": 26, "width": 32}
    assert sorted(p.name for p in out.glob("*.png")) == [f"frame_{i:06d}.png" for i in range(0, 120, 10)]


def test_extract_keyframes_match_the_library(tmp_path, bikes_path, bikes64):
    out = tmp_path / "keys"
    assert run_cli(bikes_path, "--out", out, "--size", 64, "--keyframes", 4, "--window", 1).returncode == 0
    meta = json.loads((out / "frames.json").read_text())
    expected = frames.motion_keyframes(frames.frame_differences(bikes64.frames), 4, 25)
    assert meta["indices"] == expected.tolist() and meta["count"] == 40


def test_extract_splits_into_subfolders(tmp_path, carphone_path):
    out = tmp_path / "split"
    assert run_cli(carphone_path, "--out", out, "--size", 16, "--max-files-per-folder", 50).returncode == 0
    counts = sorted(len(list(d.glob("*.png"))) for d in out.iterdir() if d.is_dir())
    assert counts == [20, 50, 50]


def test_existing_frames_are_refused_unless_overwrite(tmp_path, carphone_path):
    out = tmp_path / "again"
    assert run_cli(carphone_path, "--out", out, "--size", 16, "--stride", 60).returncode == 0
    before = sorted(p.name for p in out.iterdir())
    refused = run_cli(carphone_path, "--out", out, "--size", 16, "--stride", 30)
    assert refused.returncode != 0 and "already holds frames; pass --overwrite" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == before
    assert run_cli(carphone_path, "--out", out, "--size", 16, "--stride", 30, "--overwrite").returncode == 0
    assert json.loads((out / "frames.json").read_text())["count"] == 4


@pytest.mark.parametrize(
    ("case", "extra", "message"),
    [
        ("missing", [], "no such file"),
        ("zero_byte", [], "empty"),
        ("text", [], "not a video FFmpeg can read"),
        ("truncated_index", [], "not a video FFmpeg can read"),
        ("truncated_data", [], "truncated"),
        ("short_window", ["--keyframes", "5", "--window", "20"], "shorter than the 20 s window"),
        ("too_many_keyframes", ["--keyframes", "40", "--window", "1"], "more than the 25 frames"),
        ("zero_size", ["--size", "0"], "--size 0: must be a whole number of pixels from 1 to 4096"),
        ("huge_size", ["--size", "100000"], "--size 100000: must be a whole number of pixels from 1 to 4096"),
        ("negative_stride", ["--stride", "-3"], "--stride -3: must be an integer, 1 or more"),
        ("zero_keyframes", ["--keyframes", "0", "--window", "1"], "--keyframes 0: must be an integer, 1 or more"),
        ("nan_window", ["--keyframes", "2", "--window", "nan"], "--window nan: must be a finite number above 0"),
        ("negative_start", ["--start", "-1"], "--start -1.0: must be a number, 0 or more"),
        ("end_before_start", ["--start", "2", "--end", "1"], "--end 1.0: must be after --start 2.0"),
        ("zero_per_folder", ["--max-files-per-folder", "0"], "--max-files-per-folder 0: must be an integer, 1 or more"),
        ("unknown_colour", ["--pad-color", "nocolour"], "--pad-color 'nocolour': unknown"),
    ],
)
def test_extract_bad_input_one_line_no_traceback_no_output(case, extra, message, tmp_path, bad_videos, bikes_path):
    video = {"missing": tmp_path / "nope.mp4"}.get(case) or bad_videos.get(case) or bikes_path
    out = tmp_path / "out"
    result = run_cli(video, "--out", out, *extra)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))
    if not extra:  # a problem with the file names the file; one with an option names the option
        assert str(video) in lines[0]


def test_extract_refuses_a_huge_size_before_decoding(tmp_path, bikes_path, monkeypatch):
    """--size 100000 once reached FFmpeg's scaler, which failed, and the video was called damaged."""
    result = run_cli(bikes_path, "--out", tmp_path / "out", "--size", 100000)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: --size 100000: must be a whole number of pixels from 1 to 4096 (the side of the square frames)"
    ]
    assert list(tmp_path.iterdir()) == []

    from helpers import video as vid

    def never(*args, **kwargs):
        raise AssertionError("the video must not be opened")

    monkeypatch.setattr(vid, "probe", never)
    monkeypatch.setattr(vid, "iter_frames", never)
    for size in (100000, (640, 5000), (64,) * 3):
        with pytest.raises(ParameterError, match=r"^--size "):
            frames.extract(bikes_path, tmp_path / "out", size=size, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_extract_leaves_nothing(tmp_path, bikes_path, monkeypatch):
    from helpers import video as vid

    def failing_frames(*args, **kwargs):
        yield 0, np.zeros((8, 8, 3), dtype=np.uint8)
        raise KeyboardInterrupt

    monkeypatch.setattr(vid, "iter_frames", failing_frames)
    with pytest.raises(KeyboardInterrupt):
        frames.extract(bikes_path, tmp_path / "out", size=8, progress=False)
    assert list(tmp_path.iterdir()) == []
