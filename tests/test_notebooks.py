"""The chapters: pairing, parameters, setup cells, and every chapter executed in the smoke profile."""

import json
import os
import shutil
import subprocess
import sys

import papermill
import pytest

from helpers import runtime
from tools import book

ROOT = runtime.course_root()
WRITTEN = [c for c in book.chapters() if c.written]


def test_all_eleven_chapters_are_in_the_book():
    numbers = [c.number for c in book.chapters()]
    assert numbers == [f"{n:02d}" for n in range(11)]
    assert WRITTEN, "at least one chapter is written"


def test_py_and_ipynb_pairs_are_in_sync(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    subprocess.run(
        [sys.executable, "-m", "jupytext", "--sync", "--quiet", *[f"notebooks/{c.slug}.py" for c in WRITTEN]],
        cwd=tmp_path,
        check=True,
    )
    for chapter in WRITTEN:
        for suffix in (".py", ".ipynb"):
            synced = (tmp_path / "notebooks" / f"{chapter.slug}{suffix}").read_text()
            committed = (ROOT / "notebooks" / f"{chapter.slug}{suffix}").read_text()
            assert synced == committed, f"{chapter.slug}{suffix} is out of sync: run make sync"


@pytest.mark.parametrize("chapter", WRITTEN, ids=lambda c: c.slug)
def test_committed_notebook_has_no_outputs(chapter):
    nb = json.loads(chapter.notebook.read_text())
    for cell in nb["cells"]:
        assert not cell.get("outputs") and not cell.get("execution_count"), f"{chapter.slug} holds outputs"


@pytest.mark.parametrize("chapter", WRITTEN, ids=lambda c: c.slug)
def test_parameters_cell_defaults_are_the_cpu_profile(chapter):
    declared = papermill.inspect_notebook(str(chapter.notebook))
    defaults = {name: eval(p["default"]) for name, p in declared.items()}  # literals only
    cpu = runtime.load_profile("cpu", chapter.number)
    assert defaults == cpu, f"{chapter.slug}: parameters cell and notebooks/profiles/cpu.yaml disagree"
    for profile in runtime.PROFILES:
        book.chapter_parameters(chapter, profile)  # every profile key is declared


@pytest.mark.parametrize("chapter", WRITTEN, ids=lambda c: c.slug)
def test_setup_cell_and_badge_come_from_the_repository_url(chapter, tmp_path):
    copy = tmp_path / chapter.source.name
    shutil.copy(chapter.source, copy)
    assert not book.refresh_chapter_source(copy, ROOT), f"{chapter.slug}: setup cell or badge is stale: make sync"
    text = chapter.source.read_text()
    assert book.repository_url() in text and book.colab_url(chapter.slug) in text


def test_profile_with_an_unknown_knob_is_refused(tmp_path, monkeypatch):
    root = tmp_path / "course"
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    for name in ("data_manifest.yaml", "pyproject.toml"):
        shutil.copy(ROOT / name, root)
    profile = root / "notebooks" / "profiles" / "smoke.yaml"
    profile.write_text(profile.read_text() + "\n  NOT_A_KNOB: 3\n")
    monkeypatch.setenv("COURSE_ROOT", str(root))
    last = WRITTEN[-1]
    chapter = book.Chapter(last.number, last.slug, root / "notebooks" / f"{last.slug}.py")
    with pytest.raises(runtime.ProfileError, match="NOT_A_KNOB"):
        book.chapter_parameters(chapter, "smoke")


def test_a_failing_chapter_names_itself_its_cell_and_the_notebook(tmp_path):
    root = tmp_path / "course"
    (root / "notebooks" / "profiles").mkdir(parents=True)
    (root / "book" / "coming_next").mkdir(parents=True)
    for name in ("data_manifest.yaml", "pyproject.toml", "jupytext.toml"):
        shutil.copy(ROOT / name, root)
    (root / "notebooks" / "profiles" / "smoke.yaml").write_text("common: {SEED: 0}\n")
    header = (ROOT / "notebooks" / f"{WRITTEN[0].slug}.py").read_text().split("\n# %%")[0]
    body = (
        '# %% tags=["parameters"]\nPROFILE = "cpu"\nSEED = 1\n\n'
        '# %%\nx = 1\n\n# %%\nraise ValueError("the claim does not hold")\n'
    )
    (root / "notebooks" / "00_broken.py").write_text(header + "\n" + body)
    env = dict(os.environ, COURSE_ROOT=str(root))
    result = subprocess.run(
        [sys.executable, "-m", "tools.book", "run", "--profile", "smoke"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,  # the book tool runs from the repository root, as make does
    )
    assert result.returncode == 1
    assert "chapter 00_broken failed in cell" in result.stderr
    assert "ValueError: the claim does not hold" in result.stderr
    assert str(root / "build" / "executed" / "smoke" / "00_broken.ipynb") in result.stderr
    assert "failed" in result.stdout  # the timing table shows the failure


@pytest.fixture(scope="session")
def smoke_run():
    """Every written chapter executed in the smoke profile, in reading order (once per session)."""
    timings = book.run("smoke")
    return {t["chapter"]: t for t in timings}


@pytest.mark.notebooks
@pytest.mark.parametrize("chapter", WRITTEN, ids=lambda c: c.slug)
def test_chapter_runs_in_the_smoke_profile(chapter, smoke_run):
    assert smoke_run[chapter.slug]["status"] == "ok"
    executed = json.loads((book.executed_dir("smoke") / f"{chapter.slug}.ipynb").read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and 'PROFILE = "smoke"' in "".join(injected[0]["source"])


@pytest.mark.book
def test_book_builds_with_images_and_colab_buttons(smoke_run, tmp_path):
    html = book.build("smoke", out=tmp_path / "book")
    assert (html / "index.html").exists()
    for chapter in book.chapters():
        folder = "notebooks" if chapter.written else "book/coming_next"
        page = html / folder / f"{chapter.slug}.html"
        assert page.exists(), f"no page for {chapter.slug}"
    for chapter in WRITTEN:
        page = (html / "notebooks" / f"{chapter.slug}.html").read_text()
        assert "colab.research.google.com/github/" in page, "Colab launch button"
        images = _local_images(page)
        assert images, f"{chapter.slug}: no images on the page"
        for src in images:
            if not src.startswith("data:"):
                target = (html / "notebooks" / src).resolve()
                assert target.is_file() and target.stat().st_size > 0, f"{chapter.slug}: broken image {src}"


def test_book_builds_before_any_chapter_has_run(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "fresh"))  # as after a fresh clone
    html = book.build("gpu", out=tmp_path / "book")
    page = (html / "notebooks" / "03_pix2pix_next_frame.html").read_text()
    assert "has not run in the gpu profile yet" in page and "ONLY=03" in page


def _local_images(page: str) -> list[str]:
    import re

    return [s for s in re.findall(r'<img[^>]+src="([^"]+)"', page) if not s.startswith("http")]


@pytest.mark.notebooks
def test_rerunning_chapter_04_resumes_its_training(tmp_path, monkeypatch):
    """A training run cut short (here: fewer steps) continues from its checkpoint when the chapter runs again."""
    chapter = next(c for c in WRITTEN if c.number == "04")
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "build"))
    monkeypatch.setenv("COURSE_EXECUTION", "papermill")
    full = book.chapter_parameters(chapter, "smoke")
    half = full["VAE_STEPS"] // 2

    def execute(parameters: dict, name: str) -> str:
        out = tmp_path / name
        papermill.execute_notebook(
            str(chapter.notebook),
            str(out),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(chapter.notebook.parent),
            progress_bar=False,
        )
        cells = json.loads(out.read_text())["cells"]
        return "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))

    first = execute({**full, "VAE_STEPS": half}, "first.ipynb")
    assert f"conditional VAE: {half} steps this session (from scratch)" in first
    second = execute(full, "second.ipynb")
    assert f"conditional VAE: {full['VAE_STEPS'] - half} steps this session (resumed at step {half})" in second


@pytest.mark.notebooks
def test_rerunning_chapter_03_resumes_exactly(tmp_path, monkeypatch):
    """Chapter 03 interrupted part way through its training, then run again, ends with the scores
    of a run that was never interrupted: weights, optimisers, data order, jitter and dropout masks
    all resume."""
    chapter = next(c for c in WRITTEN if c.number == "03")
    monkeypatch.setenv("COURSE_EXECUTION", "papermill")
    full = book.chapter_parameters(chapter, "smoke")
    half = full["STEPS"] // 2
    assert full["CHECKPOINT_EVERY"] < half, "the first run must save a checkpoint on its way, not only at its end"

    # The interruption: the chapter stops right after its main training cell, `half` steps in
    # (with a half-trained model the later cells are not the point, and a real interruption
    # would not reach them either).
    notebook = json.loads(chapter.notebook.read_text())
    training_cell = next(
        i for i, c in enumerate(notebook["cells"]) if "def train(" in "".join(c["source"]) and c["cell_type"] == "code"
    )
    notebook["cells"] = notebook["cells"][: training_cell + 1]
    interrupted = tmp_path / "interrupted-source.ipynb"
    interrupted.write_text(json.dumps(notebook))

    def execute(source, parameters: dict, build: str) -> str:
        monkeypatch.setenv("COURSE_BUILD", str(tmp_path / build))
        out = tmp_path / f"{build}-{parameters['STEPS']}.ipynb"
        papermill.execute_notebook(
            str(source),
            str(out),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(chapter.notebook.parent),
            progress_bar=False,
        )
        cells = json.loads(out.read_text())["cells"]
        return "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))

    def records(build: str, model: str) -> dict[str, dict]:
        """Every record of `model` (one per data set: the course protocol and the chapter's own)."""
        folder = tmp_path / build / "results" / "smoke" / chapter.slug
        return {path.name: json.loads(path.read_text()) for path in folder.glob(f"{model}-*.json")}

    first = execute(interrupted, {**full, "STEPS": half}, "interrupted")
    assert "gap1: resumed" not in first and f"gap1: {half} steps" in first
    resumed = execute(chapter.notebook, full, "interrupted")
    assert f"gap1: resumed from ckpt-{half} at step {half}" in resumed
    assert f"residual-gap1: resumed from ckpt-{half} at step {half}" in resumed
    assert f"({full['STEPS'] - half} steps in this run)" in resumed
    straight = execute(chapter.notebook, full, "uninterrupted")
    assert "gap1: resumed" not in straight
    for model in ("pix2pix", "residual-pix2pix"):  # the tutorial's generator and the residual one
        resumed_records, straight_records = records("interrupted", model), records("uninterrupted", model)
        assert len(straight_records) == 2 and resumed_records.keys() == straight_records.keys()
        for name, straight_record in straight_records.items():
            for field in ("metrics", "horizons"):
                assert resumed_records[name][field] == straight_record[field], (
                    f"{name}: resumed and uninterrupted {field} differ"
                )
