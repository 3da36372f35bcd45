"""The skeleton of chapter 08's dancers: SMPL's 24 joints, their parents and rest-pose offsets,
rotations as axis-angle vectors, matrices and the continuous 6D representation, forward
kinematics, and `Motion`, a dance as joint rotations and a root path. Chapter 08 explains them.

Coordinates: metres, y up, the dancer faces +z, its left is +x (SMPL's convention). A motion is
local joint rotations (T, 24, 3, 3) and a root translation (T, 3); `forward_kinematics` turns
them into joint positions (T, 24, 3) with fixed bone lengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BadInputError

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


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """(T, 23) length of every bone (joint to parent) in every frame."""
    return np.linalg.norm(joints[:, 1:] - joints[:, list(PARENTS[1:])], axis=-1)
