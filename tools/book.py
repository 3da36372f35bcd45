"""Run the chapters with papermill and build the HTML book with Jupyter Book 1.x.

    python -m tools.book run   --profile cpu [--only 01,03] [--set STEPS=20 ...]
                                                                execute chapters in reading order
    python -m tools.book build --profile cpu                  stage executed notebooks, build HTML
                                                                into build/book/PROFILE/
    python -m tools.book sync                                 pair .py/.ipynb, refresh setup cells

`make book` and `make test` call these from the repository root; chapter 00 explains the three
ways to run one chapter. The tool lives outside `helpers`, the package learners import: it is for
building the course, not for following it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import yaml

from helpers.course import Chapter, chapters
from helpers.errors import CourseError, ProfileError
from helpers.results import load_results
from helpers.runtime import PROFILES, course_root, load_profile

BRANCH = "main"
SETUP_MARKER = "# Set-up: works in Colab"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
# MathJax served from the book itself, so that math renders offline. The package ships MathJax
# 3.2.2, the version Sphinx would otherwise load from a CDN; tex-mml-chtml.js is Sphinx's default
# component. The other parts are what that component loads on demand: TeX extensions, its fonts,
# the context menu and its accessibility tools.
MATHJAX_PACKAGE = "sphinx-mathjax-offline"
MATHJAX_COMPONENT = "tex-mml-chtml.js"
MATHJAX_PARTS = (MATHJAX_COMPONENT, "input/tex/extensions", "input/mml", "output/chtml", "a11y", "ui", "sre")
# Copied to the HTML root by Sphinx's html_extra_path, so MathJax lands in _static/mathjax/. Not in
# a _static folder of the staged book: Jupyter Book adds every .js file there to every page.
OFFLINE_ASSETS = "_offline_assets"


def select(all_chapters: list[Chapter], only: str | None) -> list[Chapter]:
    written = [c for c in all_chapters if c.written]
    if not only:
        return written
    wanted = {part.strip().zfill(2) for part in only.replace(" ", ",").split(",") if part.strip()}
    unknown = wanted - {c.number for c in written}
    if unknown:
        available = ", ".join(c.number for c in written)
        raise CourseError(f"ONLY={only}: no written chapter {', '.join(sorted(unknown))}; written: {available}")
    return [c for c in written if c.number in wanted]


# --- repository address, setup cells, pairing -----------------------------------------------


def repository_url(root: Path | None = None) -> str:
    """The repository's address, kept in one place: pyproject.toml [project.urls] Repository."""
    root = root or course_root()
    data = tomllib.loads((root / "pyproject.toml").read_text())
    return data["project"]["urls"]["Repository"].rstrip("/")


def colab_url(chapter_slug: str, root: Path | None = None) -> str:
    repo = repository_url(root).removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{BRANCH}/notebooks/{chapter_slug}.ipynb"


def badge_line(chapter_slug: str, root: Path | None = None) -> str:
    return f"# [![Open In Colab]({BADGE_IMAGE})]({colab_url(chapter_slug, root)})"


def setup_cell(root: Path | None = None) -> str:
    """The first code cell of every chapter, generated so that the repository address lives in one place."""
    return f'''# %% tags=["setup", "hide-input"]
{SETUP_MARKER} (installs the course helpers from the
# repository, and only the packages Colab lacks), in a local checkout (where `make book`
# installed everything) and in CI.
import importlib.util
import subprocess
import sys
from pathlib import Path

COURSE_REPO = "{repository_url(root)}"
if importlib.util.find_spec("helpers") is None:
    course_dir = Path.home() / "video-generation-course"
    if not course_dir.exists():
        clone = ["git", "clone", "--depth", "1", COURSE_REPO, str(course_dir)]
        subprocess.run(clone, check=True)
    pip_install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps"]
    subprocess.run([*pip_install, "-e", str(course_dir)], check=True)
    sys.path.insert(0, str(course_dir))
    from helpers.runtime import install_missing

    install_missing()
'''


def refresh_chapter_source(path: Path, root: Path | None = None) -> bool:
    """Rewrite the setup cell and Colab badge of one chapter .py; True when the file changed."""
    text = path.read_text()
    cells = re.split(r"(?m)^(?=# %%)", text)
    out = []
    for cell in cells:
        if SETUP_MARKER in cell:
            cell = setup_cell(root) + "\n\n"
        elif BADGE_IMAGE in cell:
            cell = re.sub(
                rf"(?m)^# \[!\[Open In Colab\]\({re.escape(BADGE_IMAGE)}\)\]\([^)]*\)$",
                badge_line(path.stem, root),
                cell,
            )
        out.append(cell)
    new = "".join(out)
    if new != text:
        path.write_text(new)
    return new != text


def jupytext_sync(paths: list[Path]) -> None:
    """Bring each .py/.ipynb pair in line (the newer side wins, as in Jupyter)."""
    if paths:
        subprocess.run(
            [sys.executable, "-m", "jupytext", "--sync", "--quiet", *map(str, paths)], check=True, cwd=course_root()
        )


def sync(root: Path | None = None) -> list[Path]:
    root = root or course_root()
    written = [c.source for c in chapters(root) if c.written]
    changed = [p for p in written if refresh_chapter_source(p, root)]
    jupytext_sync(written)
    return changed


# --- running chapters -----------------------------------------------------------------------


def executed_dir(profile: str) -> Path:
    return course_root() / "build" / "executed" / profile


def parse_overrides(pairs: list[str] | None) -> dict:
    """`--set NAME=VALUE` pairs as a dict; VALUE is read as YAML (20 -> int, cpu -> str)."""
    overrides = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise ProfileError(f"--set {pair!r}: write NAME=VALUE with an upper-case parameter name, e.g. STEPS=20")
        try:
            overrides[name] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ProfileError(f"--set {pair!r}: the value is not readable ({exc})") from None
    return overrides


def chapter_parameters(chapter: Chapter, profile: str, overrides: dict | None = None) -> dict:
    """The profile's values for a chapter, then `overrides` for the parameters this chapter
    declares, checked against the chapter's parameters cell."""
    import papermill

    values = load_profile(profile, chapter.number)
    declared = papermill.inspect_notebook(str(chapter.notebook))
    if not declared:
        raise ProfileError(f"{chapter.notebook}: no cell tagged 'parameters'")
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ProfileError(
            f"notebooks/profiles/{profile}.yaml gives chapter {chapter.number} parameters its "
            f"parameters cell does not declare: {', '.join(unknown)}"
        )
    values.update({name: value for name, value in (overrides or {}).items() if name in declared})
    return values


def run(profile: str, only: str | None = None, stream=sys.stdout, overrides: dict | None = None) -> list[dict]:
    """Execute chapters in reading order; stop at the first failure with a message naming the cell.

    `overrides` ({"VAE_STEPS": 20, "DEVICE": "cpu"}) replace the profile's values in every chapter
    that declares them (to try a profile's code path with its step counts cut, say); a name that
    no selected chapter declares is refused."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if profile not in PROFILES:
        raise ProfileError(f"PROFILE={profile}: use one of {', '.join(PROFILES)}")
    todo = select(chapters(), only)
    if overrides:
        declared = set().union(*(papermill.inspect_notebook(str(c.notebook)) for c in todo))
        unknown = sorted(set(overrides) - declared)
        if unknown:
            raise ProfileError(f"--set {', '.join(unknown)}: no selected chapter has such a parameter")
    jupytext_sync([c.source for c in todo])
    out_dir = executed_dir(profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    env_before = dict(os.environ)
    os.environ.update(
        {
            "COURSE_EXECUTION": "papermill",
            "COURSE_ROOT": str(course_root()),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    timings: list[dict] = []
    try:
        for i, chapter in enumerate(todo, 1):
            output = out_dir / f"{chapter.slug}.ipynb"
            print(f"[{i}/{len(todo)}] {chapter.slug} ({profile}) ...", file=stream, flush=True)
            started = time.perf_counter()
            record = {"chapter": chapter.slug, "profile": profile, "status": "ok", "seconds": 0.0}
            timings.append(record)
            log = out_dir / f"{chapter.slug}.log"
            try:
                with kernel_stderr_to(log):
                    papermill.execute_notebook(
                        str(chapter.notebook),
                        str(output),
                        parameters=chapter_parameters(chapter, profile, overrides),
                        kernel_name="python3",
                        cwd=str(chapter.notebook.parent),
                        progress_bar=False,
                        log_output=False,
                        report_mode=False,
                    )
            except PapermillExecutionError as exc:
                record.update(status="failed", seconds=round(time.perf_counter() - started, 1))
                first_line = exc.source.strip().splitlines()[0] if exc.source.strip() else ""
                raise CourseError(
                    f"chapter {chapter.slug} failed in cell {exc.cell_index} ({first_line!r}): "
                    f"{exc.ename}: {exc.evalue.splitlines()[0] if exc.evalue else ''}\n"
                    f"  inspect the executed notebook: {output}\n"
                    f"  and the kernel's log: {log}"
                ) from None
            except CourseError:
                record.update(status="failed", seconds=round(time.perf_counter() - started, 1))
                raise
            except Exception as exc:  # the kernel died, timed out or could not start
                record.update(status="failed", seconds=round(time.perf_counter() - started, 1))
                raise CourseError(
                    f"chapter {chapter.slug} could not finish: {type(exc).__name__}: {exc}\n"
                    f"  inspect the executed notebook: {output}\n"
                    f"  and the kernel's log: {log}"
                ) from None
            record["seconds"] = round(time.perf_counter() - started, 1)
            print(f"      ok in {record['seconds']:.1f} s", file=stream, flush=True)
    finally:
        os.environ.clear()
        os.environ.update(env_before)
        print(timing_table(timings), file=stream, flush=True)
        (out_dir / "timings.json").write_text(json.dumps(timings, indent=1))
    return timings


@contextlib.contextmanager
def kernel_stderr_to(log: Path):
    """Send what the kernel process writes to stderr (library start-up chatter) to a log file.

    The kernel inherits file descriptor 2 from this process, so it is redirected at the OS level
    for the duration of one chapter.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log, "w") as handle:
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def timing_table(timings: list[dict]) -> str:
    if not timings:
        return "no chapters ran"
    width = max(len(t["chapter"]) for t in timings) + 2
    lines = [f"{'chapter':<{width}}{'profile':<9}{'status':<8}{'seconds':>8}"]
    lines += [f"{t['chapter']:<{width}}{t['profile']:<9}{t['status']:<8}{t['seconds']:>8.1f}" for t in timings]
    lines.append(f"{'total':<{width + 17}}{sum(t['seconds'] for t in timings):>8.1f}")
    return "\n".join(lines)


# --- building the book ----------------------------------------------------------------------


def profile_banner(profile: str, notebook: dict | None = None, chapter: Chapter | None = None) -> str:
    """The note at the top of every page: which profile's run the page shows, when it ran, and
    any value that `--set` changed from the profile."""
    if notebook is None:
        return (
            f"```{{note}}\nThis book shows the **{profile}** profile: every chapter was executed with "
            f"`make book PROFILE={profile}`, and each page says when.\n```\n"
        )
    meta = notebook.get("metadata", {}).get("papermill", {})
    ended = (meta.get("end_time") or "")[:16].replace("T", " ")
    used = meta.get("parameters") or {}
    expected = load_profile(profile, chapter.number) if chapter else {}
    changed = {k: v for k, v in used.items() if chapter and expected.get(k) != v}
    devices = sorted({r["device"] for r in load_results(chapter=chapter.slug, profile=profile)}) if chapter else []
    overrides = (
        " It ran with values changed from the profile: " + ", ".join(f"`{k}={v}`" for k, v in changed.items()) + "."
        if changed
        else ""
    )
    when = f" of {ended} UTC" if ended else ""
    where = f" on {' and '.join(devices)}" if devices else ""
    return f"```{{note}}\nOutputs on this page come from the **{profile}** profile run{when}{where}.{overrides}\n```\n"


def run_failed(notebook: dict) -> bool:
    """Did the papermill run that wrote this executed notebook stop with an error? Its page would
    show half the chapter, and figures glued further down would be missing."""
    if notebook.get("metadata", {}).get("papermill", {}).get("exception"):
        return True
    return any(o.get("output_type") == "error" for c in notebook.get("cells", []) for o in c.get("outputs", []))


def _with_banner(notebook: dict, banner: str) -> dict:
    """Insert `banner` as a Markdown cell after the chapter's title cell."""
    cell = {"cell_type": "markdown", "id": "profile-banner", "metadata": {"tags": ["profile-banner"]}, "source": banner}
    notebook["cells"].insert(1 if notebook["cells"] else 0, cell)
    return notebook


def mathjax_files() -> Path:
    """The folder of MathJax files that the installed MathJax package ships."""
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    folder = Path(spec.submodule_search_locations[0]) / "static" / "mathjax" if spec else None
    if folder is None or not (folder / MATHJAX_COMPONENT).is_file():
        raise CourseError(
            f"the book serves MathJax itself so math renders offline, but {MATHJAX_PACKAGE} is not "
            f"installed: pip install {MATHJAX_PACKAGE} (make book installs it from requirements.txt)"
        )
    return folder


def stage_mathjax(staging: Path) -> dict:
    """Copy MathJax into the staged book; returns the Sphinx settings that load it from there."""
    source = mathjax_files()
    target = staging / OFFLINE_ASSETS / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
        else:
            target.joinpath(part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)
    return {"mathjax_path": f"mathjax/{MATHJAX_COMPONENT}", "html_extra_path": [OFFLINE_ASSETS]}


def hide_injected_parameters(notebook: dict) -> dict:
    """Tag papermill's injected-parameters cell `remove-cell`, so the page leaves it out (the
    profile banner names the run and any changed value); the chapter's own parameters cell stays."""
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    return notebook


def stage(profile: str, staging: Path) -> list[str]:
    """Lay out the book's sources in `staging`, mirroring the repository (book/..., notebooks/...).

    Chapters come from build/executed/PROFILE when they were run there, else as clean notebooks
    (a warning names them); every page starts with a note naming the profile. Returns the warnings.
    """
    root = course_root()
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(root / "book", staging / "book", ignore=shutil.ignore_patterns("_config.yml", "_toc.yml"))
    intro = staging / "book" / "intro.md"
    title, _, rest = intro.read_text().partition("\n")
    intro.write_text(f"{title}\n\n{profile_banner(profile)}{rest}")
    config = yaml.safe_load((root / "book" / "_config.yml").read_text())
    config.setdefault("repository", {})["url"] = repository_url(root)
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    offline = stage_mathjax(staging)
    sphinx_config["mathjax_path"] = offline["mathjax_path"]
    sphinx_config["html_extra_path"] = [*sphinx_config.get("html_extra_path", []), *offline["html_extra_path"]]
    (staging / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    warnings = []
    entries = []
    executed = executed_dir(profile)
    (staging / "notebooks").mkdir()
    for chapter in chapters(root):
        if chapter.written:
            source = executed / f"{chapter.slug}.ipynb"
            target = staging / "notebooks" / f"{chapter.slug}.ipynb"
            notebook = json.loads(source.read_text()) if source.exists() else None
            if notebook is not None and not run_failed(notebook):
                notebook = hide_injected_parameters(notebook)
                banner = profile_banner(profile, notebook, chapter)
                target.write_text(json.dumps(_with_banner(notebook, banner), indent=1))
            else:
                status = "has not run" if notebook is None else "failed in its last run"
                warnings.append(f"chapter {chapter.slug} {status} in the {profile} profile: its page has no outputs")
                notebook = json.loads(_without_glue(chapter.notebook.read_text(), chapter.number, profile))
                banner = (
                    f"```{{note}}\nThis chapter {status} in the **{profile}** profile, so this page shows no "
                    f"outputs: `make book PROFILE={profile} ONLY={chapter.number}`.\n```\n"
                )
                target.write_text(json.dumps(_with_banner(notebook, banner), indent=1))
            entries.append({"file": f"notebooks/{chapter.slug}"})
        else:
            entries.append({"file": f"book/coming_next/{chapter.slug}"})
    toc = {
        "format": "jb-book",
        "root": "book/intro",
        "parts": [
            {"caption": "Chapters", "chapters": entries},
            {"caption": "Back matter", "chapters": [{"file": "book/references"}]},
        ],
    }
    (staging / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    return warnings


_GLUE_FIGURE = re.compile(r"```\{glue:figure\}.*?\n```", re.DOTALL)


def _without_glue(notebook_json: str, number: str, profile: str) -> str:
    """A chapter that has not run has no glued outputs: its {glue:figure} blocks become a note
    saying how to fill them, instead of failing the whole build."""
    notebook = json.loads(notebook_json)
    note = (
        f"```{{note}}\nThis figure is computed by the chapter, which has not run in the {profile} profile "
        f"yet: `make book PROFILE={profile} ONLY={number}`.\n```"
    )
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = _GLUE_FIGURE.sub(note, text)
    return json.dumps(notebook, indent=1)


def build(profile: str, out: Path | None = None, stream=sys.stdout) -> Path:
    """Build the HTML book of one profile into build/book/PROFILE (or `out`); returns the folder
    holding index.html. Each profile's book and staging folder are its own."""
    root = course_root()
    out = out or root / "build" / "book" / profile
    staging = root / "build" / "book-src" / profile
    for warning in stage(profile, staging):
        print(f"warning: {warning}", file=stream)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("jupyter-book")),
            "build",
            str(staging),
            "--path-output",
            str(out),
            "--builder",
            "html",
            "--warningiserror",
            "--keep-going",
            "--quiet",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise CourseError(f"the book build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    html = out / "_build" / "html"
    print(f"book built: {html / 'index.html'}", file=stream)
    return html


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.book", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="execute chapters with papermill")
    run_p.add_argument("--profile", default="cpu", choices=PROFILES)
    run_p.add_argument("--only", default=None, help="chapter numbers, e.g. 01 or 01,03")
    run_p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        metavar="NAME=VALUE",
        help="replace a profile value in the chapters that declare it (repeatable), e.g. --set VAE_STEPS=20",
    )
    build_p = sub.add_parser("build", help="build the HTML book from the executed chapters")
    build_p.add_argument("--profile", default="cpu", choices=PROFILES)
    build_p.add_argument("--out", type=Path, default=None)
    sub.add_parser("sync", help="refresh setup cells and badges, then pair .py and .ipynb")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            run(args.profile, args.only, overrides=parse_overrides(args.overrides))
        elif args.command == "build":
            build(args.profile, args.out)
        else:
            changed = sync()
            print(f"refreshed {len(changed)} chapter(s); pairs synced")
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
