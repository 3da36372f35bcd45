"""helpers.baselines and helpers.rollout: predictions, feedback, the planted bug, drift, strips."""

import numpy as np
import pytest

from helpers import baselines, datasets, rollout, viz
from helpers.errors import BadInputError


def moving_texture(frames: int = 8, step: int = 2) -> np.ndarray:
    rng = np.random.default_rng(3)
    texture = np.kron(rng.random((16, 32)), np.ones((4, 4)))
    return np.stack([np.roll(texture, step * t, axis=1)[:, 24:88] for t in range(frames)])[..., None]


def test_copy_and_linear_by_hand():
    context = np.stack([np.full((2, 2, 1), 0.2), np.full((2, 2, 1), 0.5)])
    assert baselines.copy_last(context) == pytest.approx(np.full((2, 2, 1), 0.5))
    assert baselines.linear_extrapolation(context) == pytest.approx(np.full((2, 2, 1), 0.8))
    context[1] = 0.9  # 2 * 0.9 - 0.2 = 1.6 is clipped
    assert baselines.linear_extrapolation(context).max() == 1.0


def test_flow_extrapolation_follows_motion():
    seq = moving_texture()
    pred = baselines.flow_extrapolation(seq[2:4])
    copy = baselines.copy_last(seq[2:4])
    error = lambda x: np.abs(x - seq[4])[:, 8:-8].mean()  # noqa: E731  (borders cannot be predicted)
    assert error(pred) < 0.3 * error(copy)


def test_baselines_need_enough_context():
    with pytest.raises(BadInputError, match="at least 2 frames"):
        baselines.linear_extrapolation(np.zeros((1, 4, 4, 1)))


def test_rollout_feeds_back_its_own_output():
    seen = []

    def recording(context):
        seen.append(context.copy())
        return np.clip(context[-1] * 0.9 + 0.05, 0, 1)

    context = np.random.default_rng(0).random((3, 6, 6, 1))
    result = rollout.rollout(recording, context, steps=4, check_feedback=False)
    assert result.frames.shape == (4, 6, 6, 1)
    for step in range(1, 4):
        assert np.array_equal(seen[step][-1], result.frames[step - 1]), "the newest input is the last output"
        assert np.array_equal(seen[step][:-1], seen[step - 1][1:]), "the window slides by one frame"
    assert result.fps > 0


def test_planted_feedback_bug_is_refused():
    seq = moving_texture()
    first = seq[:2]

    def same_input_every_step(context):
        return baselines.flow_extrapolation(first)  # the bug: ignores its argument

    with pytest.raises(rollout.FeedbackError, match="same input at every step"):
        rollout.rollout(same_input_every_step, seq[:2], steps=5)


def test_stochastic_predictors_are_judged_against_their_noise():
    rng = np.random.default_rng(1)
    seq = moving_texture()
    noisy_but_reading = lambda c: np.clip(c[-1] + rng.normal(0, 0.01, c[-1].shape), 0, 1)  # noqa: E731
    rollout.rollout(noisy_but_reading, seq[:2], steps=3)
    noisy_and_stuck = lambda c: np.clip(seq[0] + rng.normal(0, 0.01, seq[0].shape), 0, 1)  # noqa: E731
    with pytest.raises(rollout.FeedbackError):
        rollout.rollout(noisy_and_stuck, seq[:2], steps=3)


def test_rollout_checks_its_predictor_output():
    with pytest.raises(BadInputError, match=r"returned shape \(4, 4\), expected one frame \(6, 6, 1\)"):
        rollout.rollout(lambda c: np.zeros((4, 4)), np.zeros((2, 6, 6, 1)), steps=2, check_feedback=False)
    with pytest.raises(BadInputError, match="tanh output"):
        rollout.rollout(lambda c: c[-1] * 2 - 1, np.full((2, 6, 6, 1), 0.2), steps=2, check_feedback=False)


def test_drift_and_strip(tmp_path):
    seq = moving_texture(frames=10)
    result = rollout.rollout(baselines.copy_last, seq[:2], steps=8)
    table = rollout.drift(result.frames, seq[2:])
    assert list(table.index) == list(range(1, 9)) and set(table.columns) == {"psnr", "ssim", "mse", "mae"}
    assert table["mse"].iloc[-1] > table["mse"].iloc[0]
    strip = viz.comparison_strip(seq[2:], result.frames, steps=[0, 7])
    assert strip.shape == (3 * 64 + 4, 2 * 64 + 2, 3)
    png, gif = viz.save_comparison(seq[2:], result.frames, tmp_path / "cmp")
    assert png.suffix == ".png" and gif.suffix == ".gif" and png.stat().st_size and gif.stat().st_size


def test_moving_mnist_protocol_scores():
    sequences = datasets.moving_mnist(4, split="test", seed=0)[..., None]
    pred, scores, table = rollout.evaluate_rollouts(baselines.copy_last, sequences, 10, show_progress=False)
    assert pred.shape == (4, 10, 64, 64, 1) and len(table) == 10
    assert scores["openstl_mse"] == pytest.approx(64 * 64 * scores["mse"], rel=1e-9)
    assert np.array_equal(pred[:, 3], np.repeat(sequences[:, 9:10] / 255.0, 1, axis=1)[:, 0])
    with pytest.raises(BadInputError, match="do not fit"):
        rollout.evaluate_rollouts(baselines.copy_last, sequences, 15, steps=10)


def test_one_step_predicts_each_frame_from_the_true_ones_before_it():
    seq = moving_texture(frames=6)
    pred, truth = rollout.one_step(baselines.copy_last, seq, context=2)
    assert np.array_equal(pred, seq[1:-1]) and np.array_equal(truth, seq[2:])
    with pytest.raises(BadInputError, match="more than 2 frames"):
        rollout.one_step(baselines.copy_last, seq[:2], context=2)


def test_rollout_scores_on_picture_content_only():
    rng = np.random.default_rng(5)
    sequences = np.zeros((2, 6, 32, 32, 1))
    sequences[:, :, 8:24] = rng.random((2, 6, 16, 32, 1))
    mask = np.zeros((32, 32), dtype=bool)
    mask[8:24] = True
    _, whole, whole_table = rollout.evaluate_rollouts(baselines.copy_last, sequences, 2, show_progress=False)
    _, content, table = rollout.evaluate_rollouts(
        baselines.copy_last, sequences, 2, show_progress=False, mask=np.stack([mask, mask])
    )
    assert content["psnr"] < whole["psnr"] and content["mse"] == pytest.approx(2 * whole["mse"])
    expected = rollout.drift(sequences[:, 1:2].repeat(4, axis=1), sequences[:, 2:], mask)
    assert np.allclose(table["psnr"], expected["psnr"]) and (table["psnr"] < whole_table["psnr"]).all()


def test_side_by_side_captions_wrap_instead_of_being_cut():
    frames = np.zeros((2, 32, 64, 3), dtype=np.uint8)
    long_name = "diffusion forcing (pyramid)"  # wider than 64 px in the default font
    assert len(viz._caption_lines(long_name, 64)) > 1
    assert viz._caption_lines("truth", 64) == ["truth"]
    tiled = viz.sequences_side_by_side({"truth": frames, long_name: frames})
    # both captions get the band of the longer one, so the two tiles keep one height
    assert tiled.shape[0] == 2 and tiled.shape[1] == 32 + 12 * len(viz._caption_lines(long_name, 64)) + 2
