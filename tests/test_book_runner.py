"""tools.book: profile overrides (`make book SET=...`) and the profile note on every page."""

import json

import pytest

from helpers import results, runtime
from tools import book

CH04 = next(c for c in book.chapters() if c.number == "04")


def test_overrides_are_read_as_yaml_values():
    assert book.parse_overrides(["VAE_STEPS=20", "DEVICE=cpu", "BETA=0.5"]) == {
        "VAE_STEPS": 20,
        "DEVICE": "cpu",
        "BETA": 0.5,
    }
    assert book.parse_overrides(None) == {}
    for bad in ("steps=20", "VAE_STEPS", "=3"):
        with pytest.raises(runtime.ProfileError, match="NAME=VALUE"):
            book.parse_overrides([bad])


def test_an_override_replaces_the_profile_value_only_where_the_chapter_declares_it():
    values = book.chapter_parameters(CH04, "gpu", {"VAE_STEPS": 3, "FRAME_SIZE": 32, "LONG_GAP": 2})
    assert values["VAE_STEPS"] == 3 and values["FRAME_SIZE"] == 32 and "LONG_GAP" not in values
    assert values["LATENT_STEPS"] == runtime.load_profile("gpu", "04")["LATENT_STEPS"]


def test_an_override_no_selected_chapter_declares_is_refused_before_anything_runs(monkeypatch, capsys):
    monkeypatch.setattr(book, "jupytext_sync", lambda paths: pytest.fail("refused overrides must stop the run first"))
    with pytest.raises(runtime.ProfileError, match="--set NOT_A_KNOB: no selected chapter"):
        book.run("smoke", only="04", overrides={"NOT_A_KNOB": 1})
    assert "[1/1]" not in capsys.readouterr().out


def executed_copy(parameters: dict) -> dict:
    notebook = json.loads(CH04.notebook.read_text())
    notebook["metadata"]["papermill"] = {"parameters": parameters, "end_time": "2026-11-27T10:20:30.123456"}
    return notebook


def test_each_page_says_which_profile_ran_it_and_what_was_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path))
    gpu = runtime.load_profile("gpu", "04")
    plain = book.profile_banner("gpu", executed_copy(gpu), CH04)
    assert "**gpu** profile run of 2026-11-27 10:20 UTC" in plain and "changed" not in plain
    results.write_result(
        CH04.slug,
        "m",
        "d",
        split="test",
        protocol="p",
        profile="gpu",
        device="cpu",
        weights="none",
        parameters=0,
        metrics={"psnr": 1.0},
    )
    cut = book.profile_banner("gpu", executed_copy({**gpu, "VAE_STEPS": 20, "DEVICE": "cpu"}), CH04)
    assert "on cpu" in cut and "`VAE_STEPS=20`" in cut and "`DEVICE=cpu`" in cut
    assert "`LATENT_STEPS" not in cut


def test_staged_pages_carry_the_note_under_their_title(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "build"))
    monkeypatch.setattr(book, "executed_dir", lambda profile: tmp_path / "executed" / profile)
    executed = tmp_path / "executed" / "gpu"
    executed.mkdir(parents=True)
    (executed / f"{CH04.slug}.ipynb").write_text(json.dumps(executed_copy(runtime.load_profile("gpu", "04"))))
    book.stage("gpu", tmp_path / "staging")
    staged = json.loads((tmp_path / "staging" / "notebooks" / f"{CH04.slug}.ipynb").read_text())
    assert "".join(staged["cells"][0]["source"]).startswith("# 04 ")  # the title stays the first cell
    assert "**gpu** profile run" in staged["cells"][1]["source"]
    not_run = json.loads((tmp_path / "staging" / "notebooks" / "00_setup.ipynb").read_text())
    assert "has not run in the **gpu** profile" in not_run["cells"][1]["source"]
    assert "shows the **gpu** profile" in (tmp_path / "staging" / "book" / "intro.md").read_text()


def test_a_chapter_whose_last_run_failed_shows_the_note_not_half_a_page(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "build"))
    monkeypatch.setattr(book, "executed_dir", lambda profile: tmp_path / "executed" / profile)
    executed = tmp_path / "executed" / "cpu"
    executed.mkdir(parents=True)
    notebook = executed_copy(runtime.load_profile("cpu", "04"))
    notebook["cells"][5]["outputs"] = [{"output_type": "error", "ename": "ValueError", "evalue": "x", "traceback": []}]
    (executed / f"{CH04.slug}.ipynb").write_text(json.dumps(notebook))
    warnings = book.stage("cpu", tmp_path / "staging")
    assert any("04_vae_next_frame failed in its last run" in w for w in warnings)
    staged = json.loads((tmp_path / "staging" / "notebooks" / f"{CH04.slug}.ipynb").read_text())
    assert "failed in its last run in the **cpu** profile" in staged["cells"][1]["source"]
    assert not any(c.get("outputs") for c in staged["cells"] if c["cell_type"] == "code")


# --- timings and the landing page's table -------------------------------------------------------


def test_timings_of_a_partial_run_replace_only_the_chapters_it_ran(tmp_path):
    path = tmp_path / "timings.json"
    book.write_timings(path, [{"chapter": "01_a", "seconds": 1.0}, {"chapter": "02_b", "seconds": 2.0}])
    book.write_timings(path, [{"chapter": "02_b", "seconds": 5.0, "status": "failed"}])
    assert json.loads(path.read_text()) == [
        {"chapter": "01_a", "seconds": 1.0},
        {"chapter": "02_b", "seconds": 5.0, "status": "failed"},
    ]


def test_the_landing_page_times_each_chapter_from_the_run_that_built_the_book(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "build"))
    monkeypatch.setattr(book, "executed_dir", lambda profile: tmp_path / "executed" / profile)
    executed = tmp_path / "executed" / "cpu"
    executed.mkdir(parents=True)
    (executed / f"{CH04.slug}.ipynb").write_text(json.dumps(executed_copy(runtime.load_profile("cpu", "04"))))
    machine = {"cpu": "Intel(R) Xeon(R) Platinum 8488C", "cpu cores": "2"}
    timing = {"chapter": CH04.slug, "profile": "cpu", "status": "ok", "seconds": 629.7, "machine": machine,
              "peak_memory_mib": 3482}  # fmt: skip
    book.write_timings(executed / "timings.json", [timing])
    book.stage("cpu", tmp_path / "staging")
    intro = (tmp_path / "staging" / "book" / "intro.md").read_text()
    assert f"| 04 | [VAE next-frame models](../notebooks/{CH04.slug}.ipynb) | 10 min |" in intro
    assert "| 00 | [Setup" in intro and "| not run in the cpu profile |" in intro
    assert "**total of the 1 chapter timed**" in intro and "**10 min**" in intro
    assert "run that this book shows on Intel(R) Xeon(R) Platinum 8488C, 2 cores, on 2026-11-27 (UTC)" in intro
    assert "largest memory use in the **cpu** runs this book shows was 3.4 GiB (chapter 04" in intro
    assert "- **Disk**: " in intro and " GiB" in intro.split("- **Disk**: ")[1]
    assert "<!-- stage:" not in intro
    staged = json.loads((tmp_path / "staging" / "notebooks" / f"{CH04.slug}.ipynb").read_text())
    assert "on Intel(R) Xeon(R) Platinum 8488C, 2 cores." in staged["cells"][1]["source"], "the page names the machine"


def test_peak_memory_sees_what_a_child_process_holds():
    import subprocess
    import sys

    code = "import time; block = bytearray(200 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(1.5)"
    with book.PeakMemory(interval=0.1) as memory:
        subprocess.run([sys.executable, "-c", code], check=True)
    assert memory.peak_mib > 200


def test_titles_come_from_the_first_heading_of_each_chapter_file():
    assert book.chapter_title(CH04) == "VAE next-frame models"
    for chapter in book.chapters():
        title = book.chapter_title(chapter)
        assert title and not title[:2].isdigit() and "coming next" not in title, (chapter.slug, title)


# --- make bench -------------------------------------------------------------------------------


def fake_course(root, written: list[str], coming: list[str] = ()) -> None:
    """Chapter files only: what chapters() and bench_plan() read."""
    (root / "notebooks").mkdir(parents=True)
    (root / "book" / "coming_next").mkdir(parents=True)
    (root / "data_manifest.yaml").write_text("{}\n")
    for slug in written:
        (root / "notebooks" / f"{slug}.py").write_text("# %%\n")
    for slug in coming:
        (root / "book" / "coming_next" / f"{slug}.md").write_text(f"# {slug}\n")


CHAPTERS = ["00_setup", "01_frames", "02_metrics", "03_gan", "04_vae", "08_dance", "09_forcing"]


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path / "course"))
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "build"))
    folder = tmp_path / "build" / "results" / "cpu"
    for slug in ("02_metrics", "08_dance"):  # chapters whose records exist
        (folder / slug).mkdir(parents=True)
        (folder / slug / "copy-last-bikes.json").write_text("{}")
    (folder / "03_gan").mkdir(parents=True)  # an empty folder counts as missing
    (tmp_path / "build" / "results" / "gpu" / "04_vae").mkdir(parents=True)  # another profile's
    (tmp_path / "build" / "results" / "gpu" / "04_vae" / "cvae-bikes.json").write_text("{}")
    return tmp_path / "course"


def test_bench_runs_the_scoring_chapters_whose_registry_folder_is_missing_or_empty(registry):
    fake_course(registry, CHAPTERS, coming=["10_benchmark"])
    todo, benchmark = book.bench_plan("cpu")
    assert [c.slug for c in todo] == ["03_gan", "04_vae", "09_forcing"]
    assert benchmark is None, "chapter 10 is a coming-next page"
    assert [c.slug for c in book.bench_plan("gpu")[0]] == ["02_metrics", "03_gan", "08_dance", "09_forcing"]
    with pytest.raises(runtime.ProfileError, match="PROFILE=fast"):
        book.bench_plan("fast")


def test_bench_without_the_benchmark_chapter_says_so_and_stops(registry, monkeypatch, capsys):
    fake_course(registry, CHAPTERS, coming=["10_benchmark"])
    calls = []
    monkeypatch.setattr(book, "run", lambda profile, only, stream=None: calls.append((profile, only)))
    monkeypatch.setattr(book, "build", lambda *a, **k: pytest.fail("no benchmark chapter: no book build"))
    assert book.bench("cpu") is None
    assert calls == [("cpu", "03,04,09")]
    assert "chapter 10 (the benchmark) is not written yet" in capsys.readouterr().out


def test_bench_runs_the_missing_chapters_then_the_benchmark_then_builds(registry, monkeypatch, tmp_path):
    fake_course(registry, [*CHAPTERS, "10_benchmark"])
    calls = []
    monkeypatch.setattr(book, "run", lambda profile, only, stream=None: calls.append(("run", profile, only)))
    monkeypatch.setattr(book, "build", lambda profile, stream=None: calls.append(("build", profile)) or tmp_path)
    assert book.bench("cpu") == tmp_path
    assert calls == [("run", "cpu", "03,04,09,10"), ("build", "cpu")]


def test_bench_with_every_record_present_runs_only_the_benchmark(registry, monkeypatch, tmp_path):
    fake_course(registry, ["00_setup", "02_metrics", "08_dance", "10_benchmark"])
    calls = []
    monkeypatch.setattr(book, "run", lambda profile, only, stream=None: calls.append(only))
    monkeypatch.setattr(book, "build", lambda profile, stream=None: tmp_path)
    book.bench("cpu")
    assert calls == ["10"]


def test_a_chapter_still_running_shows_the_note_not_half_a_page(tmp_path, monkeypatch):
    """papermill writes the executed notebook as it goes: without an end time the run is not over."""
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "build"))
    monkeypatch.setattr(book, "executed_dir", lambda profile: tmp_path / "executed" / profile)
    executed = tmp_path / "executed" / "cpu"
    executed.mkdir(parents=True)
    notebook = executed_copy(runtime.load_profile("cpu", "04"))
    notebook["metadata"]["papermill"]["end_time"] = None
    (executed / f"{CH04.slug}.ipynb").write_text(json.dumps(notebook))
    (executed / "00_setup.ipynb").write_text('{"cells": [')  # caught half-way through a write
    warnings = book.stage("cpu", tmp_path / "staging")
    assert any("04_vae_next_frame has not finished its last run" in w for w in warnings)
    assert any("00_setup has not finished its last run" in w for w in warnings)
    staged = json.loads((tmp_path / "staging" / "notebooks" / f"{CH04.slug}.ipynb").read_text())
    assert "has not finished its last run in the **cpu** profile" in staged["cells"][1]["source"]
    intro = (tmp_path / "staging" / "book" / "intro.md").read_text()
    assert f"| 04 | [VAE next-frame models](../notebooks/{CH04.slug}.ipynb) | did not finish its last run |" in intro
