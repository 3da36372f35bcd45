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
