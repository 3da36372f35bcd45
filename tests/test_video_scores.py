"""helpers.video_scores: distribution distances, the shuffle check, and VBench's weight-free
dimensions, each on hand-made clips whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import video_scores as vs
from helpers.errors import BadInputError


def moving_square(n: int = 6, frames: int = 8, size: int = 32, speed: int = 2, seed: int = 0) -> np.ndarray:
    """Clips (n, frames, size, size, 3) in [0, 1]: a bright square sliding right `speed` px a frame."""
    rng = np.random.default_rng(seed)
    clips = np.zeros((n, frames, size, size, 3))
    for i in range(n):
        y, x = rng.integers(2, size // 2, 2)
        for t in range(frames):
            left = (x + speed * t) % (size - 8)
            clips[i, t, y : y + 8, left : left + 8] = rng.uniform(0.6, 1.0)
    return clips


def test_frechet_distance_is_zero_for_one_set_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 3))
    assert vs.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = vs.frechet_distance(a, a + [2.0, 0, 0])
    assert shifted == pytest.approx(4.0, rel=1e-6)  # the covariances cancel: ||mu_a - mu_b||^2 = 4
    wider = vs.frechet_distance(a, a * 2)  # tr(S + 4S - 2 * 2S) = tr(S), plus the means' gap
    expected = np.trace(np.cov(a, rowvar=False)) + float(a.mean(axis=0) @ a.mean(axis=0))
    assert wider == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_matches_two_known_gaussians():
    # N(0, I) against N(0, 4 I) in 2 dimensions, from very many samples: tr(I + 4I - 2*2I) = 2
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(20000, 2)), 2 * rng.normal(size=(20000, 2))
    assert vs.frechet_distance(a, b) == pytest.approx(2.0, abs=0.1)


def test_kernel_distance_is_unbiased_near_zero_for_one_distribution_and_positive_apart():
    rng = np.random.default_rng(2)
    same = [
        vs.kernel_distance(rng.normal(size=(60, 4)), rng.normal(size=(60, 4)), subsets=5, seed=s)[0] for s in range(8)
    ]
    assert abs(np.mean(same)) < 0.05 and min(same) < 0  # unbiased: it dips below zero by chance
    apart, spread = vs.kernel_distance(rng.normal(size=(60, 4)), rng.normal(1.0, size=(60, 4)), subsets=5)
    assert apart > 10 * abs(np.mean(same)) and spread >= 0


def test_kernel_distance_matches_the_formula_written_out():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    k = lambda a, b: (a @ b / 3 + 1) ** 3  # noqa: E731
    within = sum(k(x[i], x[j]) + k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    cross = sum(k(x[i], y[j]) for i in range(5) for j in range(5)) / 25
    value, spread = vs.kernel_distance(x, y, subsets=3)
    assert value == pytest.approx(within - 2 * cross) and spread == pytest.approx(0.0, abs=1e-12)


def test_distances_refuse_mismatched_or_tiny_sets_in_one_line():
    with pytest.raises(BadInputError, match="same D"):
        vs.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(BadInputError, match="needs 2 or more"):
        vs.kernel_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(BadInputError, match="NaN"):
        vs.frechet_distance(np.full((5, 3), np.nan), np.zeros((5, 3)))


def test_shuffling_in_time_keeps_every_frame_and_breaks_the_order():
    clips = moving_square(4, frames=6)
    shuffled = vs.shuffled_in_time(clips, seed=0)
    for original, mixed in zip(clips, shuffled, strict=True):
        assert sorted(map(bytes, (f.tobytes() for f in original))) == sorted(f.tobytes() for f in mixed)
        assert not np.array_equal(original, mixed)


def test_flickering_is_one_for_a_frozen_clip_and_follows_vbench_formula():
    frozen = np.repeat(moving_square(2)[:, :1], 8, axis=1)
    assert vs.temporal_flickering(frozen) == pytest.approx(1.0)
    flicker = frozen.copy()
    flicker[:, 1::2] = np.clip(flicker[:, 1::2] + 0.2, 0, 1)  # every other frame brighter
    diffs = np.abs(np.diff(np.round(flicker * 255), axis=1)).mean(axis=(2, 3, 4)).mean(axis=1)
    assert vs.temporal_flickering(flicker) == pytest.approx(float(np.mean((255 - diffs) / 255)), abs=2e-3)
    assert vs.temporal_flickering(flicker) < vs.temporal_flickering(moving_square(2))


def test_dynamic_degree_tells_a_moving_clip_from_a_still_one():
    moving = moving_square(3, frames=16, size=64, speed=4)
    still = np.repeat(moving[:, :1], 16, axis=1)
    assert vs.dynamic_degree(moving, fps=8) == 1.0
    assert vs.dynamic_degree(still, fps=8) == 0.0
    assert vs.motion_magnitude(still) == pytest.approx(0.0, abs=1e-3)
    assert vs.motion_magnitude(moving_square(3, size=64, speed=4)) > vs.motion_magnitude(
        moving_square(3, size=64, speed=1)
    )
    with pytest.raises(BadInputError, match="fps=0"):
        vs.dynamic_degree(moving, fps=0)


def test_subject_consistency_is_one_when_nothing_changes_and_lower_when_it_does():
    rng = np.random.default_rng(4)
    base = rng.normal(size=(3, 1, 4, 4, 4))
    assert vs.subject_consistency(np.repeat(base, 5, axis=1)) == pytest.approx(1.0)
    changing = base + np.cumsum(rng.normal(size=(3, 5, 4, 4, 4)), axis=1)
    assert vs.subject_consistency(changing) < 0.99


def test_latent_features_see_motion_and_content():
    rng = np.random.default_rng(5)
    still = np.repeat(rng.normal(size=(2, 1, 4, 8, 8)), 6, axis=1)
    features = vs.latent_features(still)
    assert features.shape == (2, 28)
    assert np.allclose(features[:, 20:], 0)  # change and drift: nothing moves
    moving = still + np.arange(6)[None, :, None, None, None] * 0.1
    assert (vs.latent_features(moving)[:, 20:24] > 0.09).all()


def test_distribution_noise_shrinks_with_the_sample_size():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(200, 5))
    noise = vs.distribution_noise(real, sizes=(8, 64), repeats=6)
    assert list(noise.index) == [8, 64]
    assert noise.loc[64, "fd mean"] < noise.loc[8, "fd mean"]
    with pytest.raises(BadInputError, match="too few"):
        vs.distribution_noise(real[:10], sizes=(8,))


def test_far_from_data_speaks_only_of_a_kid_far_above_the_reference():
    near, far, reference = {"kid": 30.0, "fd": 120.0}, {"kid": 3.0e6, "fd": 7000.0}, {"kid": 25.0, "fd": 100.0}
    assert vs.far_from_data(near, reference, "copy-last") == ""
    sentence = vs.far_from_data(far, reference, "copy-last")
    assert "120,000 times copy-last's" in sentence and "70 times" in sentence
