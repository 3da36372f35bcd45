"""helpers.datasets: cached clips, splits, pairs for both frameworks, generated sets."""

import json

import numpy as np
import pytest

from helpers import datasets, runtime, video
from helpers.errors import BadInputError


def test_load_clip_caches_exactly_what_it_decodes(monkeypatch):
    first = datasets.load_clip("carphone", size=24, stride=3)
    calls = []
    monkeypatch.setattr(datasets, "read_frames", lambda *a, **k: calls.append(1))
    again = datasets.load_clip("carphone", size=24, stride=3)
    assert not calls and np.array_equal(first.frames, again.frames)
    assert np.array_equal(first.indices, again.indices) and first.fps == again.fps
    described = [json.loads(p.read_text()) for p in runtime.build_dir("cache", "frames").glob("carphone-*.json")]
    assert {"clip": "carphone", "size": 24, "stride": 3, "frames": 40, "frame_size": [24, 24]}.items() <= next(
        d for d in described if d["size"] == 24 and d["stride"] == 3
    ).items()


def test_split_by_clip_never_shares_a_clip():
    clip_ids = np.repeat([f"clip{i}" for i in range(10)], 7)
    splits = datasets.split_by_clip(clip_ids, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=3)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [6, 2, 2]
    members = [set(v) for v in splits.values()]
    assert set.union(*members) == set(clip_ids) and sum(map(len, members)) == 10
    positions = {s: datasets.positions_of(clip_ids, v) for s, v in splits.items()}
    assert sum(map(len, positions.values())) == len(clip_ids)
    assert splits == datasets.split_by_clip(clip_ids, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=3)


def test_split_by_clip_refuses_too_few_clips():
    with pytest.raises(BadInputError, match="2 clips cannot fill 3 splits"):
        datasets.split_by_clip(["a", "a", "b"])
    with pytest.raises(BadInputError, match="sum to 1"):
        datasets.split_by_clip(["a", "b"], {"train": 0.5, "test": 0.2})


def test_pairs_never_cross_a_boundary():
    ids = np.array(list("aaabbbbaa"))
    assert datasets.pair_indices(ids, 1).tolist() == [[0, 1], [1, 2], [3, 4], [4, 5], [5, 6], [7, 8]]
    assert datasets.pair_indices(ids, 3).tolist() == [[3, 6]]
    with pytest.raises(BadInputError):
        datasets.pair_indices(ids, 0)


def test_torch_and_tensorflow_serve_identical_pairs():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (6, 8, 10, 3), dtype=np.uint8)
    pairs = np.array([[0, 1], [2, 3], [4, 5]])
    torch_data = datasets.TorchPairs(frames, pairs)
    x, y = torch_data[1]
    assert tuple(x.shape) == (3, 8, 10) and float(x.min()) >= -1 and float(x.max()) <= 1
    tf_batches = list(datasets.tf_pairs(frames, pairs, batch_size=3))
    tx, ty = tf_batches[0]
    assert tuple(tx.shape) == (3, 8, 10, 3)
    assert np.allclose(x.permute(1, 2, 0).numpy(), tx[1].numpy(), atol=1e-6)
    assert np.allclose(y.permute(1, 2, 0).numpy(), ty[1].numpy(), atol=1e-6)
    assert np.allclose((ty[1].numpy() + 1) / 2 * 255, frames[3], atol=1e-3)


def test_side_by_side_round_trip():
    a = np.zeros((256, 256, 3), np.uint8)
    b = np.full((256, 256, 3), 200, np.uint8)
    joined = datasets.side_by_side(a, b)
    assert joined.shape == (256, 512, 3)
    left, right = datasets.split_side_by_side(joined)
    assert np.array_equal(left, a) and np.array_equal(right, b)
    with pytest.raises(BadInputError, match="same shape"):
        datasets.side_by_side(a, b[:10])


def test_mnist_digits_and_disjoint_split():
    images, labels = datasets.mnist_digits()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    split = datasets.digit_split(labels)
    assert not set(split["train"]) & set(split["test"])
    assert np.bincount(labels[split["test"]]).tolist() == [100] * 10


def test_moving_mnist_protocol():
    seqs = datasets.moving_mnist(6, split="test", seed=1)
    assert seqs.shape == (6, 20, 64, 64) and seqs.dtype == np.uint8
    assert np.array_equal(seqs, datasets.moving_mnist(6, split="test", seed=1))
    assert not np.array_equal(seqs, datasets.moving_mnist(6, split="train", seed=1))
    one = datasets.moving_mnist(10, digits=1, seed=2).astype(float)
    ys, xs = np.mgrid[:64, :64]
    mass = one.sum(axis=(2, 3))
    centres = np.stack([(one * ys).sum(axis=(2, 3)) / mass, (one * xs).sum(axis=(2, 3)) / mass], -1)
    assert np.median(np.linalg.norm(np.diff(centres, axis=1), axis=-1)) == pytest.approx(3.6, abs=0.5)


def test_bounce_stays_inside():
    rng = np.random.default_rng(0)
    path, velocity = datasets.bounce_trajectory(rng, 500, 36)
    assert path.min() >= 0 and path.max() <= 36 and np.isclose(np.linalg.norm(velocity), 1)


def test_bouncing_shapes_labels_match_pictures():
    frames, labels = datasets.bouncing_shapes(12, frames=8, seed=0)
    assert frames.shape == (12, 8, 64, 64, 3) and len(labels) == 12
    for seq, label in zip(frames, labels, strict=True):
        colour = np.array(datasets.COLOURS[label["colour"]])
        assert (np.abs(seq[0].astype(int) - colour).sum(-1) == 0).any(), label
    first, last = (
        np.argwhere(np.abs(frames[0, t].astype(int) - datasets.COLOURS[labels[0]["colour"]]).sum(-1) == 0).mean(0)
        for t in (0, 1)
    )
    dy, dx = np.sign(last - first)
    assert labels[0]["direction"] == f"{'up' if dy < 0 else 'down'}-{'left' if dx < 0 else 'right'}"


def test_cached_clips_keep_their_content_box_and_course_masks_follow_each_clip():
    first = datasets.load_clip("bikes", size=64)
    again = datasets.load_clip("bikes", size=64)  # from the cache
    assert first.content == again.content == video.content_box((640, 272), (64, 64))
    units = np.asarray(["bikes/shot0", "carphone/shot0", "bikes/shot3"])
    masks = datasets.content_masks(units, size=64)
    assert masks.shape == (3, 64, 64)
    assert (masks[0] == first.content_mask()).all() and (masks[2] == masks[0]).all()
    assert (masks[1] == datasets.load_clip("carphone", size=64).content_mask()).all()


def test_one_held_out_set_whatever_the_size_or_seed():
    units = datasets.course_units()
    frames_small, units_small = datasets.course_frames(32)
    frames_large, units_large = datasets.course_frames(64)
    assert (units_small == units).all() and (units_large == units).all()
    assert len(frames_small) == len(frames_large) == len(units)
    split = datasets.course_split(units)
    assert split["test"] and not set(split["test"]) & set(split["train"])
    assert set(split["test"]) | set(split["train"]) == set(units.tolist())
    small, large = datasets.moving_mnist_test_set(3), datasets.moving_mnist_test_set(5)
    assert np.array_equal(small, large[:3]), "a smaller test set is the start of a larger one"
    assert np.array_equal(large, datasets.moving_mnist(5, split="test", seed=datasets.HELD_OUT_SEED))


def test_every_profile_scores_every_chapter_on_the_same_moving_mnist_test_set():
    """Chapters that score on Moving MNIST name the count MNIST_TEST_SEQUENCES, and each profile
    gives every such chapter the same count."""
    for profile in runtime.PROFILES:
        data = runtime.load_profile(profile)
        counts = {
            chapter: values["MNIST_TEST_SEQUENCES"]
            for chapter, values in data.items()
            if chapter != "common" and "MNIST_TEST_SEQUENCES" in (values or {})
        }
        assert len(counts) >= 2 and len(set(counts.values())) == 1, f"{profile}: {counts}"


def test_labelled_shapes_label_every_frame_and_switch_colour_mid_clip():
    frames, colours, centres = datasets.labelled_shapes(40, frames=12, size=32, seed=3, switch_share=0.5)
    assert frames.shape == (40, 12, 32, 32, 3) and colours.shape == (40, 12) and centres.shape == (40, 12, 2)
    switches = (np.diff(colours, axis=1) != 0).sum(1)
    assert set(switches.tolist()) <= {0, 1} and 5 < switches.sum() < 35  # about half switch, once
    # the readers give back the labels from the pixels
    np.testing.assert_array_equal(datasets.shape_colour(frames), colours)
    assert np.abs(datasets.shape_centre(frames) - centres).max() < 0.15  # a triangle's centroid is off its box centre
    again, _, _ = datasets.labelled_shapes(40, frames=12, size=32, seed=3, switch_share=0.5)
    np.testing.assert_array_equal(frames, again)


def test_shape_colour_reads_none_on_an_empty_frame_and_ignores_speckle():
    empty = np.full((2, 16, 16, 3), (20, 20, 28), np.uint8)
    assert (datasets.shape_colour(empty) == -1).all()
    assert np.isnan(datasets.shape_centre(empty)).all()
    rng = np.random.default_rng(0)
    noisy = empty.astype(int) + rng.integers(-30, 30, empty.shape)
    noisy[:, 4:10, 4:10] = datasets.LABEL_COLOURS["blue"]
    assert (datasets.shape_colour(np.clip(noisy, 0, 255).astype(np.uint8)) == 2).all()


def test_the_held_out_shapes_are_fixed_and_no_config_trains_on_them():
    a = datasets.shapes_test_set(3, frames=4, size=32)
    b = datasets.shapes_test_set(3, frames=4, size=32)
    np.testing.assert_array_equal(a[0], b[0])
    train, _, _ = datasets.labelled_shapes(3, frames=4, size=32, seed=0)
    assert not np.array_equal(a[0], train)
