"""A dancer to learn from: a 24-joint SMPL-style skeleton, a procedural dancer whose moves lock
to the music's beats, the AIST++ motion loader, and drawings of the body and of its OpenPose
skeleton. Chapter 08 explains all of them.

Coordinates: metres, y up, the dancer faces +z, its left is +x (SMPL's convention). A motion is
local joint rotations (T, 24, 3, 3) and a root translation (T, 3); `forward_kinematics` turns
them into joint positions (T, 24, 3) with fixed bone lengths.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import BadInputError

SMPL_JOINTS = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hand", "right_hand",
)  # fmt: skip
PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
# Each joint's offset from its parent in the rest pose (a T-pose), close to SMPL's mean body.
OFFSETS = np.array(
    [
        [0.0, 0.0, 0.0], [0.06, -0.09, 0.0], [-0.06, -0.09, 0.0], [0.0, 0.11, -0.01], [0.0, -0.38, 0.0],
        [0.0, -0.38, 0.0], [0.0, 0.13, 0.0], [0.0, -0.40, -0.02], [0.0, -0.40, -0.02], [0.0, 0.05, 0.02],
        [0.0, -0.06, 0.12], [0.0, -0.06, 0.12], [0.0, 0.21, -0.02], [0.07, 0.12, 0.0], [-0.07, 0.12, 0.0],
        [0.0, 0.09, 0.05], [0.11, 0.03, 0.0], [-0.11, 0.03, 0.0], [0.26, 0.0, 0.0], [-0.26, 0.0, 0.0],
        [0.25, 0.0, 0.0], [-0.25, 0.0, 0.0], [0.08, 0.0, 0.0], [-0.08, 0.0, 0.0],
    ],
    dtype=np.float32,
)  # fmt: skip
FEET = (7, 8, 10, 11)  # ankles and toes: what touches the floor


# --- rotations and forward kinematics --------------------------------------------------------


def rotvec_to_matrix(rotvecs: np.ndarray) -> np.ndarray:
    """Axis-angle vectors (..., 3) to rotation matrices (..., 3, 3) (Rodrigues' formula)."""
    from scipy.spatial.transform import Rotation

    flat = np.asarray(rotvecs, dtype=np.float64).reshape(-1, 3)
    return Rotation.from_rotvec(flat).as_matrix().reshape(*np.shape(rotvecs)[:-1], 3, 3).astype(np.float32)


def matrix_to_6d(matrices):
    """The continuous 6D rotation representation (Zhou et al., 2019): the first two columns."""
    return matrices[..., :, :2].reshape(*matrices.shape[:-2], 6)


def sixd_to_matrix(sixd):
    """Back from 6D to rotation matrices by Gram-Schmidt (torch; any 6 numbers give a rotation)."""
    import torch

    a, b = sixd[..., 0::2], sixd[..., 1::2]
    x = torch.nn.functional.normalize(a, dim=-1)
    y = torch.nn.functional.normalize(b - (x * b).sum(-1, keepdim=True) * x, dim=-1)
    z = torch.cross(x, y, dim=-1)
    return torch.stack([x, y, z], dim=-1)


def forward_kinematics(rotations, translation, *, with_global: bool = False):
    """Joint positions (..., 24, 3) from local rotations (..., 24, 3, 3) and the root's position
    (..., 3). Works on NumPy arrays and on torch tensors (differentiable). Bone lengths are
    OFFSETS' lengths whatever the rotations are. with_global also returns global rotations."""
    import torch

    numpy_in = isinstance(rotations, np.ndarray)
    rot = torch.as_tensor(rotations, dtype=torch.float32) if numpy_in else rotations
    trans = torch.as_tensor(translation, dtype=rot.dtype, device=rot.device)
    offsets = torch.as_tensor(OFFSETS, dtype=rot.dtype, device=rot.device)
    glob, pos = [rot[..., 0, :, :]], [trans]
    for joint in range(1, len(PARENTS)):
        parent = PARENTS[joint]
        pos.append(pos[parent] + (glob[parent] @ offsets[joint].unsqueeze(-1)).squeeze(-1))
        glob.append(glob[parent] @ rot[..., joint, :, :])
    joints, globals_ = torch.stack(pos, dim=-2), torch.stack(glob, dim=-3)
    if numpy_in:
        joints, globals_ = joints.numpy(), globals_.numpy()
    return (joints, globals_) if with_global else joints


def check_motion(joints: np.ndarray, name: str = "joints", min_frames: int = 2) -> np.ndarray:
    joints = np.asarray(joints)
    if joints.ndim != 3 or joints.shape[1:] != (24, 3):
        raise BadInputError(f"{name}: expected shape (frames, 24, 3), got {joints.shape}")
    if len(joints) < min_frames:
        raise BadInputError(f"{name}: {len(joints)} frames, at least {min_frames} are needed")
    if not np.isfinite(joints).all():
        raise BadInputError(f"{name}: holds NaN or infinite values")
    return joints


# --- the procedural dancer -------------------------------------------------------------------

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


@dataclass
class Motion:
    rotations: np.ndarray  # (T, 24, 3, 3) local joint rotations
    translation: np.ndarray  # (T, 3) root (pelvis) position
    fps: float
    style: str = ""
    source: str = ""

    @property
    def joints(self) -> np.ndarray:
        return forward_kinematics(self.rotations, self.translation)

    def __len__(self) -> int:
        return len(self.rotations)


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


# --- AIST++ ----------------------------------------------------------------------------------

AISTPP_FPS = 60.0


def _read_aistpp(path: Path, kind: str, folder: str, read):
    """read(unpickled data) from an AIST++ .pkl file; any failure is one BadInputError line."""
    if not path.is_file():
        raise BadInputError(f"{path}: no such file (AIST++ {kind} files are {folder}/<sequence>.pkl)")
    try:
        with path.open("rb") as handle:
            return read(pickle.load(handle))
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same one-line answer
        raise BadInputError(f"{path}: not an AIST++ {kind} file ({type(exc).__name__}: {exc})") from exc


def load_aistpp_motion(path: str | Path, fps: float = 30.0) -> Motion:
    """An AIST++ motion file (motions/<sequence>.pkl: smpl_poses (N, 72) axis-angle, smpl_trans
    (N, 3), smpl_scaling) as a Motion on this skeleton at `fps` (AIST++ is 60 fps). The joint
    rotations are SMPL's; the bone lengths are OFFSETS' (SMPL's mean body, not each dancer's)."""
    path = Path(path)

    def read(data):
        poses = np.asarray(data["smpl_poses"], dtype=np.float64).reshape(-1, 24, 3)
        trans = np.asarray(data["smpl_trans"], dtype=np.float64).reshape(-1, 3)
        return poses, trans, float(np.asarray(data.get("smpl_scaling", [1.0])).reshape(-1)[0])

    poses, trans, scaling = _read_aistpp(path, "motion", "motions", read)
    if len(poses) != len(trans) or len(poses) < 2:
        raise BadInputError(f"{path}: {len(poses)} poses and {len(trans)} translations; need matching, >= 2")
    step = max(1, int(round(AISTPP_FPS / fps)))
    rotations = rotvec_to_matrix(poses[::step])
    translation = (trans[::step] / scaling).astype(np.float32)
    joints = forward_kinematics(rotations, translation)
    translation[:, 1] -= joints[:, FEET, 1].min()  # the floor under the lowest foot of the dance
    return Motion(rotations, translation, AISTPP_FPS / step, "", f"AIST++ {path.stem}")


COCO_KEYPOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)  # fmt: skip


def load_aistpp_keypoints(path: str | Path, fps: float = 30.0) -> np.ndarray:
    """An AIST++ keypoint file (keypoints3d/<sequence>.pkl: 'keypoints3d_optim' or 'keypoints3d',
    (N, 17, 3) COCO keypoints in centimetres at 60 fps) as OpenPose's 18 keypoints (T, 18, 3) in
    metres at `fps`, ready for `draw_openpose` (OpenPose's neck is the shoulders' midpoint)."""
    path = Path(path)

    def read(data):
        return np.asarray(data["keypoints3d_optim" if "keypoints3d_optim" in data else "keypoints3d"], dtype=np.float64)

    coco = _read_aistpp(path, "keypoint", "keypoints3d", read)
    if coco.ndim != 3 or coco.shape[1:] != (17, 3) or len(coco) < 2:
        raise BadInputError(f"{path}: expected (frames, 17, 3) COCO keypoints, got {coco.shape}")
    coco = coco[:: max(1, int(round(AISTPP_FPS / fps)))] / 100.0
    out = np.empty((len(coco), 18, 3), dtype=np.float32)
    for i, name in enumerate(OPENPOSE_KEYPOINTS):
        if name == "neck":
            out[:, i] = coco[:, [5, 6]].mean(axis=1)
        else:
            out[:, i] = coco[:, COCO_KEYPOINTS.index(name)]
    return out


def aistpp_music_id(sequence: str) -> str:
    """The music a sequence dances to, from its name: gBR_sBM_cAll_d04_mBR0_ch01 -> mBR0."""
    found = re.search(r"_(m[A-Z]{2}\d)_", sequence)
    if not found:
        raise BadInputError(f"{sequence}: not an AIST++ sequence name (expected ..._mXX0_...)")
    return found.group(1)


# --- drawing ---------------------------------------------------------------------------------

# OpenPose's 18 body keypoints (COCO order) and where they come from on this skeleton
OPENPOSE_KEYPOINTS = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
_FROM_SMPL = {"neck": 12, "right_shoulder": 17, "right_elbow": 19, "right_wrist": 21, "left_shoulder": 16,
              "left_elbow": 18, "left_wrist": 20, "right_hip": 2, "right_knee": 5, "right_ankle": 8,
              "left_hip": 1, "left_knee": 4, "left_ankle": 7}  # fmt: skip
# face points: offsets in the head joint's frame
_FACE = {"nose": (0.0, 0.02, 0.10), "right_eye": (-0.035, 0.06, 0.08), "left_eye": (0.035, 0.06, 0.08),
         "right_ear": (-0.075, 0.04, 0.0), "left_ear": (0.075, 0.04, 0.0)}  # fmt: skip
# the limbs OpenPose draws (pairs of keypoint indices) and its colour per limb / keypoint (RGB)
OPENPOSE_LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
                  (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))  # fmt: skip
OPENPOSE_COLOURS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip


def openpose_keypoints(motion: Motion) -> np.ndarray:
    """OpenPose's 18 keypoints (T, 18, 3) in 3D from the 24 joints (face points from the head)."""
    joints, globals_ = forward_kinematics(motion.rotations, motion.translation, with_global=True)
    out = np.zeros((len(joints), 18, 3), dtype=np.float32)
    for i, name in enumerate(OPENPOSE_KEYPOINTS):
        if name in _FROM_SMPL:
            out[:, i] = joints[:, _FROM_SMPL[name]]
        else:
            out[:, i] = joints[:, 15] + globals_[:, 15] @ np.asarray(_FACE[name], dtype=np.float32)
    return out


FOCAL = 1.7  # focal length in image widths


def project(points: np.ndarray, size: int, *, distance: float = 4.0, height: float = 1.05) -> np.ndarray:
    """Perspective view from a camera `distance` m in front of the dancer at `height` m:
    pixel coordinates (..., 2) and depth (..., 1) in an image of size x size."""
    depth = distance - points[..., 2:3]
    focal = size * FOCAL
    x = size / 2 + focal * points[..., 0:1] / depth
    y = size * 0.5 - focal * (points[..., 1:2] - height) / depth
    return np.concatenate([x, y, depth], axis=-1)


def draw_openpose(keypoints: np.ndarray, size: int = 64) -> np.ndarray:
    """OpenPose-style skeleton maps (T, size, size, 3) uint8 on black, as ControlNet's openpose
    annotator draws them: one colour per limb, one per keypoint."""
    pixels = project(keypoints, size)
    scale = size / 512
    width = max(1, int(round(4 * scale * 2)))
    out = np.zeros((len(keypoints), size, size, 3), dtype=np.uint8)
    for frame, points in zip(out, pixels, strict=True):
        canvas = np.zeros_like(frame)
        for limb, (a, b) in enumerate(OPENPOSE_LIMBS):
            p, q = points[a, :2], points[b, :2]
            centre = (p + q) / 2
            length = float(np.hypot(*(p - q)) / 2)
            angle = float(np.degrees(np.arctan2(p[1] - q[1], p[0] - q[0])))
            poly = cv2.ellipse2Poly(tuple(int(v) for v in centre), (int(length), width), int(angle), 0, 360, 10)
            cv2.fillConvexPoly(canvas, poly, OPENPOSE_COLOURS[limb])
        frame[:] = (canvas * 0.6).astype(np.uint8)
        for k, point in enumerate(points):
            cv2.circle(frame, (int(point[0]), int(point[1])), max(1, width), OPENPOSE_COLOURS[k], -1)
    return out


_BODY_PARTS = (  # (joint a, joint b, radius m, colour RGB): limbs drawn as capsules
    (0, 9, 0.11, (200, 70, 60)), (9, 12, 0.09, (200, 70, 60)), (13, 16, 0.05, (200, 70, 60)),
    (14, 17, 0.05, (200, 70, 60)), (16, 18, 0.045, (200, 70, 60)), (17, 19, 0.045, (200, 70, 60)),
    (18, 20, 0.035, (225, 180, 150)), (19, 21, 0.035, (225, 180, 150)), (20, 22, 0.03, (225, 180, 150)),
    (21, 23, 0.03, (225, 180, 150)), (1, 4, 0.065, (50, 60, 110)), (2, 5, 0.065, (50, 60, 110)),
    (4, 7, 0.05, (50, 60, 110)), (5, 8, 0.05, (50, 60, 110)), (7, 10, 0.035, (240, 240, 240)),
    (8, 11, 0.035, (240, 240, 240)), (12, 15, 0.05, (225, 180, 150)), (15, 15, 0.1, (225, 180, 150)),
    (1, 2, 0.08, (50, 60, 110)),
)  # fmt: skip


def draw_body(joints: np.ndarray, size: int = 64) -> np.ndarray:
    """The dancer's body (T, size, size, 3) uint8: shirt, trousers, skin and shoes as capsules
    drawn far to near, on a floor with the dancer's shadow. What the renderer learns to paint."""
    joints = check_motion(joints, min_frames=1)
    pixels = project(joints, size)
    focal = size * FOCAL
    out = np.empty((len(joints), size, size, 3), dtype=np.uint8)
    horizon = int(project(np.array([[0.0, 0.0, -3.0]]), size)[0, 1])
    background = np.zeros((size, size, 3), dtype=np.uint8)
    background[:horizon] = (70, 90, 120)
    background[horizon:] = (150, 130, 105)
    for frame, points, body in zip(out, pixels, joints, strict=True):
        frame[:] = background
        floor = project(np.array([[body[0, 0], 0.0, body[0, 2]]]), size)[0]
        cv2.ellipse(frame, (int(floor[0]), int(floor[1])), (max(2, size // 7), max(1, size // 28)), 0, 0, 360,
                    (110, 95, 80), -1)  # fmt: skip
        order = sorted(_BODY_PARTS, key=lambda part: -(points[part[0], 2] + points[part[1], 2]))
        for a, b, radius, colour in order:
            thickness = max(1, int(round(2 * radius * focal / points[a, 2])))
            p = (int(round(points[a, 0])), int(round(points[a, 1])))
            q = (int(round(points[b, 0])), int(round(points[b, 1])))
            if a == b:
                cv2.circle(frame, p, max(1, thickness // 2), colour, -1, cv2.LINE_AA)
            else:
                cv2.line(frame, p, q, colour, thickness, cv2.LINE_AA)
    return out


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """(T, 23) length of every bone (joint to parent) in every frame."""
    return np.linalg.norm(joints[:, 1:] - joints[:, list(PARENTS[1:])], axis=-1)
