"""Scores for generated dance: FID and diversity of kinetic and geometric features, Beat Align
Score, Physical Foot Contact. Chapter 08 explains each score and what it rewards.

These are the numbers the music-to-dance papers report: FID_k, FID_g, Div_k and Div_g from
AIST++/FACT (Li et al. 2021, google/aistplusplus_api `aist_plusplus/features/`) as Bailando
(Siyao et al. 2022, lisiyao21/Bailando `utils/metrics_new.py`) computes them, Bailando's Beat
Align Score (`utils/beat_align_score.py`) and EDGE's Physical Foot Contact score (Tseng et al.
2023, Stanford-TML/EDGE `eval/eval_pfc.py`). The functions are written from those sources and
vectorised over frames; where the published code has a slip, the default here is the corrected
formula and a `published_*` switch reproduces the published one, so that a number can be set
beside a paper's table.

A motion is an array `joints` of shape (T, 24, 3): SMPL joint positions (order in SMPL_JOINTS)
in metres, y up (SMPL's own frame: x to the body's left, z forward), at `fps` frames per second
(the course uses 30). Every function refuses other shapes, NaN and too few frames with a
BadInputError whose one-line message names the parameter.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import linalg
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema
from scipy.spatial.distance import pdist

from ..errors import BadInputError

SMPL_JOINTS = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)
_INDEX = {name: i for i, name in enumerate(SMPL_JOINTS)}

UP = 1  # y is up: vertical is axis 1, horizontal the plane of axes 0 and 2
HORIZONTAL = (0, 2)

KINETIC_WINDOW = 2  # frames either side: velocities and accelerations are averaged over 5 samples
PUBLISHED_FRAME_TIME = 1 / 120  # seconds: what the published geometric relations divide by, whatever the fps
NORMALIZE_EPS = 1e-10  # added to the reference std in normalize_by, as metrics_new.py does
FID_EPS = 1e-5  # added to both covariance diagonals when their product has no finite square root
MOTION_BEAT_SMOOTHING = 5.0  # frames: Gaussian sigma on the mean joint speed before finding its minima
PFC_REPORT_SCALE = 10_000  # EDGE prints (and its tables show) the mean PFC times this
PFC_STILL_ROOT = 1e-6  # m/s^2: a pelvis that never accelerates more than this has PFC 0 (rounding aside)
PFC_FEET = ("left_ankle", "left_foot", "right_ankle", "right_foot")

# Body dimensions that scale the geometric thresholds: measured once on the SMPL template (the
# joint positions aist_plusplus/features/manual.py lists), not on each motion.
_TEMPLATE = {
    "left_shoulder": (0.199113488, 0.236807942, -0.0180702247),
    "left_elbow": (0.454445392, 0.221158922, -0.0410167128),
    "right_shoulder": (-0.191692337, 0.236928746, -0.0123055102),
    "left_hip": (0.0564076714, -0.323069185, 0.0109197125),
    "right_hip": (-0.0624834076, -0.331302464, 0.0150412619),
}


def _template_distance(a: str, b: str) -> float:
    return float(np.linalg.norm(np.subtract(_TEMPLATE[a], _TEMPLATE[b])))


HUMERUS = _template_distance("left_shoulder", "left_elbow")  # about 0.257 m
SHOULDER_WIDTH = _template_distance("left_shoulder", "right_shoulder")  # about 0.391 m
HIP_WIDTH = _template_distance("left_hip", "right_hip")  # about 0.119 m

# The 32 relations of aist_plusplus/features/manual.py (Müller et al. 2005, "Efficient content-based
# retrieval of motion capture data"), in the published order with the published arguments; the
# names say what each computes on SMPL joints (x left, y up, z forward); pairs built with cross
# products come out mirrored (rwrist_moves_back / lwrist_moves_forward, rankle_in_front /
# lankle_behind) because the published argument order was written for another skeleton. Kinds:
#   move  (a, b, p)        p's velocity relative to a, along the direction a -> b, above the threshold
#   nmove (a, b, c, p)     p's velocity relative to a, along the normal cross(c - a, b - a)
#   plane (a, b, c, p)     p's signed distance from the plane (a, b, c), normal cross(c - a, b - a)
#   nplane (n1, n2, a, p)  p's signed distance from the plane through a with normal n2 - n1
#   angle (a1, a2, b1, b2) the angle between a2 - a1 and b2 - b1 strictly inside (low, high) degrees
#   fast  (p,)             p's speed above the threshold
# Pseudo points: "origin", "up" (0, 1, 0), "down" (0, -1, 0), "floor" (0, lowest joint's y, 0).
# Thresholds are in metres (or metres per second) as multiples of HUMERUS, SHOULDER_WIDTH, HIP_WIDTH.
_RELATIONS: tuple[tuple[str, str, tuple[str, ...], Any], ...] = (
    ("rwrist_moves_back", "nmove", ("neck", "right_hip", "left_hip", "right_wrist"), 1.8 * HUMERUS),
    ("lwrist_moves_forward", "nmove", ("neck", "left_hip", "right_hip", "left_wrist"), 1.8 * HUMERUS),
    ("rwrist_above_neck", "nplane", ("spine3", "neck", "neck", "right_wrist"), 0.2 * HUMERUS),
    ("lwrist_above_neck", "nplane", ("spine3", "neck", "neck", "left_wrist"), 0.2 * HUMERUS),
    # published as move(belly, chest, chest, wrist): the moving point is the third argument, the
    # chest, so both ask whether the belly-chest distance grows fast (rare: only spine2 bends it)
    ("spine_lengthens_1", "move", ("spine1", "spine3", "spine3"), 1.8 * HUMERUS),
    ("spine_lengthens_2", "move", ("spine1", "spine3", "spine3"), 1.8 * HUMERUS),
    ("relbow_bent", "angle", ("right_elbow", "right_shoulder", "right_elbow", "right_wrist"), (0, 110)),
    ("lelbow_bent", "angle", ("left_elbow", "left_shoulder", "left_elbow", "left_wrist"), (0, 110)),
    (
        "wrists_wide_apart",
        "nplane",
        ("left_shoulder", "right_shoulder", "left_wrist", "right_wrist"),
        2.5 * SHOULDER_WIDTH,
    ),
    ("wrists_separate", "move", ("left_wrist", "right_wrist", "right_wrist"), 1.4 * HUMERUS),
    ("lwrist_along_rwrist_root", "move", ("right_wrist", "pelvis", "left_wrist"), 1.4 * HUMERUS),
    ("rwrist_along_lwrist_root", "move", ("left_wrist", "pelvis", "right_wrist"), 1.4 * HUMERUS),
    ("rwrist_fast", "fast", ("right_wrist",), 2.5 * HUMERUS),
    ("lwrist_fast", "fast", ("left_wrist",), 2.5 * HUMERUS),
    ("rankle_in_front", "plane", ("pelvis", "left_hip", "left_foot", "right_ankle"), 0.38 * HUMERUS),
    ("lankle_behind", "plane", ("pelvis", "right_hip", "right_foot", "left_ankle"), 0.38 * HUMERUS),
    ("rankle_raised", "nplane", ("origin", "up", "floor", "right_ankle"), 1.2 * HUMERUS),
    ("lankle_raised", "nplane", ("origin", "up", "floor", "left_ankle"), 1.2 * HUMERUS),
    ("ankles_wide_apart", "nplane", ("left_hip", "right_hip", "left_ankle", "right_ankle"), 2.1 * HIP_WIDTH),
    ("rknee_bent", "angle", ("right_knee", "right_hip", "right_knee", "right_ankle"), (0, 110)),
    ("lknee_bent", "angle", ("left_knee", "left_hip", "left_knee", "left_ankle"), (0, 110)),
    ("rankle_fast", "fast", ("right_ankle",), 2.5 * HUMERUS),
    ("lankle_fast", "fast", ("left_ankle",), 2.5 * HUMERUS),
    ("rarm_raised", "angle", ("neck", "pelvis", "right_shoulder", "right_elbow"), (25, 180)),
    ("larm_raised", "angle", ("neck", "pelvis", "left_shoulder", "left_elbow"), (25, 180)),
    ("rleg_raised", "angle", ("neck", "pelvis", "right_hip", "right_knee"), (50, 180)),
    ("lleg_raised", "angle", ("neck", "pelvis", "left_hip", "left_knee"), (50, 180)),
    ("pelvis_in_front", "plane", ("right_ankle", "neck", "left_ankle", "pelvis"), 0.5 * HUMERUS),
    ("spine_horizontal", "angle", ("neck", "pelvis", "origin", "up"), (70, 110)),
    ("rwrist_low", "nplane", ("origin", "down", "floor", "right_wrist"), -1.2 * HUMERUS),
    ("lwrist_low", "nplane", ("origin", "down", "floor", "left_wrist"), -1.2 * HUMERUS),
    ("pelvis_fast", "fast", ("pelvis",), 2.3 * HUMERUS),
)
GEOMETRIC_RELATIONS = tuple(name for name, *_ in _RELATIONS)


# --- input checks ---------------------------------------------------------------------------


def as_motion(joints: Any, name: str = "joints", min_frames: int = 2) -> np.ndarray:
    """`joints` as float64 of shape (T, 24, 3) with T >= min_frames and no NaN or infinity."""
    array = np.asarray(joints)
    if array.ndim != 3 or array.shape[1:] != (len(SMPL_JOINTS), 3):
        raise BadInputError(f"{name}: expected (T, 24, 3) SMPL joint positions in metres, got shape {array.shape}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise BadInputError(f"{name}: dtype {array.dtype}; expected float joint positions in metres")
    if array.shape[0] < min_frames:
        raise BadInputError(f"{name}: {array.shape[0]} frames; this score needs at least {min_frames}")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise BadInputError(f"{name}: {bad} NaN or infinite values; expected finite joint positions")
    return array.astype(np.float64)


def _frame_rate(fps: Any) -> float:
    if isinstance(fps, bool) or not isinstance(fps, int | float | np.number) or not np.isfinite(fps) or fps <= 0:
        raise BadInputError(f"fps: {fps!r}; expected a positive frame rate such as 30")
    return float(fps)


def _feature_rows(features: Any, name: str, min_rows: int) -> np.ndarray:
    array = np.asarray(features)
    if array.ndim != 2 or array.shape[1] == 0:
        raise BadInputError(f"{name}: expected (N, D) features (one row per motion), got shape {array.shape}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise BadInputError(f"{name}: dtype {array.dtype}; expected numeric features")
    if array.shape[0] < min_rows:
        raise BadInputError(f"{name}: {array.shape[0]} rows; expected at least {min_rows} (one row per motion)")
    if not np.isfinite(array).all():
        raise BadInputError(f"{name}: {int((~np.isfinite(array)).sum())} NaN or infinite values")
    return array.astype(np.float64)


def _motion_list(motions: Any, name: str) -> list[np.ndarray]:
    if isinstance(motions, np.ndarray) and motions.ndim == 4:
        motions = list(motions)
    if isinstance(motions, np.ndarray) or not isinstance(motions, Sequence):
        raise BadInputError(f"{name}: expected a list of (T, 24, 3) motions, got {type(motions).__name__}")
    if len(motions) < 2:
        raise BadInputError(f"{name}: {len(motions)} motions; FID and diversity need at least 2")
    return [as_motion(m, f"{name}[{i}]", min_frames=4) for i, m in enumerate(motions)]


def zero_start(joints: Any) -> np.ndarray:
    """The motion moved so that the pelvis starts at the origin, as Bailando's metrics_new.py
    prepares every motion before extracting features (evaluate does the same)."""
    motion = as_motion(joints)
    return motion - motion[0, 0]


# --- kinetic features -----------------------------------------------------------------------


def _window_mean(samples: np.ndarray, first: int, frames: np.ndarray, window: int) -> np.ndarray:
    """For each frame i, the mean of the samples numbered i - window .. i + window that exist;
    samples[s] is sample number first + s. Cumulative sums make it O(T)."""
    last = first + len(samples) - 1
    low = np.maximum(frames - window, first) - first
    high = np.minimum(frames + window, last) - first
    totals = np.concatenate([np.zeros((1, *samples.shape[1:])), np.cumsum(samples, axis=0)])
    counts = (high - low + 1).reshape(-1, *([1] * (samples.ndim - 1)))
    return (totals[high + 1] - totals[low]) / counts


def kinetic_features(joints: Any, fps: float, published_acceleration: bool = False) -> np.ndarray:
    """The 72 kinetic features of a motion (AIST++/FACT, Li et al. 2021; Bailando reports FID_k on
    them): for each SMPL joint, in SMPL_JOINTS order, [horizontal kinetic energy, vertical kinetic
    energy, energy expenditure]. Chapter 08 explains them.

    As in aist_plusplus/features/kinetic.py and utils.py (from fairmotion): for every frame
    i = 1 .. T-1 the velocity is the mean of the frame differences p[m] - p[m-1] over
    m = i-2 .. i+2 (those that exist) divided by the frame time; the horizontal energy is the mean
    over frames of its squared (x, z) length and the vertical energy the mean of its squared y
    (the published code, run with up_vec="y"). Energy expenditure is the mean over frames of the
    length of the acceleration (p[c+1] - 2 p[c] + p[c-1]) / dt^2 averaged over c = i-2 .. i+2
    (those with both neighbours). The 1/2 and the masses are left out, as published.

    The published acceleration has a misplaced parenthesis in its first velocity term:
    v1 = (p[c] - p[c-1] / frame_time) instead of (p[c] - p[c-1]) / frame_time, so only p[c-1] is
    divided by the frame time. The result mixes positions into the acceleration: it is not zero
    for a body standing still or moving at constant velocity, and it changes when the body is
    moved. The slip is in fairmotion's tasks/clustering/features/utils.py, where the code comes
    from, and in google/aistplusplus_api's features/utils.py at commit 74fac6d; the same file at
    commit 0bd0cdd and the copy in lisiyao21/Bailando at commit 0f4deb2 have the parentheses
    right, many derived repositories keep the slip. `published_acceleration=True` reproduces it
    exactly, so that numbers can be set beside published ones (Bailando first moves each motion
    so that the pelvis starts at the origin, see zero_start; evaluate does that too). The default
    is the corrected formula. The window (2 frames either side) and y-up axes are the published
    ones; AIST++'s own code runs at 60 fps, Bailando-derived copies at 30: pass the motion's fps.
    """
    motion = as_motion(joints, min_frames=3)
    dt = 1.0 / _frame_rate(fps)
    count = len(motion)
    frames = np.arange(1, count)
    velocity = _window_mean(np.diff(motion, axis=0), 1, frames, KINETIC_WINDOW) / dt  # (T-1, 24, 3)
    horizontal = (velocity[..., HORIZONTAL] ** 2).sum(axis=-1).mean(axis=0)
    vertical = (velocity[..., UP] ** 2).mean(axis=0)
    before, here, after = motion[:-2], motion[1:-1], motion[2:]
    if published_acceleration:
        first = here - before / dt  # the published slip
    else:
        first = (here - before) / dt
    acceleration = ((after - here) / dt - first) / dt  # sample c = 1 .. T-2
    expenditure = np.linalg.norm(_window_mean(acceleration, 1, frames, KINETIC_WINDOW), axis=-1).mean(axis=0)
    return np.stack([horizontal, vertical, expenditure], axis=1).reshape(-1)


# --- geometric features ---------------------------------------------------------------------


def _points(name: str, frames: np.ndarray) -> np.ndarray:
    """A joint's (or pseudo point's) positions in every frame of `frames` (F, 24, 3)."""
    if name == "origin":
        return np.zeros((len(frames), 3))
    if name in ("up", "down"):
        return np.tile([0.0, 1.0 if name == "up" else -1.0, 0.0], (len(frames), 1))
    if name == "floor":
        floor = np.zeros((len(frames), 3))
        floor[:, UP] = frames[..., UP].min(axis=1)
        return floor
    return frames[:, _INDEX[name]]


def _along(vectors: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Component of each vector along each direction (NaN where the direction is zero)."""
    return np.einsum("fk,fk->f", vectors, direction) / np.linalg.norm(direction, axis=-1)


def _relation(
    kind: str, names: tuple[str, ...], bound: Any, now: np.ndarray, then: np.ndarray, dt: float
) -> np.ndarray:
    """One relation of _RELATIONS in every frame of `now` (`then`: the frames before), (F,) bool."""
    at = [_points(n, now) for n in names]
    if kind in ("move", "nmove"):  # the moving point is the last name
        relative = (at[-1] - at[0]) - (_points(names[-1], then) - _points(names[0], then))
        if kind == "move":
            direction = at[1] - at[0]
        else:
            direction = np.cross(at[2] - at[0], at[1] - at[0])
        return _along(relative, direction) / dt > bound
    if kind == "plane":
        return _along(at[3] - at[0], np.cross(at[2] - at[0], at[1] - at[0])) > bound
    if kind == "nplane":
        return _along(at[3] - at[2], at[1] - at[0]) > bound
    if kind == "angle":
        first, second = at[1] - at[0], at[3] - at[2]
        cosine = np.einsum("fk,fk->f", first, second)
        cosine /= np.linalg.norm(first, axis=-1) * np.linalg.norm(second, axis=-1)
        degrees = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
        return (degrees > bound[0]) & (degrees < bound[1])
    speed = np.linalg.norm(at[0] - _points(names[0], then), axis=-1) / dt  # fast
    return speed > bound


def geometric_features(joints: Any, fps: float, published_velocity: bool = False) -> np.ndarray:
    """The 32 geometric ("manual") features of a motion (AIST++/FACT, Li et al. 2021; Bailando
    reports FID_g on them): for each relation in GEOMETRIC_RELATIONS, the fraction of frames in
    which it holds. Chapter 08 explains them.

    The relations are Müller et al.'s (2005) boolean pose and motion tests in the version of
    aist_plusplus/features/manual.py (the same list as Bailando's manual_new.py), with its
    thresholds as multiples of the humerus length, shoulder width and hip width of the SMPL
    template. As published, they are evaluated on frames 1 .. T-1 (velocities from the previous
    frame) and averaged over those T-1 frames; a relation whose vectors degenerate (zero length)
    counts as false, as the NaN it gives in the published code does. Two published quirks are
    kept: `move` relations take their third joint as the moving one, so relations 5 and 6
    ("spine_lengthens") test the chest against the belly and not the wrists; and left/right pairs
    built with cross products point opposite ways (rwrist_moves_back but lwrist_moves_forward).

    Velocities: the published code divides frame differences by 1/120 s whatever the frame rate
    (fairmotion's default, never overridden), which at 30 fps overstates speeds four times. The
    default here divides by 1/fps; `published_velocity=True` reproduces the 1/120 s.
    """
    motion = as_motion(joints, min_frames=2)
    dt = PUBLISHED_FRAME_TIME if published_velocity else 1.0 / _frame_rate(fps)
    now, then = motion[1:], motion[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        table = [_relation(kind, names, bound, now, then, dt) for _, kind, names, bound in _RELATIONS]
    return np.mean(np.stack(table, axis=1), axis=0)


# --- feature statistics ---------------------------------------------------------------------


def normalize_by(reference: Any, *others: Any) -> tuple[np.ndarray, ...]:
    """Every feature array z-scored with the mean and std of `reference` (rows = motions):
    (x - mean) / (std + 1e-10), std over rows without Bessel's correction, as Bailando's
    metrics_new.py normalises the ground-truth and generated features by the ground truth's
    statistics before FID and diversity. Returns (reference, *others), normalised. Chapter 08."""
    base = _feature_rows(reference, "reference", min_rows=1)
    mean, scale = base.mean(axis=0), base.std(axis=0) + NORMALIZE_EPS
    arrays = [base]
    for i, other in enumerate(others):
        array = _feature_rows(other, f"others[{i}]", min_rows=1)
        if array.shape[1] != base.shape[1]:
            raise BadInputError(f"others[{i}]: {array.shape[1]} features per row but reference has {base.shape[1]}")
        arrays.append(array)
    return tuple((array - mean) / scale for array in arrays)


def _varying(real: np.ndarray, made: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The feature columns that vary over the real set (all of them if none does)."""
    keep = real.std(axis=0) > 1e-9
    return (real[:, keep], made[:, keep]) if keep.any() else (real, made)


def frechet_distance(a: Any, b: Any) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows = motions):
    |mu_a - mu_b|^2 + tr(C_a + C_b - 2 sqrt(C_a C_b)), the FID of Heusel et al. as Bailando's
    calc_fid computes it (scipy.linalg.sqrtm; if the product of the covariances has no finite
    square root, 1e-5 is added to both diagonals; the imaginary part numerical error leaves is
    dropped). With fewer motions than features the covariances are singular and identical sets
    give a small number (about 1e-5) rather than exactly 0. Chapter 08."""
    first, second = _feature_rows(a, "a", min_rows=2), _feature_rows(b, "b", min_rows=2)
    if first.shape[1] != second.shape[1]:
        raise BadInputError(f"b: {second.shape[1]} features per row but a has {first.shape[1]}")
    cov_a = np.atleast_2d(np.cov(first, rowvar=False))
    cov_b = np.atleast_2d(np.cov(second, rowvar=False))
    with warnings.catch_warnings():  # singular covariances are the rule here (constant features)
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():
            offset = np.eye(len(cov_a)) * FID_EPS
            root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    diff = first.mean(axis=0) - second.mean(axis=0)
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(np.real(root)))


def diversity(features: Any) -> float:
    """Average Euclidean distance between the feature rows of a set of motions, over all pairs:
    Bailando's calculate_avg_distance (Div_k, Div_g). Some other papers sample random pairs
    instead; all pairs are exact and cheap for a few hundred motions. Chapter 08."""
    return float(pdist(_feature_rows(features, "features", min_rows=2)).mean())


# --- beats ----------------------------------------------------------------------------------


def _mean_joint_speed(motion: np.ndarray, fps: float) -> np.ndarray:
    """Mean over joints of each joint's speed between frames k and k+1, k = 0 .. T-2 (m/s)."""
    return np.linalg.norm(np.diff(motion, axis=0), axis=-1).mean(axis=1) * fps


def motion_beats(joints: Any, fps: float) -> np.ndarray:
    """Kinematic beats of a motion as Bailando's calc_db finds them: the strict local minima of
    the mean joint speed after Gaussian smoothing with sigma = 5 frames (scipy's gaussian_filter,
    reflecting at the ends). Speed sample k (between frames k and k+1) is reported as frame k,
    as published. A still body has no beats. Chapter 08."""
    motion = as_motion(joints, min_frames=4)
    smooth = gaussian_filter1d(_mean_joint_speed(motion, _frame_rate(fps)), MOTION_BEAT_SMOOTHING)
    return argrelextrema(smooth, np.less)[0]


def beat_align_score(joints: Any, music_beat_frames: Any, fps: float, sigma: float = 3) -> float:
    """Bailando's Beat Align Score (Siyao et al. 2022, utils/beat_align_score.py): for each music
    beat, exp(-d^2 / (2 sigma^2)) with d the distance in frames to the nearest motion beat
    (motion_beats), averaged over the music beats. It goes from music to motion, so extra motion
    beats cost nothing; sigma is in frames (the published 3, squared to 9), so the score depends on
    the frame rate. 1.0 when every music beat has a motion beat on it; 0.0 when the motion has no
    beat at all (a still body). `music_beat_frames` are frame indices of this motion (0 .. T-1).
    Chapter 08."""
    return _beat_align(joints, music_beat_frames, fps, sigma, "joints", "music_beat_frames")


def _beat_align(joints: Any, music_beat_frames: Any, fps: float, sigma: Any, name: str, music_name: str) -> float:
    motion = as_motion(joints, name, min_frames=4)
    if isinstance(sigma, bool) or not isinstance(sigma, int | float | np.number) or not sigma > 0:
        raise BadInputError(f"sigma: {sigma!r}; expected a positive width in frames such as 3")
    music = np.asarray(music_beat_frames)
    if music.ndim != 1 or music.dtype == bool or not np.issubdtype(music.dtype, np.number):
        raise BadInputError(f"{music_name}: expected a 1-D array of frame indices, got shape {music.shape}")
    if music.size == 0:
        raise BadInputError(f"{music_name}: no music beats; the score averages over music beats, give at least one")
    last = len(motion) - 1
    if not np.isfinite(music).all() or music.min() < 0 or music.max() > last:
        raise BadInputError(
            f"{music_name}: expected frame indices 0 .. {last} of the motion, got values {music.min()} .. {music.max()}"
        )
    beats = motion_beats(motion, fps)
    if beats.size == 0:
        return 0.0
    nearest = np.abs(music.astype(np.float64)[:, None] - beats[None, :]).min(axis=1)
    return float(np.mean(np.exp(-(nearest**2) / (2.0 * sigma**2))))


# --- physical plausibility ------------------------------------------------------------------


def physical_foot_contact(joints: Any, fps: float) -> float:
    """EDGE's Physical Foot Contact score (Tseng et al. 2023, eval/eval_pfc.py), lower is better:
    the mean over frames of  a_root * min(left ankle, left foot speed) * min(right ankle, right
    foot speed). a_root is the length of the pelvis acceleration with its downward part clipped
    to zero (falling needs no contact), divided by its maximum over the motion; foot speeds are
    horizontal and in metres per frame, as published, so scores compare only at one frame rate
    (EDGE: 30 fps). The idea: while the body accelerates, at least one foot must be planted.
    EDGE's code is z-up; here the vertical axis is y. EDGE prints (and its tables show) the mean
    over motions times PFC_REPORT_SCALE = 10000; this returns the raw value. A pelvis that never
    accelerates (at most PFC_STILL_ROOT, 1e-6 m/s^2) scores 0.0: the published division by the
    maximum gives NaN for no acceleration and blows rounding noise up to 1. Chapter 08."""
    motion = as_motion(joints, min_frames=3)
    dt = 1.0 / _frame_rate(fps)
    root_velocity = np.diff(motion[:, 0], axis=0) / dt
    root_acceleration = np.diff(root_velocity, axis=0) / dt  # (T-2, 3)
    root_acceleration[:, UP] = np.maximum(root_acceleration[:, UP], 0.0)
    push = np.linalg.norm(root_acceleration, axis=-1)
    if push.max() <= PFC_STILL_ROOT:
        return 0.0
    feet = motion[:, [_INDEX[name] for name in PFC_FEET]][..., HORIZONTAL]  # (T, 4, 2)
    step = np.linalg.norm(feet[2:] - feet[1:-1], axis=-1)  # (T-2, 4) metres per frame
    left, right = step[:, :2].min(axis=1), step[:, 2:].min(axis=1)
    return float(np.mean(left * right * push / push.max()))


# --- all scores -----------------------------------------------------------------------------


def evaluate(
    real: Any,
    generated: Any,
    music_beats: Any,
    fps: float,
    published_acceleration: bool = False,
    published_velocity: bool = False,
    keep_constant: bool = False,
) -> dict[str, float]:
    """The table row of a music-to-dance model: FID_k, FID_g, Div_k, Div_g, BAS and PFC.

    `real` are ground-truth test motions, `generated` the model's motions (lists of (T, 24, 3)
    arrays or (N, T, 24, 3) arrays; at least 2 motions of at least 4 frames each; counts and
    lengths may differ, as in Bailando where the real set is the larger), `music_beats` one array
    of music beat frames per generated motion. As in Bailando's metrics_new.py, every motion is
    moved so that its pelvis starts at the origin (zero_start), the kinetic and geometric
    features of both sets are normalised with the real set's statistics (normalize_by), FID
    compares generated with real, and diversity is that of the generated set. BAS and PFC are
    means over the generated motions; PFC is raw (times PFC_REPORT_SCALE for EDGE's tables).
    evaluate(real, real, ...) gives fid_k = fid_g = 0 up to rounding. The `published_*` switches
    go to kinetic_features and geometric_features.

    Features that do not vary over the real set (a relation the real dances never make true) are
    left out unless keep_constant=True: the published normalisation divides them by 1e-10, so
    any generated deviation there outweighs every other feature by orders of magnitude.
    Chapter 08."""
    truth, made = _motion_list(real, "real"), _motion_list(generated, "generated")
    _frame_rate(fps)
    if isinstance(music_beats, np.ndarray) or not isinstance(music_beats, Sequence):
        raise BadInputError(f"music_beats: expected a list of beat-frame arrays, got {type(music_beats).__name__}")
    if len(music_beats) != len(made):
        raise BadInputError(f"music_beats: {len(music_beats)} arrays for {len(made)} generated motions; give one each")
    bas = [
        _beat_align(motion, beats, fps, 3, f"generated[{i}]", f"music_beats[{i}]")
        for i, (motion, beats) in enumerate(zip(made, music_beats, strict=True))
    ]

    def features(motions: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        starts = [zero_start(m) for m in motions]
        kinetic = np.stack([kinetic_features(m, fps, published_acceleration) for m in starts])
        geometric = np.stack([geometric_features(m, fps, published_velocity) for m in starts])
        return kinetic, geometric

    (real_k, real_g), (made_k, made_g) = features(truth), features(made)
    if not keep_constant:
        (real_k, made_k), (real_g, made_g) = _varying(real_k, made_k), _varying(real_g, made_g)
    real_k, made_k = normalize_by(real_k, made_k)
    real_g, made_g = normalize_by(real_g, made_g)
    return {
        "fid_k": frechet_distance(made_k, real_k),
        "fid_g": frechet_distance(made_g, real_g),
        "div_k": diversity(made_k),
        "div_g": diversity(made_g),
        "bas": float(np.mean(bas)),
        "pfc": float(np.mean([physical_foot_contact(m, fps) for m in made])),
    }
