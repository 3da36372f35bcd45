"""GPU runs of record (runs/gpu/NN_slug/): what `make book PROFILE=gpu` keeps, what `make test`
checks in them, and the gpu book built from them without executing anything."""

import base64
import functools
import io
import json

import numpy as np
import pytest
from PIL import Image

from helpers import results, runtime
from tools import book

CH04 = next(c for c in book.chapters() if c.number == "04")
MACHINE = {"cpu": "AMD EPYC 9454", "cpu cores": "16", "platform": "Linux x86_64", "gpu": "NVIDIA H100 80GB HBM3"}


@functools.cache
def png(width: int, height: int) -> str:
    """A photograph-like picture (smooth gradients with grain), as a notebook stores a PNG output."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    picture = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], -1)
    picture = np.clip(picture + rng.normal(0, 12, picture.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def executed_chapter(parameters: dict) -> dict:
    """Chapter 04's notebook as papermill leaves it after a run: parameters, dates, a picture."""
    notebook = json.loads(CH04.notebook.read_text())
    notebook["metadata"]["papermill"] = {
        "parameters": parameters,
        "start_time": "2026-11-27T10:12:00.000000",
        "end_time": "2026-11-27T10:20:30.123456",
        "exception": None,
    }
    picture = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": png(1100, 550), "text/plain": "<Figure>"},
    }
    code = next(
        c for c in notebook["cells"] if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])
    )
    code["outputs"] = [picture]
    return notebook


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A scratch build/ and runs/ for the real chapters and profiles."""
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "build"))
    monkeypatch.setattr(book, "runs_dir", lambda: tmp_path / "runs")
    monkeypatch.setattr(book, "executed_dir", lambda profile: tmp_path / "executed" / profile)
    return tmp_path


def write_record(profile: str = "gpu", chapter: str = CH04.slug) -> None:
    results.write_result(
        chapter,
        "cvae",
        "bikes",
        split="test",
        protocol="next frame",
        profile=profile,
        device="cuda",
        weights="none",
        parameters=1000,
        metrics={"psnr": 25.0},
    )


@pytest.fixture
def recorded(course):
    """One run of record of chapter 04, made as `make book PROFILE=gpu ONLY=04` makes it."""
    executed = course / "executed" / "gpu" / f"{CH04.slug}.ipynb"
    executed.parent.mkdir(parents=True)
    executed.write_text(json.dumps(executed_chapter(runtime.load_profile("gpu", "04"))))
    write_record()
    folder = book.record_run(CH04, "gpu", executed, {"seconds": 412.3, "machine": MACHINE})
    return folder


def edit(path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_runs_of_record_in_the_repository_match_their_chapters():
    assert book.check_runs_of_record() == []


def test_no_runs_of_record_is_fine(tmp_path):
    assert book.check_runs_of_record(tmp_path / "runs") == []
    (tmp_path / "runs" / "gpu").mkdir(parents=True)
    assert book.check_runs_of_record(tmp_path / "runs") == []


def test_a_run_of_record_keeps_the_notebook_small_its_records_and_its_run(recorded, course):
    assert recorded == course / "runs" / "gpu" / CH04.slug
    assert sorted(p.name for p in recorded.iterdir()) == [f"{CH04.slug}.ipynb", "results", "run.json"]
    assert [p.name for p in (recorded / "results").iterdir()] == ["cvae-bikes.json"]
    run = json.loads((recorded / "run.json").read_text())
    assert run["machine"]["gpu"] == "NVIDIA H100 80GB HBM3" and run["seconds"] == 412.3
    assert run["ended"].startswith("2026-11-27T10:20") and run["devices"] == ["cuda"]
    assert run["parameters"] == runtime.load_profile("gpu", "04")
    notebook = json.loads((recorded / f"{CH04.slug}.ipynb").read_text())
    [data] = [o["data"] for c in notebook["cells"] for o in c.get("outputs", []) if "text/plain" in o.get("data", {})]
    [(mime, encoded)] = [(k, v) for k, v in data.items() if k.startswith("image/")]
    picture = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert max(picture.size) == book.IMAGE_MAX_SIDE and picture.size[0] == 2 * picture.size[1]
    assert len(encoded) < len(png(1100, 550)) / 3, "compressed"
    assert not list(recorded.parent.glob(".*.tmp")), "no scratch folder left"
    assert book.check_runs_of_record(course / "runs") == []


def test_a_parameter_that_differs_from_the_profile_is_named(recorded, course):
    steps = runtime.load_profile("gpu", "04")["VAE_STEPS"]
    edit(recorded / f"{CH04.slug}.ipynb", lambda nb: nb["metadata"]["papermill"]["parameters"].update(VAE_STEPS=20))
    problems = book.check_runs_of_record(course / "runs")
    assert f"runs/gpu/{CH04.slug}: parameter VAE_STEPS=20, but notebooks/profiles/gpu.yaml gives {steps}" in problems
    assert any("run.json's parameters differ" in p for p in problems)


def test_a_parameter_the_profile_sets_and_the_run_lacks_is_named(recorded, course):
    def drop(nb):
        del nb["metadata"]["papermill"]["parameters"]["LATENT_STEPS"]

    edit(recorded / f"{CH04.slug}.ipynb", drop)
    edit(recorded / "run.json", lambda run: run["parameters"].pop("LATENT_STEPS"))
    [problem] = book.check_runs_of_record(course / "runs")
    assert "lacks parameter LATENT_STEPS" in problem and "gpu.yaml" in problem


def test_a_record_that_does_not_validate_is_named_with_its_field(recorded, course):
    edit(recorded / "results" / "cvae-bikes.json", lambda record: record.pop("metrics"))
    [problem] = book.check_runs_of_record(course / "runs")
    assert f"runs/gpu/{CH04.slug}/results/cvae-bikes.json" in problem and "metrics" in problem


def test_a_record_of_another_profile_and_a_failed_run_are_named(recorded, course):
    edit(recorded / "results" / "cvae-bikes.json", lambda record: record.update(profile="cpu"))

    def fail(nb):
        nb["metadata"]["papermill"]["exception"] = True

    edit(recorded / f"{CH04.slug}.ipynb", fail)
    problems = book.check_runs_of_record(course / "runs")
    assert any("a record of 04_vae_next_frame (cpu), not of this run" in p for p in problems)
    assert any("its run failed" in p for p in problems)


def test_a_folder_that_is_no_chapter_is_named(course):
    (course / "runs" / "gpu" / "04_no_such_chapter").mkdir(parents=True)
    (course / "runs" / "cpu").mkdir()
    problems = book.check_runs_of_record(course / "runs")
    assert any("runs of record are kept for gpu only" in p for p in problems)
    assert any("no written chapter notebooks/04_no_such_chapter.py" in p for p in problems)


def test_the_gpu_book_is_staged_from_the_runs_of_record_without_executing(recorded, course):
    warnings = book.stage("gpu", course / "staging")
    assert not any(CH04.slug in w for w in warnings)
    staged = json.loads((course / "staging" / "notebooks" / f"{CH04.slug}.ipynb").read_text())
    banner = staged["cells"][1]["source"]
    assert "**gpu** profile run of 2026-11-27 10:20 UTC on cuda" in banner
    assert "NVIDIA H100 80GB HBM3 and AMD EPYC 9454, 16 cores" in banner
    assert f"run of record, kept in `runs/gpu/{CH04.slug}/`" in banner
    assert any(o.get("data") for c in staged["cells"] for o in c.get("outputs", [])), "the outputs are shown"
    intro = (course / "staging" / "book" / "intro.md").read_text()
    assert f"| 04 | [VAE next-frame models](../notebooks/{CH04.slug}.ipynb) | 7 min |" in intro
    assert "on NVIDIA H100 80GB HBM3 and AMD EPYC 9454, 16 cores, on 2026-11-27" in intro


def test_a_newer_run_in_this_checkout_wins_over_the_run_of_record(recorded, course):
    newer = executed_chapter({**runtime.load_profile("gpu", "04"), "VAE_STEPS": 20})
    newer["metadata"]["papermill"]["end_time"] = "2026-12-01T08:00:00"
    (course / "executed" / "gpu" / f"{CH04.slug}.ipynb").write_text(json.dumps(newer))
    book.stage("gpu", course / "staging")
    staged = json.loads((course / "staging" / "notebooks" / f"{CH04.slug}.ipynb").read_text())
    assert "2026-12-01 08:00" in staged["cells"][1]["source"] and "run of record" not in staged["cells"][1]["source"]


def test_runs_with_changed_values_or_without_a_gpu_are_not_kept(course, capsys):
    executed = course / "executed" / "gpu" / f"{CH04.slug}.ipynb"
    executed.parent.mkdir(parents=True)
    gpu = runtime.load_profile("gpu", "04")
    executed.write_text(json.dumps(executed_chapter(gpu)))
    timing = {"seconds": 1.0, "machine": MACHINE}
    book._keep_run_of_record(CH04, "gpu", executed, timing, {**gpu, "VAE_STEPS": 20}, stream=None)
    book._keep_run_of_record(CH04, "gpu", executed, {**timing, "machine": {"cpu": "x"}}, gpu, stream=None)
    out = capsys.readouterr().out
    assert "not kept as a run of record: values changed with --set" in out and "no GPU on this machine" in out
    assert not (course / "runs").exists()


def test_a_failing_record_leaves_no_run_of_record_behind(course):
    executed = course / "executed" / "gpu" / f"{CH04.slug}.ipynb"
    executed.parent.mkdir(parents=True)
    executed.write_text(json.dumps(executed_chapter(runtime.load_profile("gpu", "04"))))
    bad = course / "build" / "results" / "gpu" / CH04.slug / "broken.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{")
    with pytest.raises(book.CourseError, match="broken.json: not valid JSON"):
        book.record_run(CH04, "gpu", executed, {"seconds": 1.0, "machine": MACHINE})
    assert not list((course / "runs" / "gpu").iterdir())


def test_the_benchmark_gets_the_records_of_the_runs_of_record(recorded, course):
    target = course / "build" / "results" / "gpu" / CH04.slug
    for path in target.glob("*.json"):
        path.unlink()
    assert book.restore_records("gpu") == [CH04.slug]
    assert [r["model"] for r in results.load_results(chapter=CH04.slug, profile="gpu")] == ["cvae"]
    assert book.restore_records("gpu") == [], "a folder that has records is left alone"


def test_pngs_inside_html_outputs_are_compressed_too():
    html = f'<img src="data:image/png;base64,{png(1100, 550)}" alt="strip" />'
    notebook = {
        "cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data", "data": {"text/html": html}}]}]
    }
    smaller = book.compress_images(notebook)["cells"][0]["outputs"][0]["data"]["text/html"]
    assert len(smaller) < len(html) / 3 and 'alt="strip"' in smaller
    assert smaller.startswith('<img src="data:image/jpeg;base64,') or smaller.startswith(
        '<img src="data:image/png;base64,'
    )
