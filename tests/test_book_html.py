"""The built HTML book reads well offline and a newcomer can trust it: MathJax and the Colab
badge served from the book, no other off-site resource, no cut tables or machine paths in
outputs, long outputs wrapped, papermill's injected-parameters cell left out, a landing page and a
glossary."""

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
def test_chapter_pages_keep_the_colab_badge_served_from_the_book(html):
    for chapter in (c for c in book.chapters() if c.written):
        page_path = html / "notebooks" / f"{chapter.slug}.html"
        page = page_path.read_text()
        [badge] = re.findall(r'<a [^>]*href="([^"]+)"[^>]*><img alt="Open In Colab" src="([^"]+)"', page)
        assert badge[0] == book.colab_url(chapter.slug), f"{chapter.slug}: the badge does not open the chapter"
        image = local_file(html, page_path, badge[1])
        assert image.name == "colab-badge.svg" and image.is_file(), f"{chapter.slug}: badge image {badge[1]}"
        assert book.BADGE_IMAGE not in page
        source = chapter.source.read_text()
        assert book.BADGE_IMAGE in source, "the chapter source keeps Colab's badge, for Colab and GitHub"


@pytest.mark.book
def test_no_page_loads_off_site_shows_a_cut_table_or_prints_a_machine_path(html):
    assert book.check_pages(html) == []


@pytest.mark.book
def test_pages_carry_no_thebe_and_no_binder(html):
    for page in pages(html):
        text = page.read_text()
        assert "thebe" not in text.lower(), f"{page.relative_to(html)} still carries sphinx-thebe"
        assert "binder" not in text.lower(), f"{page.relative_to(html)} mentions Binder"


@pytest.mark.book
def test_the_landing_page_lists_every_chapter_from_its_file_and_says_none_has_run(html):
    intro = (html / "book" / "intro.html").read_text()
    for chapter in book.chapters():
        title = book.chapter_title(chapter)
        assert title.split(":")[0].replace("&", "&amp;") in intro, f"{chapter.slug}: {title!r} not on the landing page"
    assert "have not been run in the <strong>smoke</strong> profile" in intro
    assert f'href="{book.repository_url()}/issues"' in intro, "where to ask"
    assert f"git clone {book.repository_url()}" in re.sub(r"<[^>]+>", "", intro), "how to get the sources"
    assert "<!-- stage:" not in intro


@pytest.mark.book
def test_the_glossary_is_in_the_book_and_its_terms_can_be_linked(html):
    glossary = (html / "book" / "glossary.html").read_text()
    for term in ("papermill", "exposure-bias", "c_skip", "OpenSTL", "tiny-offline-weights", "KV-cache"):
        assert f'id="term-{term}"' in glossary, f"no glossary entry {term}"
    assert 'href="glossary.html#term-profile"' in (html / "book" / "intro.html").read_text()
    assert "glossary.html" in (html / "book" / "references.html").read_text(), "listed in the table of contents"


# --- the page checks, on hand-made pages -------------------------------------------------------

PAGE = """<html><head>{head}</head><body>
<div class="cell docutils container"><div class="cell_input"><pre>{code}</pre></div>
<div class="cell_output docutils container"><div class="output text_plain"><pre>{output}</pre></div></div></div>
<p><a href="https://example.org/paper.pdf">a link a reader clicks</a></p>
</body></html>"""


def hand_made(folder: Path, name: str = "page.html", head: str = "", code: str = "x = 1", output: str = "1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(PAGE.format(head=head, code=code, output=output))
    return folder


def test_check_pages_passes_a_clean_page_with_off_site_links(tmp_path):
    assert book.check_pages(hand_made(tmp_path), root=Path("/srv/course")) == []


@pytest.mark.parametrize(
    "head, snippet",
    [
        ('<script src="https://cdn.example.com/lib.js"></script>', "https://cdn.example.com/lib.js"),
        ('<link rel="stylesheet" href="//fonts.example.com/css">', "//fonts.example.com/css"),
        ('<link rel="icon" href="https://example.com/favicon.ico">', "favicon.ico"),
        ("<style>body { background: url('https://example.com/bg.png') }</style>", "https://example.com/bg.png"),
        ('<script>const THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"</script>', "unpkg.com/thebe"),
    ],
)
def test_check_pages_names_the_page_and_the_off_site_resource(tmp_path, head, snippet):
    [finding] = book.check_pages(hand_made(tmp_path, "ch.html", head=head), root=Path("/srv/course"))
    assert finding.startswith("ch.html: ") and snippet in finding and "off-site" in finding


def test_check_pages_finds_off_site_images_frames_and_css_in_the_body(tmp_path):
    output = '<img src="https://colab.research.google.com/assets/colab-badge.svg"><iframe src="//x.org/v"></iframe>'
    folder = hand_made(tmp_path, output="")
    page = folder / "page.html"
    page.write_text(
        page.read_text().replace("</body>", output + '<p style="background:url(http://y.org/a.png)"></p></body>')
    )
    findings = book.check_pages(folder, root=Path("/srv/course"))
    assert len(findings) == 3, findings
    assert any("colab-badge.svg" in f for f in findings) and any("//x.org/v" in f for f in findings)
    assert any("http://y.org/a.png" in f for f in findings)


def test_check_pages_reads_the_local_style_sheets_a_page_links(tmp_path):
    folder = hand_made(tmp_path, head='<link rel="stylesheet" href="_static/theme.css?v=1">')
    (folder / "_static").mkdir()
    (folder / "_static" / "theme.css").write_text("@import url(https://fonts.example.com/font.css);")
    [finding] = book.check_pages(folder, root=Path("/srv/course"))
    assert "page.html" in finding and "_static/theme.css" in finding and "fonts.example.com" in finding


@pytest.mark.parametrize(
    "output",
    [
        "    a  b  ...  y  z\n0   1  2  ...  3  4\n\n[100 rows x 30 columns]",
        "<table><tr><td>1</td><td>...</td></tr></table><p>100 rows × 30 columns</p>",
        "<table><tr><th>a</th><th>...</th><th>z</th></tr><tr><td>1</td><td>...</td><td>2</td></tr></table>",
    ],
)
def test_check_pages_finds_a_table_pandas_cut_short(tmp_path, output):
    findings = book.check_pages(hand_made(tmp_path, output=output), root=Path("/srv/course"))
    assert len(findings) == 1 and "page.html: an output shows a cut table" in findings[0], findings


def test_check_pages_finds_cell_text_pandas_cut_at_its_column_width(tmp_path):
    import pandas as pd

    table = pd.DataFrame({"note": ["tiny offline weights: checks the pipeline, not the quality"]})._repr_html_()
    [finding] = book.check_pages(hand_made(tmp_path, output=table), root=Path("/srv/course"))
    assert "cut at 50 characters" in finding and "tiny offline weights: checks the" in finding


def test_check_pages_finds_machine_paths_in_outputs_only(tmp_path):
    quiet = hand_made(tmp_path / "a", code="print('/srv/course/build/x.png')  # /tmp/ in code is fine", output="ok")
    assert book.check_pages(quiet, root=Path("/srv/course")) == []
    for output, snippet in [
        ("wrote /srv/course/build/05/clip.gif", "/srv/course/build/05/clip.gif"),
        ("cache in /tmp/tmpab12/x", "/tmp/tmpab12"),
        ("/root/.cache/torch/hub", "/root/.cache"),
        ("see /home/ann/videos", "/home/ann"),
    ]:
        [finding] = book.check_pages(hand_made(tmp_path / "b", output=output), root=Path("/srv/course"))
        assert "page.html: an output prints a path of the build machine" in finding and snippet in finding


def test_findings_name_the_page_by_its_place_in_the_book(tmp_path):
    """The findings name the page and the snippet, one line each."""
    head = '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js"></script>'
    folder = hand_made(tmp_path / "html" / "notebooks", "06.html", head=head, output="wrote /srv/course/build/a")
    findings = book.check_pages(tmp_path / "html", root=Path("/srv/course"))
    assert [f.split(":")[0] for f in findings] == ["notebooks/06.html", "notebooks/06.html"]
    assert all("\n" not in f for f in findings)
    assert folder.is_dir()


# --- widgets and the badge at staging time -------------------------------------------------------


def test_widget_outputs_become_the_text_of_their_last_state():
    state = {
        "hbox": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_label", "IPY_MODEL_bar", "IPY_MODEL_n"]}},
        "label": {"model_name": "HTMLModel", "state": {"value": "training base: 100%"}},
        "bar": {"model_name": "FloatProgressModel", "state": {"value": 360.0, "min": 0.0, "max": 360.0}},
        "n": {"model_name": "HTMLModel", "state": {"value": " 360/360 [03:09&lt;00:00,  3.55it/s]"}},
    }
    view = {"model_id": "hbox", "version_major": 2, "version_minor": 0}
    notebook = {
        "metadata": {"widgets": {book.WIDGET_STATE: {"state": state}}},
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {"output_type": "display_data", "data": {book.WIDGET_VIEW: view, "text/plain": "training: 0%"}},
                    {"output_type": "display_data", "data": {book.WIDGET_VIEW: {"model_id": "gone"}}},
                ],
            }
        ],
    }
    staged = book.static_widgets(notebook)
    assert "widgets" not in staged["metadata"]
    [output] = staged["cells"][0]["outputs"]
    assert output["data"] == {"text/plain": "training base: 100% |██████████| 360/360 [03:09<00:00,  3.55it/s]"}


def test_stage_points_the_badge_at_the_book_and_leaves_thebe_out(tmp_path, monkeypatch):
    course_copy(tmp_path / "course", monkeypatch)
    book.stage("smoke", tmp_path / "staging")
    staged = json.loads((tmp_path / "staging" / "notebooks" / "01_video_to_frames.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in staged["cells"] if c["cell_type"] == "markdown")
    assert f"](../{book.LOCAL_BADGE})" in text and book.BADGE_IMAGE not in text
    assert (tmp_path / "staging" / book.LOCAL_BADGE).is_file()
    config = yaml.safe_load((tmp_path / "staging" / "_config.yml").read_text())
    extensions = config["sphinx"]["config"]["extensions"]
    assert "sphinx_thebe" not in extensions and "myst_nb" in extensions and "sphinxcontrib.bibtex" in extensions
    assert config["sphinx"]["config"]["nb_ipywidgets_js"] == {}
    from jupyter_book.config import get_final_config

    final, _ = get_final_config(
        user_yaml=config, cli_config={"latex_individualpages": False}, sourcedir=tmp_path / "staging"
    )
    # figure numbering stays off: Jupyter Book's LaTeX extension would turn it back on
    assert final["numfig"] is False and "sphinx_jupyterbook_latex" not in final["extensions"]
    toc = yaml.safe_load((tmp_path / "staging" / "_toc.yml").read_text())
    assert [c["file"] for c in toc["parts"][-1]["chapters"]] == ["book/glossary", "book/references"]


def test_stage_refuses_an_intro_without_its_generated_parts(tmp_path, monkeypatch):
    course = course_copy(tmp_path / "course", monkeypatch)
    intro = course / "book" / "intro.md"
    intro.write_text(intro.read_text().replace(book.INTRO_CHAPTERS, ""))
    with pytest.raises(CourseError, match="book/intro.md: the line <!-- stage: chapters --> is missing"):
        book.stage("smoke", tmp_path / "staging")
    assert not (tmp_path / "staging").exists()


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
