"""Music for chapter 08 (music to dance): read any audio file, play real scores from the music21
corpus with a drum track added, and turn audio into the 35 features per pose frame that AIST++
and FACT use.

Audio is float32 mono in [-1, 1]. Decoding uses PyAV (FFmpeg's libraries), so wav, flac, ogg,
mp3, m4a and opus all work. librosa and music21 load slowly (librosa compiles with numba on its
first call), so they are imported inside the functions that need them. Chapter 08 explains
every step.
"""

from __future__ import annotations

import json
import math
import numbers
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInputError
from ..runtime import atomic_path, build_dir, settings_key

MIN_SECONDS = 1.0  # shorter audio gives too few beats to dance to
SILENCE_PEAK = 1e-4  # audio whose loudest sample stays below this counts as silent
MAX_SAMPLE_RATE = 192_000

# --- the features FACT feeds its music transformer ------------------------------------------
# AIST++/FACT (google-research/mint, tools/preprocessing.py; EDGE's baseline_features.py does the
# same at 30 fps) resample the music to FPS * HOP_LENGTH Hz so that one STFT hop is one pose frame,
# then stack: librosa's onset strength (1), 20 MFCCs, 12 CENS chroma bins, the onset peaks of
# onset_detect (one-hot, 1) and the beats of beat_track(tightness=100) (one-hot, 1).
FEATURE_HOP = 512
CHROMA_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FEATURE_NAMES = (
    ("onset_envelope",)
    + tuple(f"mfcc_{i:02d}" for i in range(20))
    + tuple(f"chroma_{name}" for name in CHROMA_NAMES)
    + ("onset_peak", "beat")
)


@dataclass(frozen=True)
class CorpusPiece:
    """One work of the music21 corpus and how to play it.

    `tempo_bpm` (beats per minute, a beat being the time signature's beat: a quarter in 4/4, a
    dotted quarter in 6/8, a half in 2/2) is used only when the score has no metronome mark.
    `repeats` expands the repeat signs (AABB for a fiddle tune); long movements are played as
    written, because expanding them costs music21 seconds.
    """

    id: str
    source: str  # path inside the music21 corpus
    title: str
    composer: str
    character: str
    tempo_bpm: float
    number: int | None = None  # the tune's number (X:) in an ABC collection
    repeats: bool = True

    @property
    def where(self) -> str:
        return self.source if self.number is None else f"{self.source} #{self.number}"


CORPUS_PIECES: tuple[CorpusPiece, ...] = (
    CorpusPiece("bach-bwv66.6", "bach/bwv66.6", "Chorale from Cantata BWV 66", "J. S. Bach", "chorale", 80),
    CorpusPiece("bach-bwv269", "bach/bwv269", "Chorale BWV 269", "J. S. Bach", "chorale in 3/4", 88),
    CorpusPiece(
        "mozart-k545-1",
        "mozart/k545/movement1_exposition",
        "Piano Sonata in C major K. 545, Allegro (exposition)",
        "W. A. Mozart",
        "sonata",
        126,
    ),
    CorpusPiece(
        "mozart-k156-3",
        "mozart/k156/movement3",
        "String Quartet in G major K. 156, Tempo di Menuetto",
        "W. A. Mozart",
        "minuet",
        120,
        repeats=False,
    ),
    CorpusPiece(
        "joplin-maple-leaf-rag",
        "joplin/maple_leaf_rag",
        "Maple Leaf Rag",
        "Scott Joplin",
        "ragtime",
        100,
        repeats=False,
    ),
    CorpusPiece(
        "chopin-mazurka-op6-2",
        "chopin/mazurka06-2",
        "Mazurka in C-sharp minor Op. 6 No. 2",
        "Frédéric Chopin",
        "mazurka",
        150,
        repeats=False,
    ),
    CorpusPiece("liliuokalani-aloha-oe", "liliuokalani/aloha_oe", "Aloha ʻOe", "Liliʻuokalani", "ballad", 80),
    CorpusPiece(
        "berlin-alexanders-ragtime-band",
        "leadSheet/berlinAlexandersRagtime",
        "Alexander's Ragtime Band (lead sheet with chords)",
        "Irving Berlin",
        "ragtime song",
        120,
    ),
    CorpusPiece("ryans-soldiers-joy", "ryansMammoth/SoldiersJoy", "Soldier's Joy", "traditional", "reel", 112),
    CorpusPiece(
        "ryans-fishers-hornpipe", "ryansMammoth/FishersHornpipe", "Fisher's Hornpipe", "traditional", "hornpipe", 88
    ),
    CorpusPiece(
        "ryans-haste-to-the-wedding",
        "ryansMammoth/HasteToTheWeddingJig",
        "Haste to the Wedding",
        "traditional",
        "jig in 6/8",
        112,
    ),
    CorpusPiece(
        "ryans-drop-of-whiskey",
        "ryansMammoth/DropOfWhiskeySlipjig",
        "A Drop of Whiskey",
        "traditional",
        "slip jig in 9/8",
        112,
    ),
    CorpusPiece(
        "essen-white-cockade",
        "essenFolksong/folkHaydn",
        "The White Cockade",
        "traditional (Scottish)",
        "folk song in 2/2",
        90,
        number=22,
    ),
)
PIECE_IDS = tuple(piece.id for piece in CORPUS_PIECES)


@dataclass
class MusicFeatures:
    """Audio features at the pose frame rate: row t describes the music at frame t / fps."""

    features: np.ndarray  # (frames, 35) float32, columns FEATURE_NAMES
    beat_frames: np.ndarray  # frame indices of librosa's beats (int)
    onset_envelope: np.ndarray  # (frames,) float32, the first column
    tempo_bpm: float  # librosa's tempo estimate
    fps: float
    frames: int
    seconds: float

    def column(self, name: str) -> np.ndarray:
        """One feature over time, by its name in FEATURE_NAMES."""
        if name not in FEATURE_NAMES:
            raise BadInputError(f"feature {name!r}: unknown; the names are in FEATURE_NAMES")
        return self.features[:, FEATURE_NAMES.index(name)]


# --- reading and writing audio --------------------------------------------------------------


def check_audio_path(path: str | Path) -> Path:
    """Fail with a one-line reason when `path` cannot possibly be an audio file."""
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    if path.is_dir():
        raise BadInputError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise BadInputError(f"{path}: is empty (0 bytes)")
    return path


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(text.split(": '")[0].split())


def _open_audio(path: Path) -> tuple[Any, Any]:
    """The container and its first audio stream, or a one-line BadInputError."""
    import av  # PyAV: decodes every common audio format

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: FFmpeg cannot read it ({_reason(exc)}); is it damaged, or not audio?") from None
    if not container.streams.audio:
        kinds = [stream.type for stream in container.streams]
        container.close()
        holds = ", ".join(f"{kinds.count(kind)} {kind} stream" for kind in sorted(set(kinds))) or "no streams"
        raise BadInputError(f"{path}: no audio stream (the file holds {holds})")
    return container, container.streams.audio[0]


def _is_number(value: Any) -> bool:
    """A real number (NumPy's too), not a bool and not NaN."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)


def _check_rate(sample_rate: Any, name: str = "sample_rate") -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise BadInputError(f"{name}={sample_rate!r}: give a whole number of samples per second, like 22050")
    if not 1000 <= sample_rate <= MAX_SAMPLE_RATE:
        raise BadInputError(f"{name}={sample_rate}: must lie between 1000 and {MAX_SAMPLE_RATE} Hz")
    return int(sample_rate)


def load_audio(path: str | Path, sample_rate: int = 22050, *, max_seconds: float | None = None) -> np.ndarray:
    """Decode an audio file (or the sound track of a video) to float32 mono in [-1, 1] at
    `sample_rate`: channels are averaged, the rate is converted by FFmpeg's resampler.
    `max_seconds` stops decoding early. Too short (under MIN_SECONDS), silent, damaged or
    non-audio files raise BadInputError with a one-line reason. Chapter 08 explains why."""
    import av  # PyAV: decodes every common audio format

    path = check_audio_path(path)
    sample_rate = _check_rate(sample_rate)
    if max_seconds is not None and not (_is_number(max_seconds) and max_seconds >= MIN_SECONDS):
        raise BadInputError(f"max_seconds={max_seconds!r}: give None or at least {MIN_SECONDS} s")
    limit = None if max_seconds is None else int(round(max_seconds * sample_rate))
    container, stream = _open_audio(path)
    chunks: list[np.ndarray] = []
    total = 0
    with container:
        try:
            resampler = av.AudioResampler(format="fltp", rate=sample_rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().mean(axis=0))
                    total += chunks[-1].size
                if limit is not None and total >= limit:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().mean(axis=0))
                    total += chunks[-1].size
        except (av.error.FFmpegError, ValueError, TypeError, RuntimeError, OSError) as exc:
            raise BadInputError(
                f"{path}: damaged audio, decoding failed after {total / sample_rate:.1f} s ({_reason(exc)})"
            ) from None
        declared = _declared_seconds(container, stream)
    audio = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    if declared is not None and 0 < audio.size - declared * sample_rate < 0.1 * sample_rate:
        audio = audio[: int(round(declared * sample_rate))]  # AAC decodes whole frames: drop the padding
    if limit is not None:
        audio = audio[:limit]
    seconds = audio.size / sample_rate
    if seconds < MIN_SECONDS:
        hint = ""
        if declared is not None and declared >= MIN_SECONDS:
            hint = f" (the header promises {declared:.1f} s: is the file cut short or damaged?)"
        raise BadInputError(f"{path}: {seconds:.1f} s of audio, at least {MIN_SECONDS} s is needed{hint}")
    audio = np.clip(np.nan_to_num(audio, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
    peak = float(np.abs(audio).max())
    if peak < SILENCE_PEAK:
        raise BadInputError(f"{path}: the audio is silent (peak {peak:.1e})")
    return audio


def _declared_seconds(container: Any, stream: Any) -> float | None:
    """The length the header gives: the audio stream's own, else the container's; None if neither."""
    import av  # PyAV: decodes every common audio format

    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def audio_duration(path: str | Path) -> float:
    """Seconds of audio in a file: from the container's header when it says, else by decoding."""
    import av  # PyAV: decodes every common audio format

    path = check_audio_path(path)
    container, stream = _open_audio(path)
    with container:
        declared = _declared_seconds(container, stream)
        if declared is not None:
            return declared
        try:
            samples = sum(frame.samples for frame in container.decode(stream))
        except (av.error.FFmpegError, ValueError, RuntimeError, OSError) as exc:
            raise BadInputError(f"{path}: damaged audio, decoding failed ({_reason(exc)})") from None
        return samples / float(stream.rate or stream.sample_rate)


_WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}


def _check_signal(audio: Any, name: str = "audio") -> np.ndarray:
    array = np.asarray(audio)
    if array.ndim not in (1, 2) or array.shape[0] == 0 or not np.issubdtype(array.dtype, np.number):
        raise BadInputError(f"{name}: expected a (samples,) or (samples, channels) array, got shape {array.shape}")
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise BadInputError(f"{name}: contains NaN or infinite values")
    return array


def write_audio(path: str | Path, audio: np.ndarray, sample_rate: int, *, subtype: str | None = None) -> Path:
    """Write samples in [-1, 1] (mono (N,) or (N, channels)) as a wav file, atomically: a crash
    leaves the old file or the new one. .flac, .ogg (Vorbis) and .mp3 names work too; `subtype`
    is soundfile's ('PCM_16', the default for wav, or 'FLOAT' for an exact copy)."""
    import soundfile

    path = Path(path)
    array = _check_signal(audio)
    sample_rate = _check_rate(sample_rate)
    fmt = _WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadInputError(f"{path}: unknown audio type {path.suffix!r}; use one of {', '.join(_WRITE_FORMATS)}")
    with atomic_path(path) as tmp:
        soundfile.write(tmp, np.clip(array, -1.0, 1.0), sample_rate, format=fmt, subtype=subtype)
    return path


# --- scores from the music21 corpus ---------------------------------------------------------


@dataclass(frozen=True)
class _Score:
    """What the synthesiser needs from a score: every note, in quarter lengths, plus the metre."""

    offsets: np.ndarray  # start of each note, quarter lengths
    lengths: np.ndarray  # duration of each note, quarter lengths
    freqs: np.ndarray  # Hz
    voices: np.ndarray  # timbre index of each note
    gains: np.ndarray  # loudness of each note's voice
    loop_quarters: float  # the piece's length, rounded up to whole bars
    beat_quarters: float  # one beat of the time signature
    beats_per_bar: int
    division: int  # 2 for simple metres, 3 for compound ones
    phase_quarters: float  # where the first full bar starts (after a pickup)
    time_signature: str
    mark_bpm: float | None  # the first metronome mark, in quarters per minute


# (harmonic amplitudes, decay time constant in seconds) per voice
TIMBRES = (
    ((1.0, 0.55, 0.35, 0.22, 0.12, 0.08), 1.1),  # melody: bright, like a bowed or plucked string
    ((1.0, 0.4, 0.18, 0.08), 1.6),  # inner voice: warm
    ((1.0, 0.0, 0.33, 0.0, 0.2, 0.0, 0.14), 1.3),  # inner voice: hollow, clarinet-like odd harmonics
    ((1.0, 0.6, 0.25, 0.1), 0.9),  # bass
    ((1.0, 0.5, 0.25, 0.12), 0.35),  # chords realised from chord symbols: short, piano-like
)
VOICE_MELODY, VOICE_BASS, VOICE_CHORDS = 0, 3, 4


def corpus_piece(piece_id: str) -> CorpusPiece:
    """The CORPUS_PIECES entry with this id."""
    for piece in CORPUS_PIECES:
        if piece.id == piece_id:
            return piece
    raise BadInputError(f"piece {piece_id!r}: unknown; choose one of {', '.join(PIECE_IDS)}")


@lru_cache(maxsize=16)
def _read_score(piece_id: str) -> _Score:
    """Parse a corpus piece with music21 and list its notes (ties merged, grace notes dropped)."""
    from music21 import chord, corpus, harmony, meter, note, repeat, stream, tempo

    piece = corpus_piece(piece_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            score = corpus.parse(piece.source, number=piece.number)
        except Exception as exc:  # music21 raises many types; all mean the same here
            raise BadInputError(f"piece {piece_id!r}: music21 cannot read {piece.where} ({exc})") from None
        if piece.repeats:
            try:
                score = score.expandRepeats()
            except repeat.ExpanderException:
                pass  # badly formed repeat signs: play the score as written
    parts = list(score.parts) or [score]
    signature = score.recurse().getElementsByClass(meter.TimeSignature).first() or meter.TimeSignature("4/4")
    beat_q = float(signature.beatDuration.quarterLength)
    bar_q = float(signature.barDuration.quarterLength)
    beats_per_bar = max(1, round(bar_q / beat_q))
    division = 3 if signature.beatDivisionCount == 3 else 2
    mark_bpm = None
    for mark in score.recurse().getElementsByClass(tempo.MetronomeMark):
        bpm = mark.getQuarterBPM()
        if bpm:
            mark_bpm = float(bpm)
            break
    measures = list(parts[0].getElementsByClass(stream.Measure))
    phase_q = float(measures[1].offset) % bar_q if len(measures) > 1 else 0.0

    rows: list[list[float]] = []  # offset, length, frequency, voice, gain
    symbols: list[tuple[float, list[float]]] = []
    last = len(parts) - 1
    for index, part in enumerate(parts):
        voice = VOICE_MELODY if index == 0 else VOICE_BASS if index == last else 1 + (index - 1) % 2
        gain = 1.0 if index == 0 else 0.75 if index == last else 0.6
        open_ties: dict[float, int] = {}
        for element in part.recurse().notes:
            offset = float(element.getOffsetInHierarchy(part))
            if isinstance(element, harmony.ChordSymbol):
                symbols.append((offset, [p.frequency for p in element.pitches]))
                continue
            length = float(element.quarterLength)
            if length <= 0:  # grace notes
                continue
            members = list(element.notes) if isinstance(element, chord.Chord) else [element]
            for member in members:
                if not isinstance(member, note.Note):
                    continue
                tie = member.tie if member.tie is not None else element.tie
                key = float(member.pitch.ps)
                held = open_ties.pop(key, None)
                if held is not None and abs(rows[held][0] + rows[held][1] - offset) < 1e-6 and tie is not None:
                    rows[held][1] += length  # the tied continuation of a held note
                    current = held
                else:
                    rows.append([offset, length, member.pitch.frequency, voice, gain])
                    current = len(rows) - 1
                if tie is not None and tie.type in ("start", "continue"):
                    open_ties[key] = current
    end_q = float(score.highestTime)
    rows += _comp_chord_symbols(symbols, end_q, beat_q, beats_per_bar, phase_q)
    if not rows:
        raise BadInputError(f"piece {piece_id!r}: {piece.where} holds no notes")
    table = np.asarray(rows, dtype=np.float64)
    table = table[np.lexsort((table[:, 2], table[:, 0]))]
    return _Score(
        offsets=table[:, 0],
        lengths=table[:, 1],
        freqs=table[:, 2],
        voices=table[:, 3].astype(int),
        gains=table[:, 4],
        loop_quarters=math.ceil(end_q / bar_q - 1e-6) * bar_q,
        beat_quarters=beat_q,
        beats_per_bar=beats_per_bar,
        division=division,
        phase_quarters=phase_q,
        time_signature=signature.ratioString,
        mark_bpm=mark_bpm,
    )


def _comp_chord_symbols(
    symbols: list[tuple[float, list[float]]], end_q: float, beat_q: float, beats_per_bar: int, phase_q: float
) -> list[list[float]]:
    """A lead sheet's chord symbols played 'oom-pah': the lowest note an octave down on the strong beats,
    the chord on the others, from each symbol to the next."""
    rows: list[list[float]] = []
    symbols = sorted((s for s in symbols if s[1]), key=lambda s: s[0])
    for (start, freqs), following in zip(symbols, symbols[1:] + [(end_q, [])], strict=False):
        first = math.ceil((start - phase_q) / beat_q - 1e-6)
        beat = first
        while phase_q + beat * beat_q < following[0] - 1e-6:
            at = phase_q + beat * beat_q
            if beat % beats_per_bar % 2 == 0:
                rows.append([at, 0.9 * beat_q, min(freqs) / 2, VOICE_CHORDS, 0.7])
            else:
                rows += [[at, 0.6 * beat_q, f, VOICE_CHORDS, 0.35] for f in freqs]
            beat += 1
    return rows


# --- the synthesiser ------------------------------------------------------------------------


def _note_wave(freq: float, samples: int, voice: int, sample_rate: int) -> np.ndarray:
    """One note: a few harmonics under an attack / exponential decay / release envelope."""
    amplitudes, decay = TIMBRES[voice]
    release = int(0.06 * sample_rate)
    t = np.arange(samples + release, dtype=np.float32) / sample_rate
    wave = np.zeros_like(t)
    for harmonic, amplitude in enumerate(amplitudes, start=1):
        if amplitude and harmonic * freq < 0.45 * sample_rate:
            wave += amplitude * np.sin((2 * np.pi * harmonic * freq) * t)
    envelope = np.minimum(t / 0.008, 1.0) * np.exp(-t / decay)
    envelope[samples:] *= np.linspace(1.0, 0.0, release, dtype=np.float32)
    return (wave * envelope).astype(np.float32)


def _drum_sounds(sample_rate: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Kick (a falling sine), snare (noise and a tone) and hi-hat (high-passed noise)."""
    t = np.arange(int(0.3 * sample_rate)) / sample_rate
    pitch = 50 + 110 * np.exp(-t / 0.03)
    kick = np.sin(2 * np.pi * np.cumsum(pitch) / sample_rate) * np.exp(-t / 0.12)
    t = np.arange(int(0.2 * sample_rate)) / sample_rate
    rattle, body = rng.standard_normal(t.size) * np.exp(-t / 0.05), np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.07)
    snare = 0.7 * rattle + 0.5 * body
    t = np.arange(int(0.06 * sample_rate)) / sample_rate
    hat = np.diff(rng.standard_normal(t.size + 1)) * np.exp(-t / 0.012)
    sounds = {"kick": kick, "snare": snare, "hat": hat}
    return {name: (sound / np.abs(sound).max()).astype(np.float32) for name, sound in sounds.items()}


def _add(out: np.ndarray, start: int, sound: np.ndarray, gain: float) -> None:
    stop = min(out.size, start + sound.size)
    if stop > start >= 0:
        out[start:stop] += gain * sound[: stop - start]


def _beat_grid(score: _Score, total_q: float) -> np.ndarray:
    """Indices j of the beats at phase + j * beat (in quarters) inside [0, total_q); j = 0 is a downbeat."""
    first = -math.floor(score.phase_quarters / score.beat_quarters + 1e-9)
    last = math.ceil((total_q - score.phase_quarters) / score.beat_quarters - 1e-9)
    return np.arange(first, last)


def _drum_pattern(beat_in_bar: int, beats_per_bar: int) -> str | None:
    """Kick on the strong beats, snare on the backbeats: 1 2 | 1 2 3 (waltz) | 1 2 3 4 (rock)."""
    if beat_in_bar == 0 or (beats_per_bar == 4 and beat_in_bar == 2):
        return "kick"
    if beats_per_bar == 3 or beat_in_bar % 2 == 1:
        return "snare"
    return "kick" if beats_per_bar % 2 else "snare"


def _synthesise(
    score: _Score, sample_rate: int, tempo_bpm: float, seconds: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The piece (looped to fill `seconds`) plus drums; returns the audio and the beat times."""
    rng = np.random.default_rng(seed)
    seconds_per_quarter = 60.0 / (tempo_bpm * score.beat_quarters)
    total = int(round(seconds * sample_rate))
    total_q = seconds / seconds_per_quarter
    loops = max(1, math.ceil(total_q / score.loop_quarters))
    offsets = (score.offsets[None, :] + score.loop_quarters * np.arange(loops)[:, None]).reshape(-1)
    keep = offsets < total_q
    count = len(score.offsets)
    index = np.tile(np.arange(count), loops)[keep]
    starts = np.round(offsets[keep] * seconds_per_quarter * sample_rate).astype(np.int64)
    lengths = np.maximum(1, np.round(score.lengths[index] * seconds_per_quarter * sample_rate)).astype(np.int64)
    on_downbeat = np.isclose(
        np.mod(offsets[keep] - score.phase_quarters, score.beat_quarters * score.beats_per_bar), 0.0, atol=1e-6
    )
    velocity = score.gains[index] * np.clip(rng.normal(1.0, 0.07, index.size), 0.75, 1.25) * (1 + 0.12 * on_downbeat)

    music = np.zeros(total, dtype=np.float32)
    waves: dict[tuple[int, float, int], np.ndarray] = {}
    for i, start, length, gain in zip(index, starts, lengths, velocity, strict=True):
        key = (int(score.voices[i]), round(float(score.freqs[i]), 2), int(length))
        wave = waves.get(key)
        if wave is None:
            wave = waves[key] = _note_wave(key[1], key[2], key[0], sample_rate)
        _add(music, int(start), wave, float(gain))

    drums = np.zeros(total, dtype=np.float32)
    sounds = _drum_sounds(sample_rate, rng)
    beats = _beat_grid(score, total_q)
    beat_times = (score.phase_quarters + beats * score.beat_quarters) * seconds_per_quarter
    jitter = np.clip(rng.normal(1.0, 0.08, (beats.size, score.division + 1)), 0.7, 1.3)
    sub = score.beat_quarters / score.division * seconds_per_quarter
    for j, (beat, time) in enumerate(zip(beats, beat_times, strict=True)):
        start = int(round(time * sample_rate))
        drum = _drum_pattern(int(beat % score.beats_per_bar), score.beats_per_bar)
        if drum is not None:
            _add(drums, start, sounds[drum], (1.0 if drum == "kick" else 0.7) * jitter[j, 0])
        for k in range(score.division):  # the hi-hat on every subdivision, the off-beats louder
            hat_gain = (0.12 if k else 0.08) * jitter[j, k + 1]
            _add(drums, int(round((time + k * sub) * sample_rate)), sounds["hat"], hat_gain)

    music_peak = float(np.abs(music).max()) or 1.0
    mix = 0.7 * music / music_peak + 0.6 * drums / (float(np.abs(drums).max()) or 1.0)
    fade = min(total, int(0.02 * sample_rate))
    mix[total - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    mix *= 0.9 / (float(np.abs(mix).max()) or 1.0)
    return mix.astype(np.float32), beat_times[(beat_times >= 0) & (beat_times < seconds)]


RENDER_VERSION = 1  # bump when the synthesiser changes, so that cached renders are redone


def render_piece(
    piece_id: str,
    sample_rate: int = 22050,
    *,
    tempo_bpm: float | None = None,
    seconds: float | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Play a CORPUS_PIECES score as audio: every part with a simple additive synthesiser, plus
    a drum track (kick on the strong beats, snare on the backbeats, hi-hat on the subdivisions of
    the time signature), because a dancer needs beats the score does not write down.

    The tempo is the score's metronome mark, else the piece's default; `tempo_bpm` overrides both
    (beats per minute of the time signature's beat). `seconds` cuts the piece or loops it; by
    default it plays once. `seed` varies the loudness of each note and drum hit. Returns float32
    mono audio (peak 0.9) and an info dict (tempo, metre, beat_times in seconds, source).
    Renders are cached in build/music. Chapter 08 explains the choices."""
    piece = corpus_piece(piece_id)
    sample_rate = _check_rate(sample_rate)
    if tempo_bpm is not None and not (_is_number(tempo_bpm) and 30 <= tempo_bpm <= 300):
        raise BadInputError(f"tempo_bpm={tempo_bpm!r}: give None (the score's tempo) or 30 to 300 beats per minute")
    if seconds is not None and not (_is_number(seconds) and MIN_SECONDS <= seconds <= 1800):
        raise BadInputError(f"seconds={seconds!r}: give None (the whole piece) or {MIN_SECONDS} to 1800 s")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise BadInputError(f"seed={seed!r}: must be an integer")
    settings = {
        "piece": [piece.source, piece.number, piece.tempo_bpm, piece.repeats],
        "sample_rate": sample_rate,
        "tempo_bpm": None if tempo_bpm is None else float(tempo_bpm),
        "seconds": None if seconds is None else float(seconds),
        "seed": int(seed),
        "version": RENDER_VERSION,
    }
    name = f"{piece.id}-{settings_key(settings)}"
    wav, meta = build_dir("music") / f"{name}.wav", build_dir("music") / f"{name}.json"
    cached = _load_render(wav, meta, sample_rate)
    if cached is not None:
        return cached

    score = _read_score(piece.id)
    if tempo_bpm is not None:
        bpm, tempo_from = float(tempo_bpm), "argument"
    elif score.mark_bpm is not None:
        bpm, tempo_from = score.mark_bpm / score.beat_quarters, "metronome mark"
    else:
        bpm, tempo_from = float(piece.tempo_bpm), "default"
    if seconds is None:
        seconds = score.loop_quarters * 60.0 / (bpm * score.beat_quarters)
    audio, beat_times = _synthesise(score, sample_rate, bpm, float(seconds), int(seed))
    info = {
        "piece": piece.id,
        "title": piece.title,
        "composer": piece.composer,
        "character": piece.character,
        "tempo_bpm": bpm,
        "tempo_from": tempo_from,
        "time_signature": score.time_signature,
        "beats_per_bar": score.beats_per_bar,
        "beat_quarters": score.beat_quarters,
        "seconds": audio.size / sample_rate,
        "sample_rate": sample_rate,
        "seed": int(seed),
        "beat_times": [round(float(t), 6) for t in beat_times],
        "source": f"music21 corpus: {piece.where}",
    }
    write_audio(wav, audio, sample_rate, subtype="FLOAT")
    with atomic_path(meta) as tmp:  # written last: it marks the render complete
        tmp.write_text(json.dumps(info, indent=1))
    return audio, info


def _load_render(wav: Path, meta: Path, sample_rate: int) -> tuple[np.ndarray, dict[str, Any]] | None:
    """A cached render, or None when it is missing or unreadable (then it is simply redone)."""
    import soundfile

    if not (wav.is_file() and meta.is_file()):
        return None
    try:
        info = json.loads(meta.read_text())
        audio, rate = soundfile.read(wav, dtype="float32")
    except (OSError, ValueError, RuntimeError):
        return None
    if rate != sample_rate or audio.ndim != 1 or abs(audio.size / rate - info.get("seconds", -1)) > 1e-6:
        return None
    return audio, info


# --- features per pose frame ----------------------------------------------------------------


def audio_features(
    audio: np.ndarray, sample_rate: int, fps: float = 30.0, *, start_bpm: float = 120.0
) -> MusicFeatures:
    """The 35 AIST++/FACT music features, one row per pose frame at `fps`.

    As in FACT's preprocessing, the audio is resampled to fps * 512 Hz so that one hop of 512
    samples is one frame; then librosa gives the onset envelope, 20 MFCCs, 12 CENS chroma bins,
    onset peaks and beats (beat_track with tightness 100, starting from `start_bpm`; FACT passes
    the known tempo of each AIST track). Rows are padded or cut to round(seconds * fps), so that
    features and poses pair one to one. No standardisation here. Chapter 08 explains each one."""
    import librosa

    signal = _check_signal(audio)
    if signal.ndim == 2:
        signal = signal.mean(axis=1)
    sample_rate = _check_rate(sample_rate)
    if not (_is_number(fps) and 5 <= fps <= 120):
        raise BadInputError(f"fps={fps!r}: give a frame rate between 5 and 120")
    if not (_is_number(start_bpm) and 30 <= start_bpm <= 300):
        raise BadInputError(f"start_bpm={start_bpm!r}: give 30 to 300 beats per minute")
    seconds = signal.size / sample_rate
    if seconds < MIN_SECONDS:
        raise BadInputError(f"audio: {seconds:.1f} s long, at least {MIN_SECONDS} s is needed")
    frames = int(round(seconds * fps))
    rate = int(round(fps * FEATURE_HOP))
    if rate != sample_rate:
        signal = librosa.resample(signal, orig_sr=sample_rate, target_sr=rate, res_type="soxr_hq")
    hop = FEATURE_HOP
    envelope = librosa.onset.onset_strength(y=signal, sr=rate, hop_length=hop)
    mfcc = librosa.feature.mfcc(y=signal, sr=rate, n_mfcc=20, hop_length=hop)
    with warnings.catch_warnings():  # the CQT's lowest octaves warn on clips of a second or two
        warnings.filterwarnings("ignore", message="n_fft=.* is too large")
        chroma = librosa.feature.chroma_cens(y=signal, sr=rate, hop_length=hop, n_chroma=12)
    peaks = librosa.onset.onset_detect(onset_envelope=envelope, sr=rate, hop_length=hop)
    tempo, beats = librosa.beat.beat_track(
        onset_envelope=envelope, sr=rate, hop_length=hop, start_bpm=float(start_bpm), tightness=100
    )
    length = min(envelope.size, mfcc.shape[1], chroma.shape[1])
    continuous = np.concatenate([envelope[None, :length], mfcc[:, :length], chroma[:, :length]]).T
    if length >= frames:
        continuous = continuous[:frames]
    else:  # the last frame repeated (a centred STFT gives one frame more than it needs, so this is rare)
        continuous = np.concatenate([continuous, np.repeat(continuous[-1:], frames - length, axis=0)])
    peaks = np.unique(peaks[(peaks >= 0) & (peaks < frames)])
    beats = np.unique(np.asarray(beats, dtype=np.int64))
    beats = beats[(beats >= 0) & (beats < frames)]
    onehots = np.zeros((frames, 2), dtype=np.float32)
    onehots[peaks, 0] = 1.0
    onehots[beats, 1] = 1.0
    features = np.concatenate([continuous.astype(np.float32), onehots], axis=1)
    return MusicFeatures(
        features=features,
        beat_frames=beats,
        onset_envelope=features[:, 0].copy(),
        tempo_bpm=float(np.atleast_1d(tempo)[0]),
        fps=float(fps),
        frames=frames,
        seconds=seconds,
    )
