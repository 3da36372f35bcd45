"""tools.wheelhouse: the import scan, the closure less the base packages, the trimmed wheel's
RECORD and the command line's refusals. No network, except the test that names its variable."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers.errors import CourseError
from tools import wheelhouse

ENV_312 = wheelhouse.marker_environment("3.12")
ENV_311 = wheelhouse.marker_environment("3.11")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def fake_course(tmp_path: Path) -> Path:
    """A package `helpers` with lazy, relative and optional imports, a CLI, and two chapters."""
    write(tmp_path / "helpers" / "__init__.py", '"""Imports nothing."""\n')
    write(
        tmp_path / "helpers" / "runtime.py",
        "import yaml\n\n"
        "try:\n    import myst_nb\nexcept ImportError:\n    myst_nb = None\n\n"
        "def light():\n    return 1\n\n"
        "def import_heavy():\n    import tensorflow as tf\n    return tf\n",
    )
    write(tmp_path / "helpers" / "sub" / "__init__.py", "")
    write(
        tmp_path / "helpers" / "sub" / "model.py",
        "from ..runtime import light\nfrom . import util\n\n"
        "class Net:\n    def forward(self):\n        import torch.nn.functional as F\n        return F\n\n"
        "def build():\n    from .util import helper\n    light()\n    return helper(), Net()\n\n"
        "def unused():\n    import jax\n",
    )
    write(
        tmp_path / "helpers" / "sub" / "util.py",
        'CLIPS = ("clip_a",)\nOTHER = ("clip_b",)\n\ndef helper():\n    from scipy import linalg\n    return CLIPS\n',
    )
    write(tmp_path / "helpers" / "cli" / "__init__.py", "")
    write(tmp_path / "helpers" / "cli" / "__main__.py", "def main():\n    import optuna\n")
    write(
        tmp_path / "notebooks" / "01_light.py",
        "# %%\nimport subprocess\nimport sys\n\nimport numpy as np\n\n"
        "from helpers import runtime\nfrom helpers.sub.model import build\n\n"
        "# %%\nruntime.light()\nbuild()\n"
        'subprocess.run([sys.executable, "-m", "helpers.cli"], check=True)\n',
    )
    write(tmp_path / "notebooks" / "02_heavy.py", "from helpers import runtime\n\ntf = runtime.import_heavy()\n")
    return tmp_path


def test_the_scan_follows_lazy_relative_and_subprocess_imports_and_skips_optional_ones(fake_course: Path):
    scan = wheelhouse.scan_chapter(fake_course / "notebooks" / "01_light.py", fake_course)
    assert scan.modules == {"subprocess", "sys", "numpy", "yaml", "torch", "scipy", "optuna"}
    assert {"helpers.runtime", "helpers.sub.model", "helpers.sub.util", "helpers.cli.__main__"} <= scan.helpers
    assert ("helpers.runtime", "import_heavy") not in scan.reached  # defined, never called here
    heavy = wheelhouse.scan_chapter(fake_course / "notebooks" / "02_heavy.py", fake_course)
    assert heavy.modules == {"yaml", "tensorflow"}


def test_a_section_that_runs_only_where_a_package_is_installed_needs_nothing(fake_course: Path):
    write(
        fake_course / "notebooks" / "03_guarded.py",
        "import importlib.util\n\nfrom helpers import runtime\n\n"
        'HAVE_TF = importlib.util.find_spec("tensorflow") is not None\n'
        "if HAVE_TF:\n    tf = runtime.import_heavy()\nelse:\n    import numpy\n"
        'if importlib.util.find_spec("jax"):\n    import jax\n',
    )
    scan = wheelhouse.scan_chapter(fake_course / "notebooks" / "03_guarded.py", fake_course)
    assert "tensorflow" not in scan.modules and "jax" not in scan.modules
    assert {"importlib", "numpy", "yaml"} <= scan.modules  # the else branch and the rest still count
    assert ("helpers.runtime", "import_heavy") not in scan.reached


def test_data_packages_are_the_ones_whose_entries_the_chapter_names(fake_course: Path):
    scan = wheelhouse.scan_chapter(fake_course / "notebooks" / "01_light.py", fake_course)
    manifest = {
        "clip_a": {"kind": "package_file", "package": "Clip-Pack"},
        "clip_b": {"kind": "package_file", "package": "other-pack"},
        "digits": {"kind": "procedural", "generator": "helpers.sub.model.build", "source": {"package": "digit-pack"}},
        "far": {"kind": "external"},
    }
    assert wheelhouse.data_packages(scan, manifest, set()) == {"clip-pack": ["clip_a"], "digit-pack": ["digits"]}
    assert "other-pack" in wheelhouse.data_packages(scan, manifest, {"clip_b"})  # named by a profile


TABLE = {
    "app": [
        "lib>=1",
        "windows-only; sys_platform == 'win32'",
        "backport; python_version < '3.12'",
        "fancy; extra == 'plot'",
        "torch",
    ],
    "lib": ["tiny"],
    "tiny": [],
    "backport": [],
    "fancy": [],
    "torch": ["sympy", "filelock"],
    "sympy": ["mpmath"],
    "mpmath": [],
    "filelock": [],
    "ipykernel": ["debugpy>=1.6", "ipython", "tiny"],
    "ipython": ["jedi>=0.18", "pygments"],
    "jedi": ["parso"],
    "parso": [],
    "debugpy": [],
    "pygments": [],
}


def test_the_closure_less_the_base_follows_markers_and_extras():
    present = wheelhouse.base_closure(["torch", "not-installed-here"], TABLE, ENV_312)
    assert present == {"torch", "sympy", "mpmath", "filelock", "not-installed-here"}
    assert set(wheelhouse.chapter_set(["app"], TABLE, ENV_312, present)) == {"app", "lib", "tiny"}
    assert set(wheelhouse.chapter_set(["app"], TABLE, ENV_311, present)) == {"app", "lib", "tiny", "backport"}
    with_extra = wheelhouse.chapter_set(["app[plot]"], TABLE, ENV_312, present)
    assert set(with_extra) == {"app", "lib", "tiny", "fancy"} and with_extra["fancy"] == "app"
    assert set(wheelhouse.chapter_set(["torch", "lib"], TABLE, ENV_312, present)) == {"lib", "tiny"}


def test_debugpy_and_jedi_are_dropped_with_what_only_they_need():
    assert {"debugpy", "jedi"} <= set(wheelhouse.DROPPED)
    needed = wheelhouse.chapter_set(["ipykernel"], TABLE, ENV_312, set())
    assert set(needed) == {"ipykernel", "ipython", "pygments", "tiny"}  # no debugpy, jedi or parso


def test_a_requirement_missing_from_the_venv_is_an_error_naming_it():
    with pytest.raises(CourseError, match=r"ghost \(required by lib\)"):
        wheelhouse.closure(["lib"], {"lib": ["ghost"]}, ENV_312)


def test_cv2_counts_as_present_under_either_opencv_name():
    providers = {"cv2": ["opencv-python-headless"], "yaml": ["PyYAML"], "json": []}
    found, missing = wheelhouse.module_distributions({"cv2", "yaml", "json", "nowhere"}, providers, {"pyyaml"})
    assert found == {"cv2": ["opencv-python-headless"], "yaml": ["pyyaml"]} and missing == ["nowhere"]


def test_the_lock_gives_the_pins(tmp_path: Path):
    lock = write(tmp_path / "requirements.txt", "# comment\nPyYAML==6.0.3\nmusic21==10.5.1 ; python_version >= '3'\n")
    assert wheelhouse.read_lock(lock) == {"pyyaml": "6.0.3", "music21": "10.5.1"}


def test_an_sdist_only_package_is_named_as_such():
    message = wheelhouse.explain_missing_wheel(
        "oldpkg", "1.0", "3.12", ["oldpkg-1.0.tar.gz", "oldpkg-0.9-py3-none-any.whl"]
    )
    assert "oldpkg==1.0 is an sdist-only package" in message
    other = wheelhouse.explain_missing_wheel("fast", "2.0", "3.12", ["fast-2.0-cp311-cp311-win_amd64.whl"])
    assert "no wheel for CPython 3.12" in other and "cp311-cp311-win_amd64" in other


def make_wheel(folder: Path) -> Path:
    files = {
        "pkg/__init__.py": b"VALUE = 1\n",
        "pkg/corpus/__init__.py": b"",
        "pkg/corpus/keep/piece.txt": b"kept piece\n",
        "pkg/corpus/drop/other.txt": b"x" * 5000,
        "pkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n",
        "pkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    path = folder / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        rows = [f"{name},{wheelhouse.record_hash(data)},{len(data)}" for name, data in files.items()]
        archive.writestr("pkg-1.0.dist-info/RECORD", "\n".join([*rows, "pkg-1.0.dist-info/RECORD,,"]) + "\n")
    return path


def test_a_trimmed_wheel_has_a_record_that_matches_and_pip_installs_it(tmp_path: Path):
    source = make_wheel(tmp_path)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / source.name
    keep = wheelhouse.keep_corpus({"music21/corpus/keep/piece.txt"})
    dropped = wheelhouse.trim_wheel(source, target, lambda name: keep(name.replace("pkg/", "music21/", 1)))
    assert dropped == ["pkg/corpus/drop/other.txt"]
    with zipfile.ZipFile(target) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("pkg-1.0.dist-info/RECORD").decode())))
        listed = {row[0]: row[1:] for row in rows}
        assert listed.pop("pkg-1.0.dist-info/RECORD") == ["", ""]
        assert set(listed) == set(archive.namelist()) - {"pkg-1.0.dist-info/RECORD"}
        for name, (digest, size) in listed.items():
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data)
    wheelhouse.check_record(target)
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-compile"]
        + ["--disable-pip-version-check", "--target", str(site), str(target)],
        check=True,
        capture_output=True,
    )
    assert (site / "pkg" / "corpus" / "keep" / "piece.txt").is_file()
    assert not (site / "pkg" / "corpus" / "drop").exists()


def test_a_damaged_record_is_refused(tmp_path: Path):
    source = make_wheel(tmp_path)
    damaged = tmp_path / "damaged.whl"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(damaged, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, b"changed\n" if info.filename == "pkg/__init__.py" else data)
    with pytest.raises(CourseError, match="RECORD does not match pkg/__init__.py"):
        wheelhouse.check_record(damaged)


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "--only: which chapter?"),
        (["--only", "99"], "--only 99: no written chapter 99"),
        (["--only", "00", "--python-version", "3.10"], "--python-version '3.10'"),
        (["--only", "00", "--python-version", "three"], "--python-version 'three'"),
        (["--only", "00", "--no-such-option"], "unrecognized arguments"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2_and_leaves_no_folder(tmp_path: Path, capsys, argv, message):
    out = tmp_path / "wheels" / "00"
    with pytest.raises(SystemExit) as stop:
        sys.exit(wheelhouse.main([*argv, "--out", str(out)]))
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "wheels").exists()


@pytest.mark.skipif(not os.environ.get("WHEELHOUSE_NETWORK_TEST"), reason="set WHEELHOUSE_NETWORK_TEST=1 (downloads)")
def test_chapter_00_builds_for_python_312(tmp_path: Path, capsys):
    out = tmp_path / "00"
    assert wheelhouse.main(["--only", "00", "--python-version", "3.12", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("chapter 00: ")
    manifest = json.loads((out / "manifest.json").read_text())
    names = {d["name"] for d in manifest["distributions"]}
    assert {"papermill", "ipykernel"} <= names and not names & {"debugpy", "jedi", "torch", "numpy"}
    script = (out / "install.sh").read_text()
    assert "--no-index --no-deps" in script and all(d["file"] in script for d in manifest["distributions"])
