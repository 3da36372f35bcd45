"""A dancer to learn from (chapter 08): a procedural dancer whose moves lock to the music's beats.
A move is a cycle of key poses of the dancer's controls (crouch, arm raise, hip sway, ...); a
style picks moves bar by bar, and the dancer eases from one key pose to the next so that it
pauses on every beat. Chapter 08 explains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BadInputError
from .skeleton import FEET, SMPL_JOINTS, Motion, forward_kinematics, rotvec_to_matrix

CONTROLS = (
    "crouch", "jump", "shift", "turn", "lean", "hipswing", "nod",
    "raiseL", "raiseR", "fwdL", "fwdR", "elbowL", "elbowR", "kickL", "kickR", "sideL", "sideR",
)  # fmt: skip
_MIRROR = {"raiseL": "raiseR", "fwdL": "fwdR", "elbowL": "elbowR", "kickL": "kickR", "sideL": "sideR"}
_MIRROR.update({v: k for k, v in list(_MIRROR.items())})
_NEGATE = ("shift", "turn", "lean", "hipswing")

# A move is a cycle of key poses, one reached on each beat (controls not named stay at 0).
MOVES: dict[str, list[dict[str, float]]] = {
    "bounce": [
        {"crouch": 0.55, "raiseL": 0.3, "raiseR": 0.3, "elbowL": 0.9, "elbowR": 0.9, "nod": 0.15},
        {"crouch": 0.1, "elbowL": 0.3, "elbowR": 0.3},
    ],
    "step": [
        {"shift": 0.15, "lean": -0.12, "sideR": 0.3, "raiseL": 0.6, "elbowL": 0.6},
        {"crouch": 0.3},
        {"shift": -0.15, "lean": 0.12, "sideL": 0.3, "raiseR": 0.6, "elbowR": 0.6},
        {"crouch": 0.3},
    ],
    "wave": [
        {"raiseL": 2.4, "raiseR": 0.2},
        {"raiseL": 1.3, "raiseR": 1.3, "crouch": 0.15},
        {"raiseL": 0.2, "raiseR": 2.4},
        {"raiseL": 1.3, "raiseR": 1.3, "crouch": 0.15},
    ],
    "clap": [
        {"raiseL": 2.1, "raiseR": 2.1, "fwdL": 0.6, "fwdR": 0.6, "elbowL": 0.5, "elbowR": 0.5},
        {"raiseL": 0.6, "raiseR": 0.6, "crouch": 0.35},
    ],
    "kick": [
        {"crouch": 0.25},
        {"kickL": 1.1, "raiseR": 1.1, "fwdR": 0.5, "lean": 0.05},
        {"crouch": 0.25},
        {"kickR": 1.1, "raiseL": 1.1, "fwdL": 0.5, "lean": -0.05},
    ],
    "twist": [
        {"turn": 0.5, "hipswing": 0.15, "elbowL": 1.3, "elbowR": 1.3, "fwdL": 0.9, "fwdR": 0.9, "crouch": 0.2},
        {"turn": -0.5, "hipswing": -0.15, "elbowL": 1.3, "elbowR": 1.3, "fwdL": 0.9, "fwdR": 0.9, "crouch": 0.2},
    ],
    "jump": [
        {"crouch": 0.6, "raiseL": 0.3, "raiseR": 0.3},
        {"jump": 0.18, "raiseL": 2.4, "raiseR": 2.4},
        {"crouch": 0.5},
        {"crouch": 0.1, "nod": 0.3},
    ],
    "sway": [
        {"hipswing": 0.2, "lean": 0.25, "raiseL": 1.7, "raiseR": 0.8, "fwdL": 0.3},
        {"hipswing": -0.2, "lean": -0.25, "raiseL": 0.8, "raiseR": 1.7, "fwdR": 0.3},
    ],
    "groove": [
        {"nod": 0.35, "crouch": 0.3, "fwdL": 0.5, "fwdR": 0.5, "elbowL": 1.5, "elbowR": 1.5},
        {"nod": -0.1, "crouch": 0.05, "fwdL": 0.3, "fwdR": 0.3, "elbowL": 1.2, "elbowR": 1.2},
    ],
}


@dataclass(frozen=True)
class Style:
    moves: dict[str, float]  # move -> how often it is chosen
    beats_per_pose: int  # 1: a key pose on every beat; 2: on every other beat (slower, smoother)
    amplitude: tuple[float, float]  # range of the per-dance size of every move
    base: dict[str, float]  # the style's resting stance


STYLES: dict[str, Style] = {
    "hiphop": Style({"bounce": 3, "groove": 3, "kick": 2, "step": 1}, 1, (0.8, 1.2), {"crouch": 0.15}),
    "pop": Style({"wave": 3, "clap": 2, "step": 2, "twist": 1}, 1, (0.7, 1.1), {}),
    "house": Style({"step": 3, "twist": 2, "bounce": 2, "jump": 1}, 1, (0.8, 1.2), {"crouch": 0.05}),
    "lyrical": Style({"sway": 3, "wave": 2, "jump": 1}, 2, (0.8, 1.2), {"raiseL": 0.3, "raiseR": 0.3}),
}
STYLE_NAMES = tuple(STYLES)


def beat_phase(times: np.ndarray, beat_times: np.ndarray) -> np.ndarray:
    """How many beats have passed at each time (fractional); beat k falls at beat_times[k],
    extrapolated at the mean beat period before the first and after the last beat."""
    beats = np.asarray(beat_times, dtype=np.float64)
    if beats.ndim != 1 or len(beats) < 2 or np.any(np.diff(beats) <= 0):
        raise BadInputError("beat_times: need at least two increasing beat times")
    period = float(np.mean(np.diff(beats)))
    phase = np.interp(times, beats, np.arange(len(beats), dtype=np.float64))
    phase = np.where(times < beats[0], (times - beats[0]) / period, phase)
    return np.where(times > beats[-1], len(beats) - 1 + (times - beats[-1]) / period, phase)


def choreograph(
    beat_times: np.ndarray, beats_per_bar: int, bars: int, style: str, rng: np.random.Generator
) -> list[dict[str, float]]:
    """The key poses: one move per bar, picked, sized and mirrored at random; a key pose on every
    beat, or on every `beats_per_pose`-th beat for slower styles."""
    spec = STYLES[style]
    names, weights = list(spec.moves), np.array(list(spec.moves.values()), dtype=float)
    amplitude = rng.uniform(*spec.amplitude)
    keys: list[dict[str, float]] = []
    for _ in range(bars):
        move = MOVES[names[rng.choice(len(names), p=weights / weights.sum())]]
        mirror = rng.random() < 0.5
        size = amplitude * rng.uniform(0.85, 1.15)
        for beat in range(max(1, beats_per_bar // spec.beats_per_pose)):
            pose = move[beat % len(move)]
            pose = {
                (_MIRROR.get(k, k) if mirror else k): (-v if mirror and k in _NEGATE else v) for k, v in pose.items()
            }
            keys.append({c: spec.base.get(c, 0.0) + size * pose.get(c, 0.0) for c in CONTROLS})
    return keys


def controls_over_time(keys: list[dict[str, float]], phase: np.ndarray) -> dict[str, np.ndarray]:
    """Ease from each key pose to the next one (`phase` counts key poses): speed is zero exactly
    on the key poses' beats, so the body pauses (a kinematic beat) where the music's beat is."""
    beat = np.clip(np.floor(phase).astype(int), 0, len(keys) - 2)
    frac = np.clip(phase - beat, 0.0, 1.0)
    ease = 0.5 - 0.5 * np.cos(np.pi * frac)
    table = np.array([[k[c] for c in CONTROLS] for k in keys])
    values = table[beat] * (1 - ease)[:, None] + table[beat + 1] * ease[:, None]
    return {c: values[:, i] for i, c in enumerate(CONTROLS)}


def pose_from_controls(c: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations (T, 24, 3, 3) and root translation (T, 3) from the dancer's controls.
    Each joint's axis-angle vector sums the controls that bend it; then the body is lowered or
    raised so that its lowest foot touches the floor (y = 0), plus the jump height."""
    frames = len(c["crouch"])
    rv = np.zeros((frames, 24, 3))
    j = SMPL_JOINTS.index
    rv[:, j("pelvis"), 1] = c["turn"]
    rv[:, j("pelvis"), 2] = c["hipswing"]
    rv[:, j("spine1"), 0] = 0.25 * c["crouch"]
    rv[:, j("spine2"), 2] = c["lean"]
    rv[:, j("neck"), 0] = c["nod"]
    for side, sign in (("L", 1.0), ("R", -1.0)):
        name = "left" if side == "L" else "right"
        rv[:, j(f"{name}_hip"), 0] = -0.8 * c["crouch"] - c[f"kick{side}"]
        rv[:, j(f"{name}_hip"), 1] = -0.5 * sign * c["hipswing"]
        rv[:, j(f"{name}_hip"), 2] = sign * c[f"side{side}"]
        rv[:, j(f"{name}_knee"), 0] = 1.4 * c["crouch"] + 0.3 * c[f"kick{side}"]
        rv[:, j(f"{name}_ankle"), 0] = -0.6 * c["crouch"]
        rv[:, j(f"{name}_shoulder"), 2] = sign * (c[f"raise{side}"] - 1.3)
        rv[:, j(f"{name}_shoulder"), 1] = -sign * c[f"fwd{side}"]
        rv[:, j(f"{name}_elbow"), 1] = -sign * c[f"elbow{side}"]
    rotations = rotvec_to_matrix(rv)
    translation = np.zeros((frames, 3), dtype=np.float32)
    translation[:, 0] = c["shift"]
    joints = forward_kinematics(rotations, translation)
    translation[:, 1] = -joints[:, FEET, 1].min(axis=1) + 0.02 + np.maximum(c["jump"], 0)
    return rotations, translation


def procedural_dance(
    beat_times: np.ndarray, seconds: float, *, fps: float = 30.0, style: str = "hiphop",
    beats_per_bar: int = 4, seed: int = 0,
) -> Motion:  # fmt: skip
    """A dance of `seconds` at `fps` whose key poses fall on `beat_times` (seconds): moves of the
    style picked bar by bar, their size, order and mirroring drawn from `seed`."""
    if style not in STYLES:
        raise BadInputError(f"style {style!r}: choose one of {', '.join(STYLES)}")
    if seconds <= 0 or fps <= 0:
        raise BadInputError(f"seconds {seconds} and fps {fps}: both must be positive")
    rng = np.random.default_rng(seed)
    times = np.arange(int(round(seconds * fps))) / fps
    phase = beat_phase(times, beat_times)
    bars = int(np.ceil((max(phase[-1], 0) + 2) / beats_per_bar)) + 1
    keys = choreograph(beat_times, beats_per_bar, bars, style, rng)
    phase = phase - min(0.0, np.floor(phase[0]))  # time before the first beat eases into the first pose
    phase = phase / STYLES[style].beats_per_pose
    rotations, translation = pose_from_controls(controls_over_time(keys, phase))
    return Motion(rotations, translation, fps, style, f"procedural dancer ({style}, seed {seed})")
