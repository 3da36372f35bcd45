"""The built HTML book reads well offline: MathJax served from the book, long outputs wrapped,
papermill's injected-parameters cell left out of the pages."""

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from helpers import runtime
from helpers.errors import CourseError
from tools import book

ROOT = runtime.course_root()
MATHJAX_CDNS = re.compile(
    r"(cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|unpkg\.com|polyfill\.io|cdn\.mathjax\.org)[^\"'\s]*mathjax",
    re.IGNORECASE,
)
SCRIPT_SRC = re.compile(r"<script[^>]*\ssrc=\"([^\"]+)\"", re.IGNORECASE)
STYLESHEET = re.compile(r"<link[^>]*rel=\"stylesheet\"[^>]*href=\"([^\"]+)\"", re.IGNORECASE)


def course_copy(folder: Path, monkeypatch) -> Path:
    """The course's sources in `folder`, as after a fresh clone: no chapter has run there."""
    for name in ("book", "notebooks"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name in ("data_manifest.yaml", "pyproject.toml", "jupytext.toml"):
        shutil.copy(ROOT / name, folder)
    monkeypatch.setenv("COURSE_ROOT", str(folder))
    monkeypatch.setenv("COURSE_BUILD", str(folder / "build"))
    return folder


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    """The smoke profile's book, built from a copy of the course where no chapter has run."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        course = course_copy(tmp_path_factory.mktemp("course"), monkeypatch)
        return book.build("smoke", out=course.parent / "book")


def pages(html: Path) -> list[Path]:
    found = sorted(p for p in html.rglob("*.html") if "_static" not in p.relative_to(html).parts)
    assert found, f"no HTML pages in {html}"
    return found


def local_file(html: Path, page: Path, url: str) -> Path:
    """The file that a relative address on `page` points to (query string dropped)."""
    return (page.parent / urlsplit(url).path).resolve()


@pytest.mark.book
def test_no_page_loads_mathjax_from_a_cdn(html):
    for page in pages(html):
        text = page.read_text()
        assert not MATHJAX_CDNS.search(text), f"{page.relative_to(html)} loads MathJax from a CDN"
        for src in SCRIPT_SRC.findall(text):
            if "mathjax" in src.lower():
                assert not re.match(r"^(https?:)?//", src), f"{page.relative_to(html)}: MathJax from {src}"


@pytest.mark.book
def test_pages_with_math_load_the_local_mathjax_and_its_fonts(html):
    with_math = [p for p in pages(html) if 'class="math' in p.read_text()]
    assert html / "notebooks" / "01_video_to_frames.html" in with_math, "chapter 01 has equations"
    for page in with_math:
        sources = [s for s in SCRIPT_SRC.findall(page.read_text()) if book.MATHJAX_COMPONENT in s]
        assert sources, f"{page.relative_to(html)} shows math but loads no MathJax"
        for src in sources:
            target = local_file(html, page, src)
            assert target == html / "_static" / "mathjax" / book.MATHJAX_COMPONENT
            assert target.is_file() and target.stat().st_size > 100_000, f"{src}: no MathJax there"
    fonts = html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert (fonts / "MathJax_Main-Regular.woff").is_file(), "MathJax's fonts are served with it"
    assert (html / "_static" / "mathjax" / "input" / "tex" / "extensions" / "boldsymbol.js").is_file()


@pytest.mark.book
def test_mathjax_files_are_not_loaded_as_page_scripts(html):
    """Only the MathJax component is a <script>; the parts it loads on demand are not."""
    page = (html / "notebooks" / "01_video_to_frames.html").read_text()
    scripts = [s for s in SCRIPT_SRC.findall(page) if "mathjax/" in s]
    assert len(scripts) == 1 and book.MATHJAX_COMPONENT in scripts[0], scripts


@pytest.mark.book
def test_every_page_includes_the_course_css_that_wraps_long_outputs(html):
    css = html / "_static" / "course.css"
    assert css.is_file() and "pre-wrap" in css.read_text()
    for page in pages(html):
        if 'http-equiv="Refresh"' in page.read_text():
            continue  # the root index.html only redirects to the intro
        sheets = [local_file(html, page, h) for h in STYLESHEET.findall(page.read_text()) if "course.css" in h]
        assert sheets == [css.resolve()], f"{page.relative_to(html)} does not include course.css once"


@pytest.mark.book
def test_chapter_pages_keep_the_colab_badge(html):
    for chapter in (c for c in book.chapters() if c.written):
        page = (html / "notebooks" / f"{chapter.slug}.html").read_text()
        assert book.BADGE_IMAGE in page, f"{chapter.slug}: no Colab badge"
        assert book.colab_url(chapter.slug) in page, f"{chapter.slug}: the badge does not open the chapter"


# --- staging an executed chapter --------------------------------------------------------------


def executed_notebook(chapter_slug: str) -> dict:
    """A small notebook as papermill leaves it: title, parameters, injected parameters, one output."""

    def code(source: str, tags: list[str] | None = None, text: str = "") -> dict:
        outputs = [{"output_type": "stream", "name": "stdout", "text": text}] if text else []
        metadata = {"tags": tags} if tags else {}
        return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": outputs, "execution_count": 1}

    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "papermill": {"parameters": {"PROFILE": "smoke"}, "end_time": "2026-01-01T12:00:00"},
        },
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": f"# {chapter_slug}"},
            code('PROFILE = "cpu"', ["parameters"]),
            code('# Parameters\nPROFILE = "smoke"\n', ["injected-parameters"]),
            code("print(PROFILE)", text="smoke\n"),
        ],
    }


def cell_tags(notebook: dict, source_start: str) -> list[str]:
    [cell] = [c for c in notebook["cells"] if "".join(c["source"]).startswith(source_start)]
    return cell.get("metadata", {}).get("tags", [])


def test_hide_injected_parameters_tags_only_the_injected_cell():
    notebook = book.hide_injected_parameters(executed_notebook("01_video_to_frames"))
    assert cell_tags(notebook, "# Parameters") == ["injected-parameters", "remove-cell"]
    assert cell_tags(notebook, 'PROFILE = "cpu"') == ["parameters"]
    assert cell_tags(notebook, "print") == []
    again = book.hide_injected_parameters(notebook)
    assert cell_tags(again, "# Parameters") == ["injected-parameters", "remove-cell"], "tagged once"


def test_stage_removes_the_injected_parameters_cell_of_an_executed_chapter(tmp_path, monkeypatch):
    course = course_copy(tmp_path / "course", monkeypatch)
    chapter = next(c for c in book.chapters(course) if c.written)
    executed = book.executed_dir("smoke")
    executed.mkdir(parents=True)
    (executed / f"{chapter.slug}.ipynb").write_text(json.dumps(executed_notebook(chapter.slug)))

    warnings = book.stage("smoke", tmp_path / "staging")

    assert not any(chapter.slug in w for w in warnings), "the executed chapter is used"
    staged = json.loads((tmp_path / "staging" / "notebooks" / f"{chapter.slug}.ipynb").read_text())
    assert "remove-cell" in cell_tags(staged, "# Parameters")
    assert "remove-cell" not in cell_tags(staged, 'PROFILE = "cpu"'), "the chapter's parameters cell stays"
    assert "profile-banner" in staged["cells"][1]["metadata"]["tags"], "the profile banner is kept"


def test_stage_serves_mathjax_from_the_book(tmp_path, monkeypatch):
    course_copy(tmp_path / "course", monkeypatch)
    book.stage("smoke", tmp_path / "staging")
    config = yaml.safe_load((tmp_path / "staging" / "_config.yml").read_text())
    sphinx = config["sphinx"]["config"]
    assert sphinx["mathjax_path"] == f"mathjax/{book.MATHJAX_COMPONENT}"
    [extra] = sphinx["html_extra_path"]
    assert (tmp_path / "staging" / extra / "_static" / sphinx["mathjax_path"]).is_file()
    assert not (tmp_path / "staging" / "_static").exists(), "Jupyter Book would add every .js there to every page"


def test_a_missing_mathjax_package_is_named_in_one_line(monkeypatch):
    monkeypatch.setattr(book, "MATHJAX_PACKAGE", "no-such-mathjax-package")
    with pytest.raises(CourseError) as caught:
        book.mathjax_files()
    message = str(caught.value)
    assert book.MATHJAX_PACKAGE in message and "pip install" in message and "\n" not in message
