"""helpers.dance.music: reading audio in every common format, refusing bad files with one line,
rendering corpus scores with a beat track, and the 35 FACT features per pose frame."""

from __future__ import annotations

import json
import time
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile
from PIL import Image

from helpers.dance import music
from helpers.errors import BadInputError

RATE = 22050


def sine(sample_rate: int, channels: int = 1, seconds: float = 2.0, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    wave = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


def dominant_frequency(audio: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return float(np.fft.rfftfreq(audio.size, 1 / sample_rate)[spectrum.argmax()])


def write_m4a(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """AAC in an MP4 container, with PyAV's encoder (soundfile cannot write it)."""
    planes = np.ascontiguousarray(audio.T.astype(np.float32))
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=sample_rate, layout="stereo")
        for start in range(0, planes.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planes[:, start : start + 1024]), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts = sample_rate, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


# name -> (sample rate, channels, soundfile.write options or "pyav", allowed length error in s)
FORMATS = {
    "pcm16_mono_44k.wav": (44100, 1, {"subtype": "PCM_16"}, 0.002),
    "float_stereo_48k.wav": (48000, 2, {"subtype": "FLOAT"}, 0.002),
    "pcm24_mono_32k.wav": (32000, 1, {"subtype": "PCM_24"}, 0.002),
    "pcm32_mono_22k.wav": (22050, 1, {"subtype": "PCM_32"}, 0.002),
    "u8_mono_8k.wav": (8000, 1, {"subtype": "PCM_U8"}, 0.002),
    "six_channels_44k.wav": (44100, 6, {"subtype": "PCM_16"}, 0.002),
    "stereo_44k.flac": (44100, 2, {}, 0.002),
    "vorbis_stereo_44k.ogg": (44100, 2, {"format": "OGG", "subtype": "VORBIS"}, 0.005),
    "opus_mono_48k.opus": (48000, 1, {"format": "OGG", "subtype": "OPUS"}, 0.01),
    "stereo_44k.mp3": (44100, 2, {"format": "MP3", "subtype": "MPEG_LAYER_III"}, 0.005),
    "aac_stereo_44k.m4a": (44100, 2, "pyav", 0.005),
}


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audio")
    paths = {}
    for name, (rate, channels, options, _) in FORMATS.items():
        paths[name] = folder / name
        if options == "pyav":
            write_m4a(paths[name], sine(rate, channels), rate)
        else:
            soundfile.write(paths[name], sine(rate, channels), rate, **options)
    return paths


@pytest.mark.parametrize("name", list(FORMATS))
def test_load_audio_reads_every_format_at_the_asked_rate(audio_files, name):
    audio = music.load_audio(audio_files[name], RATE)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / RATE - 2.0) <= FORMATS[name][3]
    assert abs(dominant_frequency(audio, RATE) - 440.0) < 2.0
    assert 0.4 < np.abs(audio).max() <= 1.0
    assert abs(music.audio_duration(audio_files[name]) - 2.0) < 0.01


def test_load_audio_resamples_and_stops_early(audio_files, tmp_path):
    path = tmp_path / "long.wav"
    soundfile.write(path, sine(44100, seconds=6.0, freq=1000.0), 44100)
    audio = music.load_audio(path, 16000, max_seconds=2.5)
    assert audio.size == 40000
    assert abs(dominant_frequency(audio, 16000) - 1000.0) < 2.0
    with pytest.raises(BadInputError, match="max_seconds"):
        music.load_audio(path, max_seconds=0.5)


def test_load_audio_takes_the_sound_track_of_a_video(tmp_path):
    from helpers.video import write_mp4

    path = write_mp4(
        np.zeros((30, 16, 16, 3), np.uint8),
        tmp_path / "clip.mp4",
        fps=10,
        audio=sine(RATE, seconds=3.0),
        sample_rate=RATE,
    )
    audio = music.load_audio(path, RATE)
    assert abs(audio.size / RATE - 3.0) < 0.05
    assert abs(dominant_frequency(audio, RATE) - 440.0) < 2.0


@pytest.fixture(scope="module")
def bad_audio(tmp_path_factory) -> dict[str, Path]:
    from helpers.video import write_mp4

    folder = tmp_path_factory.mktemp("bad_audio")
    paths = {name: folder / name for name in ("missing.wav", "text.wav", "picture.png", "short.wav", "zeros.wav")}
    paths["text.wav"].write_text("this is a text file with an audio file's name\n" * 20)
    Image.new("RGB", (8, 8), "red").save(paths["picture.png"])
    soundfile.write(paths["short.wav"], sine(RATE, seconds=0.5), RATE)
    soundfile.write(paths["zeros.wav"], np.zeros(2 * RATE), RATE)
    paths["folder.wav"] = folder / "folder.wav"
    paths["folder.wav"].mkdir()
    paths["empty.mp3"] = folder / "empty.mp3"
    paths["empty.mp3"].write_bytes(b"")
    paths["no_sound.mp4"] = write_mp4(np.zeros((10, 16, 16, 3), np.uint8), folder / "no_sound.mp4", fps=10)
    soundfile.write(folder / "whole.mp3", sine(44100, seconds=3.0), 44100, format="MP3")
    data = bytearray((folder / "whole.mp3").read_bytes())
    paths["cut.mp3"] = folder / "cut.mp3"
    paths["cut.mp3"].write_bytes(bytes(data[: len(data) // 6]))
    rng = np.random.default_rng(0)
    for fraction in (0.3, 0.5):  # two stretches of noise in the middle of the stream
        start = int(len(data) * fraction)
        data[start : start + 2000] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
    paths["damaged.mp3"] = folder / "damaged.mp3"
    paths["damaged.mp3"].write_bytes(bytes(data))
    return paths


@pytest.mark.parametrize(
    "name, reason",
    [
        ("missing.wav", "no such file"),
        ("text.wav", "FFmpeg cannot read it"),
        ("picture.png", "no audio stream"),
        ("no_sound.mp4", "no audio stream"),
        ("short.wav", "0.5 s of audio, at least 1.0 s is needed"),
        ("zeros.wav", "the audio is silent"),
        ("folder.wav", "is a folder"),
        ("empty.mp3", "is empty"),
        ("cut.mp3", "is the file cut short"),
        ("damaged.mp3", "damaged"),
    ],
)
def test_load_audio_refuses_bad_files_in_one_line(bad_audio, name, reason):
    with pytest.raises(BadInputError) as caught:
        music.load_audio(bad_audio[name])
    message = str(caught.value)
    assert "\n" not in message and name in message and reason in message, message


def test_audio_duration_refuses_what_is_not_audio(bad_audio):
    for name in ("missing.wav", "text.wav", "picture.png", "folder.wav"):
        with pytest.raises(BadInputError, match=name):
            music.audio_duration(bad_audio[name])


def test_write_audio_is_atomic_and_round_trips(tmp_path):
    signal = sine(RATE).astype(np.float32)
    path = music.write_audio(tmp_path / "out.wav", signal, RATE, subtype="FLOAT")
    assert np.array_equal(music.load_audio(path, RATE), signal)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]  # no temporary file left behind
    mp3 = music.write_audio(tmp_path / "song.mp3", signal, RATE)  # the chapter hands an MP3 to its command
    assert abs(dominant_frequency(music.load_audio(mp3, RATE), RATE) - 440.0) < 2.0
    mp3.unlink()
    with pytest.raises(BadInputError, match="NaN"):
        music.write_audio(tmp_path / "nan.wav", np.full(100, np.nan), RATE)
    with pytest.raises(BadInputError, match=".mp4"):
        music.write_audio(tmp_path / "out.mp4", signal, RATE)
    assert not (tmp_path / "nan.wav").exists()


# --- rendering the corpus -------------------------------------------------------------------


def test_corpus_table_is_consistent():
    assert 10 <= len(music.CORPUS_PIECES) <= 16
    assert len(set(music.PIECE_IDS)) == len(music.PIECE_IDS)
    assert all(30 <= piece.tempo_bpm <= 240 and piece.title and piece.composer for piece in music.CORPUS_PIECES)
    with pytest.raises(BadInputError, match="unknown; choose one of"):
        music.render_piece("no-such-piece")


@pytest.fixture
def fresh_build(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path))
    return tmp_path


def test_render_piece_is_deterministic_cached_and_honours_seconds(fresh_build, monkeypatch):
    audio, info = music.render_piece("ryans-haste-to-the-wedding", seconds=6.0, seed=3)
    assert audio.dtype == np.float32 and audio.size == 6 * RATE
    assert np.isfinite(audio).all() and 0.8 < np.abs(audio).max() <= 1.0
    assert info["seconds"] == 6.0 and info["beats_per_bar"] == 2 and info["time_signature"] == "6/8"
    assert info["source"] == "music21 corpus: ryansMammoth/HasteToTheWeddingJig"
    assert {"piece", "title", "composer", "tempo_bpm", "beat_times"} <= set(info)

    start = time.perf_counter()
    again, info_again = music.render_piece("ryans-haste-to-the-wedding", seconds=6.0, seed=3)
    assert time.perf_counter() - start < 0.5
    assert np.array_equal(audio, again) and info_again == info

    monkeypatch.setenv("COURSE_BUILD", str(fresh_build / "elsewhere"))  # no cache: rendered anew
    assert np.array_equal(music.render_piece("ryans-haste-to-the-wedding", seconds=6.0, seed=3)[0], audio)
    other, _ = music.render_piece("ryans-haste-to-the-wedding", seconds=6.0, seed=4)
    assert not np.array_equal(other, audio) and np.abs(other - audio).max() < 0.5

    faster, info_fast = music.render_piece(  # NumPy numbers work as well as Python ones
        "ryans-haste-to-the-wedding", seconds=np.float32(6.0), tempo_bpm=np.float64(140)
    )
    assert info_fast["tempo_bpm"] == 140 and info_fast["tempo_from"] == "argument"
    assert len(info_fast["beat_times"]) > len(info["beat_times"])


def test_render_piece_loops_a_short_piece_and_survives_a_damaged_cache(fresh_build):
    audio, info = music.render_piece("bach-bwv66.6")  # one pass: 36 quarters at the score's 96 bpm
    assert info["tempo_from"] == "metronome mark" and info["seconds"] == pytest.approx(22.5, abs=0.01)
    longer, info_long = music.render_piece("bach-bwv66.6", seconds=50.0)
    assert longer.size == 50 * RATE and np.abs(longer[30 * RATE :]).max() > 0.1  # still playing after the piece
    assert np.allclose(np.diff(info_long["beat_times"]), 60 / 96, atol=1e-4)
    wavs = list((fresh_build / "music").glob("bach-bwv66.6-*.wav"))
    assert len(wavs) == 2 and not list((fresh_build / "music").glob(".*"))  # no temporary files left
    for wav in wavs:
        wav.write_bytes(wav.read_bytes()[:1000])  # as if the disk had filled up
    again, _ = music.render_piece("bach-bwv66.6", seconds=50.0)
    assert np.array_equal(again, longer)
    assert json.loads(wavs[0].with_name(wavs[0].name[:-4] + ".json").read_text())["piece"] == "bach-bwv66.6"


@pytest.mark.parametrize("piece_id", ["bach-bwv269", "ryans-drop-of-whiskey"])
def test_render_piece_beats_are_the_beats_librosa_hears(fresh_build, piece_id):
    audio, info = music.render_piece(piece_id, seconds=12.0)
    features = music.audio_features(audio, RATE, fps=30.0, start_bpm=info["tempo_bpm"])
    ratio = features.tempo_bpm / info["tempo_bpm"]
    assert min(abs(ratio - r) for r in (0.5, 1.0, 2.0)) < 0.05 * ratio
    grid = np.asarray(info["beat_times"])
    heard = features.beat_frames / features.fps
    assert len(heard) >= 0.8 * len(grid)
    # librosa's beats land on the drummed grid, about one frame late (as in FACT's features)
    distance = np.abs(heard[:, None] - grid[None, :]).min(axis=1)
    assert np.mean(distance < 0.07) > 0.9


# --- features -------------------------------------------------------------------------------


def click_track(bpm: float, seconds: float, sample_rate: int = RATE) -> np.ndarray:
    audio = np.zeros(int(seconds * sample_rate), np.float32)
    t = np.arange(int(0.02 * sample_rate)) / sample_rate
    click = (np.sin(2 * np.pi * 1000 * t) * np.exp(-t / 0.004)).astype(np.float32)
    for at in np.arange(0.5, seconds - 0.1, 60.0 / bpm):
        start = int(round(at * sample_rate))
        audio[start : start + click.size] += click
    return audio


def test_feature_names_follow_fact():
    assert len(music.FEATURE_NAMES) == 35 and len(set(music.FEATURE_NAMES)) == 35
    assert music.FEATURE_NAMES[0] == "onset_envelope" and music.FEATURE_NAMES[-2:] == ("onset_peak", "beat")
    assert music.FEATURE_NAMES[1:21] == tuple(f"mfcc_{i:02d}" for i in range(20))


def test_audio_features_of_a_click_track_at_120_bpm():
    audio = click_track(120, 10.0)
    features = music.audio_features(audio, RATE, fps=30.0)
    assert features.features.shape == (300, 35) and features.features.dtype == np.float32
    assert np.isfinite(features.features).all()
    assert features.frames == 300 and features.seconds == pytest.approx(10.0)
    assert features.tempo_bpm == pytest.approx(120, rel=0.03)
    assert np.all(np.abs(np.diff(features.beat_frames) - 15) <= 1)
    assert features.column("beat").sum() == len(features.beat_frames)
    assert np.array_equal(features.onset_envelope, features.column("onset_envelope"))
    peaks = np.nonzero(features.column("onset_peak"))[0]
    assert len(peaks) >= 15 and np.all(np.abs(np.diff(peaks) - 15) <= 1)


@pytest.mark.parametrize("seconds, sample_rate, fps", [(2.345, 22050, 30.0), (3.0, 44100, 60.0), (1.5, 16000, 25.0)])
def test_audio_features_have_one_row_per_pose_frame(seconds, sample_rate, fps):
    audio = sine(sample_rate, seconds=seconds).astype(np.float32) + 0.3 * click_track(100, seconds, sample_rate)
    features = music.audio_features(audio, sample_rate, fps=fps)
    assert features.features.shape == (round(seconds * fps), 35)
    assert np.isfinite(features.features).all()
    assert features.column("beat").sum() == len(features.beat_frames)
    assert np.all(features.beat_frames < features.frames)
    chroma = features.features[:, 21:33].mean(axis=0)  # a 440 Hz sine is an A
    assert music.CHROMA_NAMES[int(chroma.argmax())] == "A"


def test_audio_features_refuses_bad_input():
    with pytest.raises(BadInputError, match="fps"):
        music.audio_features(click_track(120, 2.0), RATE, fps=0)
    with pytest.raises(BadInputError, match="at least 1.0 s"):
        music.audio_features(np.ones(1000, np.float32), RATE)
    with pytest.raises(BadInputError, match="NaN"):
        music.audio_features(np.full(RATE * 2, np.nan), RATE)
