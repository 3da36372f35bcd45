"""Drawings of chapter 08's dancers: OpenPose's 18 keypoints from the skeleton, a perspective
camera, OpenPose-style skeleton maps (what ControlNet is conditioned on) and the drawn body the
renderer learns to paint. Chapter 08 explains them.
"""

from __future__ import annotations

import cv2
import numpy as np

from .skeleton import Motion, check_motion, forward_kinematics

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
