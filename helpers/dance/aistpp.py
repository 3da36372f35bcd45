"""AIST++ files for chapter 08: its SMPL motions as a `Motion` on the course's skeleton, its 3D
COCO keypoints as OpenPose's 18, and the music a sequence dances to. Chapter 08 explains them.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np

from ..errors import BadInputError
from .drawing import OPENPOSE_KEYPOINTS
from .skeleton import FEET, Motion, forward_kinematics, rotvec_to_matrix

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
