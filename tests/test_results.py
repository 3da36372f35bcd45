"""helpers.results: the registry's schema, writing, reading back."""

import json

import pytest

from helpers import results
from helpers.errors import BadInputError


@pytest.fixture(autouse=True)
def scratch_build(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path))


def record(**changes):
    fields = dict(
        split="test",
        protocol="10 -> 10",
        profile="smoke",
        device="cpu",
        weights="none",
        parameters=0,
        metrics={"psnr": 20.0, "ssim": 0.5},
        horizons=[{"step": 1, "psnr": 21.0}, {"step": 2, "psnr": 19.0}],
        training_seconds=0.0,
        generation_fps=100.0,
    )
    fields.update(changes)
    return fields


def test_write_and_load_round_trip(tmp_path):
    path = results.write_result("02_measuring_predictions", "Copy last", "moving_mnist", **record())
    assert path == tmp_path / "results" / "smoke" / "02_measuring_predictions" / "copy-last-moving-mnist.json"
    loaded = results.load_results()
    assert len(loaded) == 1 and loaded[0]["metrics"] == {"psnr": 20.0, "ssim": 0.5}
    assert loaded[0]["environment"]["python"] and loaded[0]["created"]
    table = results.results_table(loaded)
    assert table.loc[0, "psnr"] == 20.0 and table.loc[0, "model"] == "Copy last"


def test_non_finite_numbers_become_null():
    results.write_result(
        "02_measuring_predictions", "m", "d", **record(generation_fps=float("inf"), metrics={"psnr": float("nan")})
    )
    loaded = results.load_results()[0]
    assert loaded["generation_fps"] is None and loaded["metrics"]["psnr"] is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"profile": "huge"}, "field profile"),
        ({"generation_fps": -1.0}, "field generation_fps"),
        ({"metrics": {}}, "field metrics"),
        ({"horizons": [{"step": 0, "psnr": 1.0}]}, "field horizons/0/step"),
        ({"metrics": {"psnr": "high"}}, "field metrics/psnr"),
    ],
)
def test_schema_violations_are_refused_before_writing(changes, message, tmp_path):
    with pytest.raises(BadInputError, match=message):
        results.write_result("02_measuring_predictions", "m", "d", **record(**changes))
    assert not list(tmp_path.rglob("*.json"))


def test_loader_names_the_bad_file(tmp_path):
    path = results.write_result("02_measuring_predictions", "m", "d", **record())
    data = json.loads(path.read_text())
    del data["device"]
    path.write_text(json.dumps(data))
    with pytest.raises(BadInputError, match=r"m-d\.json: field \(top level\): 'device' is a required property"):
        results.load_results()
    path.write_text("{not json")
    with pytest.raises(BadInputError, match="not valid JSON"):
        results.load_results()


def test_record_in_the_wrong_folder_is_refused(tmp_path):
    path = results.write_result("02_measuring_predictions", "m", "d", **record())
    moved = tmp_path / "results" / "smoke" / "03_pix2pix" / path.name
    moved.parent.mkdir()
    path.rename(moved)
    with pytest.raises(BadInputError, match="lies in 03_pix2pix"):
        results.load_results()
    wrong_profile = tmp_path / "results" / "cpu" / "02_measuring_predictions" / path.name
    wrong_profile.parent.mkdir(parents=True)
    moved.rename(wrong_profile)
    with pytest.raises(BadInputError, match="says profile 'smoke' but lies in cpu"):
        results.load_results()


def test_loader_keeps_one_chapter_and_profile():
    results.write_result("02_measuring_predictions", "a", "d", **record())
    results.write_result("02_measuring_predictions", "b", "d", **record(profile="cpu"))
    results.write_result("03_pix2pix_next_frame", "c", "d", **record())
    assert [r["model"] for r in results.load_results(chapter="02_measuring_predictions")] == ["b", "a"]
    assert [r["model"] for r in results.load_results(profile="smoke")] == ["a", "c"]
    assert [r["model"] for r in results.load_results(chapter="02_measuring_predictions", profile="cpu")] == ["b"]
    with pytest.raises(BadInputError, match="profile 'huge': unknown"):
        results.load_results(profile="huge")


def test_profiles_keep_their_own_records_side_by_side(tmp_path):
    """A smoke run after a cpu run (make book ONLY=02 PROFILE=smoke, then make book ONLY=02) leaves
    both records; re-running one profile replaces only that profile's record."""
    smoke = results.write_result("02_measuring_predictions", "Copy last", "bikes", **record(profile="smoke"))
    cpu = results.write_result(
        "02_measuring_predictions", "Copy last", "bikes", **record(profile="cpu", metrics={"psnr": 30.0})
    )
    assert smoke != cpu and smoke.exists() and cpu.exists()
    results.write_result(
        "02_measuring_predictions", "Copy last", "bikes", **record(profile="smoke", metrics={"psnr": 21.0})
    )
    by_profile = {r["profile"]: r["metrics"]["psnr"] for r in results.load_results()}
    assert by_profile == {"cpu": 30.0, "smoke": 21.0}
    assert [r["metrics"]["psnr"] for r in results.load_results(profile="cpu")] == [30.0]
