"""The skeleton, the procedural dancer, the AIST++ loader and the drawings (chapter 08)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from helpers.dance import aistpp, dancer, drawing, metrics, skeleton
from helpers.errors import BadInputError

BEATS = np.arange(0, 12, 0.5)  # 120 beats a minute


def random_rotations(frames: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return skeleton.rotvec_to_matrix(rng.normal(scale=0.8, size=(frames, 24, 3)))


def test_forward_kinematics_keeps_bone_lengths_and_agrees_between_numpy_and_torch():
    rot = random_rotations(5)
    trans = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    joints = skeleton.forward_kinematics(rot, trans)
    rest = np.linalg.norm(skeleton.OFFSETS[1:], axis=1)
    assert np.allclose(skeleton.bone_lengths(joints), rest[None], atol=1e-5)
    assert np.allclose(joints[:, 0], trans)
    from_torch = skeleton.forward_kinematics(torch.from_numpy(rot), torch.from_numpy(trans)).numpy()
    assert np.allclose(joints, from_torch, atol=1e-6)


def test_rest_pose_is_the_offsets_summed_along_each_chain():
    joints = skeleton.forward_kinematics(
        np.broadcast_to(np.eye(3, dtype=np.float32), (1, 24, 3, 3)).copy(), np.zeros((1, 3))
    )
    left_wrist = skeleton.SMPL_JOINTS.index("left_wrist")
    chain, j = [], left_wrist
    while j >= 0:
        chain.append(j)
        j = skeleton.PARENTS[j]
    assert np.allclose(joints[0, left_wrist], skeleton.OFFSETS[chain].sum(axis=0), atol=1e-6)
    assert joints[0, left_wrist, 0] > 0.5  # the left arm points to +x in the T-pose


def test_6d_rotation_round_trip_and_any_6_numbers_give_a_rotation():
    rot = torch.from_numpy(random_rotations(3))
    assert torch.allclose(skeleton.sixd_to_matrix(skeleton.matrix_to_6d(rot)), rot, atol=1e-5)
    made = skeleton.sixd_to_matrix(torch.randn(10, 6))
    assert torch.allclose(made @ made.transpose(-1, -2), torch.eye(3).expand(10, 3, 3), atol=1e-5)
    assert torch.allclose(torch.linalg.det(made), torch.ones(10), atol=1e-5)


@pytest.mark.parametrize("style", list(dancer.STYLES))
def test_procedural_dance_stands_on_the_floor_and_moves_on_the_beat(style):
    motion = dancer.procedural_dance(BEATS, 10, fps=30, style=style, seed=3)
    joints = motion.joints
    assert joints.shape == (300, 24, 3)
    feet = joints[:, skeleton.FEET, 1].min(axis=1)
    assert feet.min() == pytest.approx(0.02, abs=1e-4)  # never below the floor
    assert np.allclose(skeleton.bone_lengths(joints).std(axis=0), 0, atol=1e-4)
    music = np.round(BEATS[BEATS < 10] * 30).astype(int)
    aligned = metrics.beat_align_score(joints, music, 30)
    late = metrics.beat_align_score(joints, np.clip(music + 7, 0, 299), 30)  # about half a beat off
    every = dancer.STYLES[style].beats_per_pose  # a key pose on every beat, or every other one
    assert aligned > 0.5 / every and aligned > late + 0.15


def test_procedural_dance_is_seeded_and_varies_with_the_seed():
    a = dancer.procedural_dance(BEATS, 6, seed=1).joints
    b = dancer.procedural_dance(BEATS, 6, seed=1).joints
    c = dancer.procedural_dance(BEATS, 6, seed=2).joints
    assert np.array_equal(a, b)
    assert np.abs(a - c).max() > 0.05


def test_faster_music_makes_a_faster_dance():
    slow = dancer.procedural_dance(np.arange(0, 20, 0.75), 8, seed=0).joints
    fast = dancer.procedural_dance(np.arange(0, 20, 0.4), 8, seed=0).joints
    speed = lambda j: np.linalg.norm(np.diff(j, axis=0), axis=-1).mean()  # noqa: E731
    assert speed(fast) > 1.3 * speed(slow)


def test_procedural_dance_refuses_bad_arguments():
    with pytest.raises(BadInputError, match="style 'tango'"):
        dancer.procedural_dance(BEATS, 4, style="tango")
    with pytest.raises(BadInputError, match="beat_times"):
        dancer.procedural_dance(np.array([1.0]), 4)
    with pytest.raises(BadInputError, match="seconds"):
        dancer.procedural_dance(BEATS, 0)


def test_aistpp_loader_reads_smpl_motions_at_the_asked_frame_rate(tmp_path):
    frames = 40
    poses = np.zeros((frames, 72))
    poses[:, 16 * 3 + 2] = np.linspace(0, 1.2, frames)  # the left shoulder raises the arm
    trans = np.zeros((frames, 3))
    trans[:, 0] = np.linspace(0, 100, frames)  # AIST++ stores centimetre-scale positions ...
    path = tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl"
    with path.open("wb") as handle:
        pickle.dump({"smpl_poses": poses, "smpl_trans": trans, "smpl_scaling": np.array([100.0])}, handle)
    motion = aistpp.load_aistpp_motion(path, fps=30)
    assert len(motion) == frames // 2 and motion.fps == 30
    joints = motion.joints
    assert joints[-1, 0, 0] - joints[0, 0, 0] == pytest.approx(1.0 * (frames - 2) / (frames - 1), abs=1e-4)
    wrist = skeleton.SMPL_JOINTS.index("left_wrist")
    assert joints[-1, wrist, 1] > joints[0, wrist, 1] + 0.3  # ... and scaling brings them to metres
    assert joints[:, skeleton.FEET, 1].min() == pytest.approx(0.0, abs=1e-6)
    assert aistpp.aistpp_music_id(path.stem) == "mBR0"


def test_aistpp_loader_refuses_missing_and_foreign_files(tmp_path):
    with pytest.raises(BadInputError, match="no such file"):
        aistpp.load_aistpp_motion(tmp_path / "missing.pkl")
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"poses": [1, 2]}))
    with pytest.raises(BadInputError, match="not an AIST\\+\\+ motion file"):
        aistpp.load_aistpp_motion(other)
    with pytest.raises(BadInputError, match="not an AIST"):
        aistpp.aistpp_music_id("my_dance")


def test_openpose_maps_use_openpose_colours_and_follow_the_body():
    motion = dancer.procedural_dance(BEATS, 2, seed=0)
    keypoints = drawing.openpose_keypoints(motion)
    assert keypoints.shape == (60, 18, 3)
    nose, neck = keypoints[:, 0], keypoints[:, 1]
    assert (nose[:, 1] > neck[:, 1]).all() and (nose[:, 2] > neck[:, 2] - 0.05).all()  # the face looks forward
    maps = drawing.draw_openpose(keypoints[:2], 128)
    assert maps.shape == (2, 128, 128, 3) and maps.dtype == np.uint8
    colours = {tuple(c) for c in maps[0].reshape(-1, 3)}
    assert (255, 0, 0) in colours and (0, 0, 255) in colours  # keypoint 0 and keypoint 12's colours
    moved = skeleton.Motion(motion.rotations[:1], motion.translation[:1] + np.array([0.5, 0, 0], dtype=np.float32), 30)
    shifted = drawing.draw_openpose(drawing.openpose_keypoints(moved), 128)[0]
    column = lambda image: np.nonzero(image.any(axis=(0, 2)))[0].mean()  # noqa: E731
    assert column(shifted) > column(maps[0]) + 10  # the dancer's left (+x) is the picture's right


def test_draw_body_paints_the_dancer_on_a_floor():
    motion = dancer.procedural_dance(BEATS, 1, seed=0)
    body = drawing.draw_body(motion.joints[:3], 64)
    assert body.shape == (3, 64, 64, 3) and body.dtype == np.uint8
    shirt = np.all(np.abs(body[0].astype(int) - (200, 70, 60)) < 30, axis=-1)
    assert shirt.sum() > 20
    with pytest.raises(BadInputError, match="joints"):
        drawing.draw_body(np.zeros((2, 17, 3)))


def test_aistpp_keypoints_become_openpose_keypoints(tmp_path):
    coco = np.zeros((6, 17, 3))
    coco[:, 5] = (20.0, 150.0, 0.0)  # left shoulder, centimetres
    coco[:, 6] = (-20.0, 150.0, 0.0)
    coco[:, 0] = (0.0, 170.0, 10.0)  # nose
    path = tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl"
    path.write_bytes(pickle.dumps({"keypoints3d_optim": coco}))
    points = aistpp.load_aistpp_keypoints(path, fps=30)
    assert points.shape == (3, 18, 3)
    assert np.allclose(points[0, 1], (0.0, 1.5, 0.0))  # the neck between the shoulders, in metres
    assert np.allclose(points[0, 0], (0.0, 1.7, 0.1))
    assert np.allclose(points[0, 5], (0.2, 1.5, 0.0))  # OpenPose's index 5 is the left shoulder
    assert drawing.draw_openpose(points, 32).shape == (3, 32, 32, 3)
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(pickle.dumps({"keypoints3d": np.zeros((5, 24, 3))}))
    with pytest.raises(BadInputError, match="17, 3"):
        aistpp.load_aistpp_keypoints(bad)
