"""Run the chapters with papermill and build the HTML book with Jupyter Book 1.x.

    python -m tools.book run   --profile cpu [--only 01,03] [--set STEPS=20 ...]
                                                                execute chapters in reading order
    python -m tools.book build --profile cpu                  stage executed notebooks, build HTML
                                                                into build/book/PROFILE/
    python -m tools.book bench --profile cpu                  run chapters 02-09 that have no records yet,
                                                                then the benchmark chapter, then build
    python -m tools.book sync                                 pair .py/.ipynb, refresh setup cells

A gpu run (`make book PROFILE=gpu`) also keeps each chapter as a run of record under
runs/gpu/NN_slug/ (committed): the executed notebook with its images compressed, its registry
records and run.json. `build --profile gpu` stages those, so the gpu book builds without a GPU.

`make book` and `make test` call these from the repository root; chapter 00 explains the three
ways to run one chapter. The tool lives outside `helpers`, the package learners import: it is for
building the course, not for following it.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import html as html_escape
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from helpers.course import Chapter, chapters
from helpers.errors import CourseError, ProfileError
from helpers.results import load_results, results_dir
from helpers.results import validate as results_validate
from helpers.runtime import PROFILES, atomic_write_bytes, course_root, load_profile

BRANCH = "main"
SETUP_MARKER = "# Set-up: works in Colab"
# The chapter sources keep Colab's own badge image, so the badge also shows in Colab and on
# GitHub; the built book shows the same badge from book/_static (stage rewrites the address), so
# that no page loads an image from another site.
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE = "book/_static/colab-badge.svg"  # relative to the staged book's root
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
    machine: dict[str, str] | None = None
    try:
        for i, chapter in enumerate(todo, 1):
            output = out_dir / f"{chapter.slug}.ipynb"
            print(f"[{i}/{len(todo)}] {chapter.slug} ({profile}) ...", file=stream, flush=True)
            started = time.perf_counter()
            record = {"chapter": chapter.slug, "profile": profile, "status": "ok", "seconds": 0.0}
            timings.append(record)
            log = out_dir / f"{chapter.slug}.log"
            parameters = chapter_parameters(chapter, profile, overrides)
            try:
                with kernel_stderr_to(log), PeakMemory() as memory:
                    papermill.execute_notebook(
                        str(chapter.notebook),
                        str(output),
                        parameters=parameters,
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
            machine = machine or machine_report()
            record.update(seconds=round(time.perf_counter() - started, 1), finished=_utc_now(), machine=machine)
            if memory.peak_mib:
                record["peak_memory_mib"] = round(memory.peak_mib)
            print(f"      ok in {record['seconds']:.1f} s", file=stream, flush=True)
            write_timings(out_dir / "timings.json", timings)  # kept even if a later chapter is killed
            if profile in RECORDED_PROFILES:
                _keep_run_of_record(chapter, profile, output, record, parameters, stream)
    finally:
        os.environ.clear()
        os.environ.update(env_before)
        print(timing_table(timings), file=stream, flush=True)
        write_timings(out_dir / "timings.json", timings)
    return timings


class PeakMemory:
    """The largest resident memory of this process's children (the chapter's kernel and whatever it
    starts), summed over them and sampled twice a second while the block runs: `peak_mib` after it,
    0 when psutil is missing. A peak shorter than the interval can be missed, and memory that
    processes share is counted once for each of them."""

    def __init__(self, interval: float = 0.5):
        self.interval, self.peak_mib = interval, 0.0
        self._stop = None

    def _sample(self, me) -> None:
        import psutil

        total = 0
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        self.peak_mib = max(self.peak_mib, total / 2**20)

    def __enter__(self):
        import threading

        try:
            import psutil
        except ImportError:
            return self
        me = psutil.Process()
        self._stop = threading.Event()

        def watch():
            while not self._stop.wait(self.interval):
                self._sample(me)

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._stop is not None:
            self._stop.set()
            self._thread.join()


def _utc_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def write_timings(path: Path, timings: list[dict]) -> None:
    """Merge this run's timings into timings.json: a chapter that ran replaces its last record, the
    others keep theirs (so `ONLY=04` does not wipe the times of the chapters it did not run)."""
    kept: dict[str, dict] = {}
    with contextlib.suppress(OSError, json.JSONDecodeError, TypeError, KeyError):
        kept = {t["chapter"]: t for t in json.loads(path.read_text())}
    kept.update({t["chapter"]: t for t in timings})
    # a run killed while writing leaves the previous file whole
    atomic_write_bytes(path, json.dumps([kept[name] for name in sorted(kept)], indent=1).encode())


def read_timings(profile: str) -> dict[str, dict]:
    """The last run of each chapter in a profile, from build/executed/PROFILE/timings.json."""
    path = executed_dir(profile) / "timings.json"
    try:
        return {t["chapter"]: t for t in json.loads(path.read_text())}
    except (OSError, json.JSONDecodeError, TypeError, KeyError):
        return {}


def machine_report() -> dict[str, str]:
    """The machine a run used, for timings.json and run.json: CPU model and cores, and the GPU when
    PyTorch sees one (the kernel runs on this machine, with the same environment)."""
    import platform

    from helpers.runtime import cpu_model

    report = {
        "cpu": cpu_model(),
        "cpu cores": str(os.cpu_count()),
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
    }
    gpu = _gpu_name()
    if gpu:
        report["gpu"] = gpu
    return report


def _gpu_name() -> str | None:
    if importlib.util.find_spec("torch") is None:
        return None
    import warnings

    try:
        import torch

        with warnings.catch_warnings():  # a CUDA build of torch on a machine without a GPU warns
            warnings.simplefilter("ignore")
            if torch.cuda.is_available():
                return torch.cuda.get_device_name(0)
    except Exception:  # a broken CUDA set-up names no GPU rather than failing the run
        return None
    return None


def machine_words(machine: dict | None) -> str:
    """'NVIDIA H100 80GB HBM3 and AMD EPYC 9454, 16 cores', or '' when nothing is known."""
    if not machine:
        return ""
    cpu = machine.get("cpu", "")
    cores = machine.get("cpu cores", "")
    cpu_part = f"{cpu}, {cores} cores" if cpu and cores else cpu
    gpu = machine.get("gpu")
    return f"{gpu} and {cpu_part}" if gpu and cpu_part else gpu or cpu_part


def _keep_run_of_record(chapter: Chapter, profile: str, output: Path, record: dict, parameters: dict, stream) -> None:
    stream = stream or sys.stdout
    if parameters != load_profile(profile, chapter.number):
        print("      not kept as a run of record: values changed with --set", file=stream, flush=True)
        return
    if not record["machine"].get("gpu"):
        print(
            f"      not kept as a run of record: no GPU on this machine ({profile} runs of record are GPU runs)",
            file=stream,
            flush=True,
        )
        return
    folder = record_run(chapter, profile, output, record)
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
    note = f" (over {RUN_OF_RECORD_MIB} MiB: see its largest outputs)" if size > RUN_OF_RECORD_MIB else ""
    print(f"      run of record: {folder.relative_to(course_root())}/, {size:.1f} MiB{note}", file=stream, flush=True)


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


# --- runs of record (runs/gpu/NN_slug/, committed) --------------------------------------------

RECORDED_PROFILES = ("gpu",)
RUN_OF_RECORD_MIB = 5  # `run` warns above this; a run of record should stay at a few MiB
RUN_OF_RECORD_LIMIT_MIB = 10  # check_runs_of_record (make test) refuses a folder above this
IMAGE_MAX_SIDE = 1024  # pixels: larger PNG outputs are scaled down in a run of record
_PNG_DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")


def runs_dir() -> Path:
    """runs/ at the repository root: committed runs of record, one folder per profile and chapter."""
    return course_root() / "runs"


def _smaller_image(png: bytes) -> tuple[str, bytes]:
    """A PNG output re-encoded for a run of record: at most IMAGE_MAX_SIDE pixels on a side, as a
    palette PNG or (without transparency) a JPEG, whichever is smallest. Returns ('png' or
    'jpeg', bytes); the original bytes when nothing is smaller."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    resized = max(image.size) > IMAGE_MAX_SIDE
    if resized:
        image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
    rgba = image.convert("RGBA")
    opaque = rgba.getchannel("A").getextrema()[0] == 255
    candidates: list[tuple[str, bytes]] = [] if resized else [("png", png)]

    def encoded(picture, fmt: str, **options) -> bytes:
        buffer = io.BytesIO()
        picture.save(buffer, fmt, **options)
        return buffer.getvalue()

    if opaque:
        rgb = rgba.convert("RGB")
        candidates.append(("png", encoded(rgb.quantize(256, method=Image.Quantize.FASTOCTREE), "PNG", optimize=True)))
        candidates.append(("jpeg", encoded(rgb, "JPEG", quality=85, optimize=True)))
        if resized:
            candidates.append(("png", encoded(rgb, "PNG", optimize=True)))
    else:
        candidates.append(("png", encoded(rgba.quantize(256, method=Image.Quantize.FASTOCTREE), "PNG", optimize=True)))
        if resized:
            candidates.append(("png", encoded(rgba, "PNG", optimize=True)))
    return min(candidates, key=lambda c: len(c[1]))


def compress_images(notebook: dict) -> dict:
    """Re-encode every PNG output of an executed notebook (plain, glued, or inside an HTML output as
    a data: address) with _smaller_image, so that a committed run of record stays small."""

    def smaller_b64(text: str) -> tuple[str, str]:
        kind, data = _smaller_image(base64.b64decode(text))
        return kind, base64.b64encode(data).decode()

    def in_html(match: re.Match) -> str:
        kind, data = smaller_b64(match.group(1))
        return f"data:image/{kind};base64,{data}"

    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for key in [k for k in data if k.endswith("image/png")]:
                kind, encoded = smaller_b64("".join(data.pop(key)) if isinstance(data[key], list) else data.pop(key))
                new_key = key.removesuffix("png") + kind
                data[new_key] = encoded
                metadata = output.get("metadata", {})
                if key in metadata and new_key != key:
                    metadata[new_key] = metadata.pop(key)
            if "text/html" in data:
                html = "".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"]
                data["text/html"] = _PNG_DATA_URI.sub(in_html, html)
    return notebook


def record_run(chapter: Chapter, profile: str, executed: Path, timing: dict) -> Path:
    """Keep one chapter's run as its run of record: runs/PROFILE/NN_slug/ with the executed
    notebook (images compressed), results/*.json (the registry records it wrote) and run.json
    (machine, dates, parameters, wall seconds). The folder is replaced whole, or not at all."""
    target = runs_dir() / profile / chapter.slug
    scratch = target.with_name(f".{chapter.slug}.tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "results").mkdir(parents=True)
    try:
        notebook = json.loads(executed.read_text())
        (scratch / f"{chapter.slug}.ipynb").write_text(json.dumps(compress_images(notebook), indent=1))
        records = load_results(chapter=chapter.slug, profile=profile)  # checks every record
        for path in sorted((results_dir() / profile / chapter.slug).glob("*.json")):
            shutil.copy2(path, scratch / "results" / path.name)
        papermill_meta = notebook.get("metadata", {}).get("papermill", {})
        info = {
            "chapter": chapter.slug,
            "profile": profile,
            "started": papermill_meta.get("start_time"),
            "ended": papermill_meta.get("end_time"),
            "seconds": timing["seconds"],
            "machine": timing.get("machine") or {},
            "peak_memory_mib": timing.get("peak_memory_mib"),
            "devices": sorted({r["device"] for r in records}),
            "parameters": papermill_meta.get("parameters") or {},
        }
        (scratch / "run.json").write_text(json.dumps(info, indent=1))
        if target.exists():
            shutil.rmtree(target)
        scratch.rename(target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target


def run_of_record(profile: str, chapter: Chapter) -> dict | None:
    """{'folder', 'notebook' (parsed), 'run' (run.json)} for a chapter's run of record, or None."""
    if profile not in RECORDED_PROFILES:
        return None
    folder = runs_dir() / profile / chapter.slug
    if not (folder / f"{chapter.slug}.ipynb").is_file():
        return None
    try:
        notebook = json.loads((folder / f"{chapter.slug}.ipynb").read_text())
        info = json.loads((folder / "run.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CourseError(f"{folder}: a damaged run of record ({exc}); run it again or remove the folder") from None
    return {"folder": folder, "notebook": notebook, "run": info}


def restore_records(profile: str) -> list[str]:
    """Copy the registry records of every run of record into build/results/PROFILE/NN_slug/ where
    that folder has none, so the benchmark reads them; returns the chapters restored."""
    restored = []
    for chapter in chapters():
        record = run_of_record(profile, chapter) if chapter.written else None
        target = results_dir() / profile / chapter.slug
        if record and not list(target.glob("*.json")):
            files = sorted((record["folder"] / "results").glob("*.json"))
            if files:
                target.mkdir(parents=True, exist_ok=True)
                for path in files:
                    shutil.copy2(path, target / path.name)
                restored.append(chapter.slug)
    return restored


def check_runs_of_record(folder: Path | None = None) -> list[str]:
    """Every problem with the runs of record under runs/ (or `folder`), one line each: a chapter
    that does not exist, parameters that differ from its profile's, a run that failed, a registry
    record that does not validate, a folder too large. Empty when all are sound (or none exist)."""
    folder = folder or runs_dir()
    if not folder.is_dir():
        return []
    written = {c.slug: c for c in chapters() if c.written}
    problems = []
    for profile_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if profile_dir.name not in RECORDED_PROFILES:
            problems.append(f"{profile_dir}: runs of record are kept for {', '.join(RECORDED_PROFILES)} only")
            continue
        for run_dir in sorted(p for p in profile_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            problems += _run_of_record_problems(run_dir, profile_dir.name, written)
    return problems


def _run_of_record_problems(run_dir: Path, profile: str, written: dict[str, Chapter]) -> list[str]:
    where = f"{run_dir.parent.parent.name}/{profile}/{run_dir.name}"
    chapter = written.get(run_dir.name)
    if chapter is None:
        return [f"{where}: no written chapter notebooks/{run_dir.name}.py"]
    try:
        notebook = json.loads((run_dir / f"{chapter.slug}.ipynb").read_text())
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{where}: the executed notebook or run.json is missing or damaged ({exc})"]
    problems = []
    used = notebook.get("metadata", {}).get("papermill", {}).get("parameters") or {}
    expected = load_profile(profile, chapter.number)
    for name, value in expected.items():
        if name not in used:
            problems.append(
                f"{where}: the run lacks parameter {name} (notebooks/profiles/{profile}.yaml sets {value!r})"
            )
        elif used[name] != value:
            problems.append(
                f"{where}: parameter {name}={used[name]!r}, but notebooks/profiles/{profile}.yaml gives {value!r}"
            )
    for name in sorted(set(used) - set(expected)):
        problems.append(f"{where}: parameter {name}={used[name]!r} is not a value of the {profile} profile")
    if info.get("chapter") != chapter.slug or info.get("profile") != profile:
        problems.append(f"{where}: run.json names {info.get('chapter')!r} in profile {info.get('profile')!r}")
    if info.get("parameters") != used:
        problems.append(f"{where}: run.json's parameters differ from the executed notebook's")
    if run_failed(notebook):
        problems.append(f"{where}: the executed notebook holds an error: its run failed")
    elif run_unfinished(notebook):
        problems.append(f"{where}: the executed notebook has no end time: its run did not finish")
    for path in sorted((run_dir / "results").glob("*.json")):
        try:
            record = results_validate(json.loads(path.read_text()), f"{where}/results/{path.name}")
        except json.JSONDecodeError as exc:
            problems.append(f"{where}/results/{path.name}: not valid JSON ({exc.msg})")
            continue
        except CourseError as exc:
            problems.append(str(exc))
            continue
        if record["chapter"] != chapter.slug or record["profile"] != profile:
            problems.append(
                f"{where}/results/{path.name}: a record of {record['chapter']} ({record['profile']}), not of this run"
            )
    size = sum(f.stat().st_size for f in run_dir.rglob("*") if f.is_file()) / 2**20
    if size > RUN_OF_RECORD_LIMIT_MIB:
        problems.append(f"{where}: {size:.1f} MiB, over the {RUN_OF_RECORD_LIMIT_MIB} MiB a run of record may take")
    return problems


# --- building the book ----------------------------------------------------------------------


def profile_banner(
    profile: str,
    notebook: dict | None = None,
    chapter: Chapter | None = None,
    run_info: dict | None = None,
    machine: dict | None = None,
) -> str:
    """The note at the top of every page: which profile's run the page shows, when it ran, on
    which machine, and any value that `--set` changed from the profile. `run_info` is the run.json
    of a run of record (runs/PROFILE/NN_slug/) when the page shows one; `machine` the machine
    timings.json names for a run made in this checkout."""
    if notebook is None:
        return (
            f"```{{note}}\nThis book shows the **{profile}** profile: every chapter was executed with "
            f"`make book PROFILE={profile}`, and each page says when and where.\n```\n"
        )
    meta = notebook.get("metadata", {}).get("papermill", {})
    ended = (meta.get("end_time") or "")[:16].replace("T", " ")
    used = meta.get("parameters") or {}
    expected = load_profile(profile, chapter.number) if chapter else {}
    changed = {k: v for k, v in used.items() if chapter and expected.get(k) != v}
    if run_info is not None:
        devices = run_info.get("devices") or []
        machine = run_info.get("machine")
    else:
        devices = sorted({r["device"] for r in load_results(chapter=chapter.slug, profile=profile)}) if chapter else []
    overrides = (
        " It ran with values changed from the profile: " + ", ".join(f"`{k}={v}`" for k, v in changed.items()) + "."
        if changed
        else ""
    )
    when = f" of {ended} UTC" if ended else ""
    where = f" on {' and '.join(devices)}" if devices else ""
    words = machine_words(machine)
    if words:
        where = f"{where} ({words})" if where else f" on {words}"
    kept = (
        f" It is the chapter's run of record, kept in `runs/{profile}/{chapter.slug}/`."
        if run_info is not None and chapter
        else ""
    )
    text = f"Outputs on this page come from the **{profile}** profile run{when}{where}.{kept}{overrides}"
    return f"```{{note}}\n{text}\n```\n"


def run_failed(notebook: dict) -> bool:
    """Did the papermill run that wrote this executed notebook stop with an error? Its page would
    show half the chapter, and figures glued further down would be missing."""
    if notebook.get("metadata", {}).get("papermill", {}).get("exception"):
        return True
    return any(o.get("output_type") == "error" for c in notebook.get("cells", []) for o in c.get("outputs", []))


def run_unfinished(notebook: dict) -> bool:
    """Did papermill not finish the run that wrote this notebook (it is still running, or was
    stopped)? papermill writes the executed notebook as it goes and its end time only at the end."""
    papermill_meta = notebook.get("metadata", {}).get("papermill")
    return papermill_meta is not None and not papermill_meta.get("end_time")


def _read_executed(path: Path) -> dict | None:
    """An executed notebook, or None when there is none; a half-written one reads as unfinished."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {"metadata": {"papermill": {"end_time": None}}, "cells": []}


def _run_status(notebook: dict | None) -> str:
    if notebook is None:
        return "has not run"
    if run_failed(notebook):
        return "failed in its last run"
    if run_unfinished(notebook):
        return "has not finished its last run"
    return "ok"


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


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Jupyter Book adds sphinx-thebe to every book; its configuration points at an unrelated Binder
# repository and loads thebe from unpkg.com when a page is made live. The course offers Colab
# (its launch button and the badge) and no Binder, so the staged book leaves thebe out.
DROPPED_EXTENSIONS = ("sphinx_thebe",)
# Lines of book/intro.md that stage() replaces with what it generates from files.
INTRO_CHAPTERS = "<!-- stage: chapters -->"
INTRO_WHERE_TO_ASK = "<!-- stage: where-to-ask -->"
INTRO_CLONE = "<!-- stage: clone -->"
INTRO_MACHINE = "<!-- stage: machine -->"


def static_widgets(notebook: dict) -> dict:
    """Replace each widget output (tqdm's progress bars, sliders) with the text of its last state,
    and drop the saved widget state: a page would need the widget JavaScript from a CDN to draw
    them. A progress bar reads as tqdm prints it: 'training: 100% |██████████| 360/360 [...]'."""
    metadata = notebook.setdefault("metadata", {})
    state = (metadata.pop("widgets", None) or {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook.get("cells", []):
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                view = data.pop(WIDGET_VIEW)
                text = _widget_text(state, str(view.get("model_id", "")))
                if text:
                    data["text/plain"] = text
                if not data:
                    continue
            kept.append(output)
        if "outputs" in cell:
            cell["outputs"] = kept
    return notebook


def _widget_text(state: dict, model_id: str, depth: int = 0) -> str:
    model = state.get(model_id.removeprefix("IPY_MODEL_"))
    if not model or depth > 20:
        return ""
    values = model.get("state", {})
    if isinstance(values.get("children"), list):
        parts = [_widget_text(state, str(child), depth + 1) for child in values["children"]]
        return " ".join(p for p in parts if p)
    if model.get("model_name") in ("FloatProgressModel", "IntProgressModel"):
        low, high, value = values.get("min", 0) or 0, values.get("max", 0) or 0, values.get("value", 0) or 0
        filled = round(10 * (value - low) / (high - low)) if high > low else 0
        filled = max(0, min(10, filled))
        return "|" + "█" * filled + " " * (10 - filled) + "|"
    value = values.get("value")
    text = re.sub(r"<[^>]+>", "", str(value)) if isinstance(value, str | int | float) else ""
    text = html_escape.unescape(text).strip()
    description = str(values.get("description") or "").strip()
    return f"{description} {text}".strip()


def local_badge(notebook: dict, prefix: str = "../") -> dict:
    """Point the Colab badge of a staged chapter at the book's own copy of the badge image
    (book/_static/colab-badge.svg): the link still opens the chapter in Colab."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = text.replace(BADGE_IMAGE, prefix + LOCAL_BADGE)
    return notebook


def chapter_title(chapter: Chapter) -> str:
    """The chapter's title as its first heading gives it, without the number or '(coming next)'."""
    pattern = r"(?m)^# # (.+)$" if chapter.written else r"(?m)^# (.+)$"
    match = re.search(pattern, chapter.source.read_text())
    title = match.group(1).strip() if match else chapter.slug[3:].replace("_", " ")
    title = re.sub(r"^\d\d\s*·\s*", "", title)
    return re.sub(r"\s*\(coming next\)$", "", title)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def chapters_table(profile: str, page_runs: dict[str, dict], root: Path | None = None) -> str:
    """The landing page's table of chapters, with each chapter's time in the run this book shows
    (from timings.json, or run.json for a run of record), and the machine and dates of those runs."""
    lines = [f"| # | chapter | time in the {profile} run |", "|---|---|---|"]
    timed = []
    for chapter in chapters(root):
        title = chapter_title(chapter).replace("|", "\\|")
        target = f"../notebooks/{chapter.slug}.ipynb" if chapter.written else f"coming_next/{chapter.slug}.md"
        link = f"[{title}]({target})" if "]" not in title and "[" not in title else title
        page = page_runs.get(chapter.slug)
        if not chapter.written:
            time_cell = "coming next"
        elif page is None:
            time_cell = f"not run in the {profile} profile"
        elif page.get("status", "ok") != "ok":
            time_cell = page["status"].replace("has not finished", "did not finish")
        elif page.get("seconds") is None:
            time_cell = "not timed"
        else:
            time_cell = _duration(page["seconds"])
            timed.append(page)
        lines.append(f"| {chapter.number} | {link} | {time_cell} |")
    if not timed:
        lines.append("")
        lines.append(
            f"The chapters have not been run in the **{profile}** profile for this build, so the table shows "
            f"no times yet: `make book PROFILE={profile}` runs them and fills it in."
        )
        return "\n".join(lines) + "\n"
    total = sum(p["seconds"] for p in timed)
    written = sum(1 for c in chapters(root) if c.written)
    label = "total" if len(timed) == written else f"total of the {len(timed)} chapter{'s' * (len(timed) > 1)} timed"
    lines.append(f"|  | **{label}** | **{_duration(total)}** |")
    machines = sorted({machine_words(p.get("machine")) for p in timed} - {""})
    dates = sorted({(p.get("ended") or "")[:10] for p in timed} - {""})
    on = f" on {' and on '.join(machines)}" if machines else ""
    when = ""
    if dates:
        when = f", on {dates[0]}" if len(dates) == 1 else f", between {dates[0]} and {dates[-1]}"
    lines.append("")
    lines.append(
        f"Times are the wall-clock time of each chapter in the **{profile}** profile run that this book shows"
        f"{on}{when} (UTC). They change from machine to machine, and a second run is faster where a chapter "
        "finds its checkpoints."
    )
    return "\n".join(lines) + "\n"


def folder_bytes(folder: Path) -> int:
    """The size of the files under a folder (links not followed), 0 when it does not exist."""
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def machine_needs(profile: str, page_runs: dict[str, dict], root: Path | None = None) -> str:
    """The landing page's memory and disk lines, measured: the largest peak memory of a chapter in
    the runs this book shows (timings.json or run.json), and the size of this checkout's .venv and
    build/ folders when the book was staged."""
    root = root or course_root()
    peaks = {slug: run["peak_memory_mib"] for slug, run in page_runs.items() if run.get("peak_memory_mib")}
    gib = 2**30
    if peaks:
        largest = max(peaks, key=peaks.get)
        memory = (
            f"- **Memory**: the chapters' largest memory use in the **{profile}** runs this book shows was "
            f"{peaks[largest] / 1024:.1f} GiB (chapter {largest.split('_', 1)[0]}, the kernel and the processes "
            f"it started, sampled twice a second); the smallest chapter used {min(peaks.values()) / 1024:.1f} GiB. "
            "Leave room beside that for the system."
        )
    else:
        memory = f"- **Memory**: not measured in the **{profile}** runs this book shows."
    venv, build = folder_bytes(root / ".venv"), folder_bytes(root / "build")
    disk = (
        f"- **Disk**: the environment (`.venv/`) takes {venv / gib:.1f} GiB on the machine that built this book, "
        f"and its `build/` folder (frames, checkpoints, executed notebooks and this book) {build / gib:.1f} GiB."
        if venv
        else f"- **Disk**: `build/` (frames, checkpoints, executed notebooks and this book) takes {build / gib:.1f} "
        "GiB on the machine that built this book; the environment was not in `.venv/` there, so its size is not shown."
    )
    return f"{memory}\n{disk}\n"


def where_to_ask(root: Path | None = None) -> str:
    url = repository_url(root)
    return (
        f"Questions, mistakes and ideas are welcome on [the course's issues page]({url}/issues) "
        f"(`{url}/issues`); the sources are in [its repository]({url}).\n"
    )


def clone_block(root: Path | None = None) -> str:
    url = repository_url(root)
    return f"```bash\ngit clone {url}\ncd {url.rsplit('/', 1)[-1]}\n```\n"


def _machine_from_records(chapter: Chapter, profile: str) -> dict | None:
    """The machine a chapter's registry records name, for a run made before timings.json did."""
    for record in load_results(chapter=chapter.slug, profile=profile):
        env = record.get("environment") or {}
        if env.get("cpu"):
            return {k: env[k] for k in ("cpu", "cpu cores") if k in env}
    return None


def _ended(notebook: dict) -> str:
    return notebook.get("metadata", {}).get("papermill", {}).get("end_time") or ""


def stage(profile: str, staging: Path) -> list[str]:
    """Lay out the book's sources in `staging`, mirroring the repository (book/..., notebooks/...).

    Chapters come from build/executed/PROFILE when they were run there, or from their run of
    record (runs/PROFILE/NN_slug/, the newer of the two), else as clean notebooks (a warning names
    them); every page starts with a note naming the profile, the date and the machine. The landing
    page gets its table of chapters and times from those runs. Returns the warnings.
    """
    root = course_root()
    intro_source = (root / "book" / "intro.md").read_text()
    missing = [m for m in (INTRO_CHAPTERS, INTRO_WHERE_TO_ASK, INTRO_CLONE, INTRO_MACHINE) if m not in intro_source]
    if missing:
        raise CourseError(f"book/intro.md: the line {missing[0]} is missing; stage() writes the generated part there")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(root / "book", staging / "book", ignore=shutil.ignore_patterns("_config.yml", "_toc.yml"))
    config = yaml.safe_load((root / "book" / "_config.yml").read_text())
    config.setdefault("repository", {})["url"] = repository_url(root)
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    offline = stage_mathjax(staging)
    sphinx_config["mathjax_path"] = offline["mathjax_path"]
    sphinx_config["html_extra_path"] = [*sphinx_config.get("html_extra_path", []), *offline["html_extra_path"]]
    sphinx_config["extensions"] = book_extensions(config)
    sphinx_config["nb_ipywidgets_js"] = {}  # widgets are staged as text (static_widgets): no CDN scripts
    (staging / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    warnings = []
    entries = []
    page_runs: dict[str, dict] = {}
    executed = executed_dir(profile)
    timings = read_timings(profile)
    (staging / "notebooks").mkdir()
    for chapter in chapters(root):
        if not chapter.written:
            entries.append({"file": f"book/coming_next/{chapter.slug}"})
            continue
        source = executed / f"{chapter.slug}.ipynb"
        target = staging / "notebooks" / f"{chapter.slug}.ipynb"
        notebook = _read_executed(source)
        record = run_of_record(profile, chapter)
        use_record = record is not None and (
            _run_status(notebook) != "ok" or _ended(notebook) <= _ended(record["notebook"])
        )
        if use_record:
            notebook = record["notebook"]
        status = _run_status(notebook)
        if status == "ok":
            notebook = local_badge(static_widgets(hide_injected_parameters(notebook)))
            if use_record:
                info = record["run"]
                page_runs[chapter.slug] = {
                    "seconds": info.get("seconds"), "machine": info.get("machine"),
                    "peak_memory_mib": info.get("peak_memory_mib"),
                }  # fmt: skip
                banner = profile_banner(profile, notebook, chapter, run_info=info)
            else:
                timing = timings.get(chapter.slug) or {}
                machine = timing.get("machine") or _machine_from_records(chapter, profile)
                seconds = timing.get("seconds") if timing.get("status") == "ok" else None
                page_runs[chapter.slug] = {
                    "seconds": seconds, "machine": machine, "peak_memory_mib": timing.get("peak_memory_mib"),
                }  # fmt: skip
                banner = profile_banner(profile, notebook, chapter, machine=machine)
            page_runs[chapter.slug]["ended"] = _ended(notebook)
            target.write_text(json.dumps(_with_banner(notebook, banner), indent=1))
        else:
            if notebook is not None:
                page_runs[chapter.slug] = {"status": status, "seconds": None}
            warnings.append(f"chapter {chapter.slug} {status} in the {profile} profile: its page has no outputs")
            notebook = local_badge(json.loads(_without_glue(chapter.notebook.read_text(), chapter.number, profile)))
            banner = (
                f"```{{note}}\nThis chapter {status} in the **{profile}** profile, so this page shows no "
                f"outputs: `make book PROFILE={profile} ONLY={chapter.number}`.\n```\n"
            )
            target.write_text(json.dumps(_with_banner(notebook, banner), indent=1))
        entries.append({"file": f"notebooks/{chapter.slug}"})
    title, _, rest = intro_source.partition("\n")
    rest = rest.replace(INTRO_CHAPTERS, chapters_table(profile, page_runs, root).rstrip("\n"))
    rest = rest.replace(INTRO_WHERE_TO_ASK, where_to_ask(root).rstrip("\n"))
    rest = rest.replace(INTRO_CLONE, clone_block(root).rstrip("\n"))
    rest = rest.replace(INTRO_MACHINE, machine_needs(profile, page_runs, root).rstrip("\n"))
    (staging / "book" / "intro.md").write_text(f"{title}\n\n{profile_banner(profile)}{rest}")
    back_matter = [{"file": "book/glossary"}, {"file": "book/references"}]
    toc = {
        "format": "jb-book",
        "root": "book/intro",
        "parts": [
            {"caption": "Chapters", "chapters": entries},
            {"caption": "Back matter", "chapters": [e for e in back_matter if (root / f"{e['file']}.md").is_file()]},
        ],
    }
    (staging / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    return warnings


def book_extensions(config: dict) -> list[str]:
    """Jupyter Book's default Sphinx extensions less DROPPED_EXTENSIONS, with the bibliography's.
    (A book's sphinx.config.extensions replaces Jupyter Book's list, so the list is written whole.)"""
    from jupyter_book.config import get_default_sphinx_config

    extensions = [e for e in get_default_sphinx_config()["extensions"] if e not in DROPPED_EXTENSIONS]
    if config.get("bibtex_bibfiles"):
        extensions.append("sphinxcontrib.bibtex")
    return extensions


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


# --- checking the built pages ---------------------------------------------------------------

OFF_SITE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""(?:url\(\s*|@import\s+)['"]?((?:https?:)?//[^'")\s;]+)""", re.IGNORECASE)
# A quoted script or style sheet address inside an inline <script>: loaded later by that script
# (sphinx-thebe's THEBE_JS_URL is one).
SCRIPT_URL = re.compile(r"""["']((?:https?:)?//[^"'\s]+\.(?:m?js|css)(?:\?[^"'\s]*)?)["']""", re.IGNORECASE)
# <link rel=...> values that make the browser fetch the address (prev/next/canonical do not).
LOADING_RELS = {
    "stylesheet",
    "icon",
    "apple-touch-icon",
    "mask-icon",
    "manifest",
    "preload",
    "prefetch",
    "modulepreload",
    "preconnect",
    "dns-prefetch",
}
LOADING_ATTRIBUTES = ("src", "srcset", "poster", "data")
# pandas' signs of a cut table: the dimensions line it prints under a shortened frame, and the
# '...' cells or columns that stand for the rows and columns it left out.
CUT_TABLE = re.compile(
    r"\d+ rows × \d+ columns|\[\d+ rows x \d+ columns\]|(?m:^\s*\.\.\.(?:\s+\.\.\.)+\s*$)|\S {2,}\.\.\. {2,}\S"
)
# pandas' display.max_colwidth: a longer cell text is cut to 46 (HTML) or 47 (text) characters and '...'
PANDAS_COLWIDTH = 50
MACHINE_PATHS = ("/tmp/", "/root/", "/home/")


class _PageScan(HTMLParser):
    """One pass over a page: the addresses it loads, its inline styles and scripts, and the text
    of its output areas (div.cell_output), with the '...' cells of tables found there."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []  # '<img src="...">' snippets
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []  # local style sheet addresses, to read them too
        self.outputs: list[dict] = []  # each output area: its text, its '...' cells, its cut cell texts
        self._div_depth = 0
        self._output_at: int | None = None
        self._buffer: list[str] = []
        self._cell: list[str] | None = None
        self._raw: str | None = None  # inside <style> or <script>

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in LOADING_ATTRIBUTES:
            value = values.get(name) or ""
            if tag != "a" and any(OFF_SITE.match(part) for part in value.split(",")):
                self.loads.append(f'<{tag} {name}="{value.strip()[:120]}">')
        if tag == "link":
            rels = set((values.get("rel") or "").lower().split())
            href = values.get("href") or ""
            if rels & LOADING_RELS and OFF_SITE.match(href):
                self.loads.append(f'<link rel="{values.get("rel")}" href="{href[:120]}">')
            elif "stylesheet" in rels and href:
                self.stylesheets.append(href)
        if "style" in values and values["style"]:
            self.styles.append(values["style"])
        if tag in ("style", "script") and not values.get("src"):
            self._raw = tag
            self._buffer_raw: list[str] = []
        if tag == "div":
            self._div_depth += 1
            if self._output_at is None and "cell_output" in (values.get("class") or "").split():
                self._output_at = self._div_depth
                self._buffer = []
                self._dots, self._cut_texts = 0, []
        if self._output_at is not None and tag in ("td", "th"):
            self._cell = []
        if self._output_at is not None and tag in ("br", "tr", "p", "pre", "div"):
            self._buffer.append("\n")

    def handle_endtag(self, tag):
        if self._raw == tag:
            text = "".join(self._buffer_raw)
            (self.styles if tag == "style" else self.scripts).append(text)
            self._raw = None
        if self._cell is not None and tag in ("td", "th"):
            text = "".join(self._cell).strip()
            if text in ("...", "…"):
                self._dots += 1
            elif len(text) in (PANDAS_COLWIDTH - 1, PANDAS_COLWIDTH) and text.endswith("..."):
                self._cut_texts.append(text)
            self._cell = None
        if tag == "div":
            if self._output_at == self._div_depth:
                self.outputs.append({"text": "".join(self._buffer), "dots": self._dots, "cut": self._cut_texts})
                self._output_at = None
            self._div_depth -= 1

    def handle_data(self, data):
        if self._raw is not None:
            self._buffer_raw.append(data)
            return
        if self._output_at is not None:
            self._buffer.append(data)
            if self._cell is not None:
                self._cell.append(data)


def _snippet(text: str, start: int, end: int) -> str:
    piece = text[max(0, start - 40) : end + 40]
    return " ".join(piece.split())[:160]


def check_pages(html_dir: Path, root: Path | None = None) -> list[str]:
    """What a newcomer should not meet on a built page, one line each naming the page and the
    snippet: a resource loaded from another site (images, scripts, style sheets and icons, frames,
    CSS url(...); links a reader clicks are fine), a table pandas cut short in an output, an output
    that prints an absolute path of the build machine (the repository's, /tmp/, /root/, /home/)."""
    html_dir = Path(html_dir)
    root = Path(root) if root else course_root()
    machine_paths = [str(root.resolve()), str(root), *MACHINE_PATHS]
    findings: list[str] = []
    css_checked: dict[Path, list[str]] = {}
    pages = sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.relative_to(html_dir).parts)
    for page in pages:
        name = page.relative_to(html_dir).as_posix()
        scan = _PageScan()
        scan.feed(page.read_text(errors="replace"))
        scan.close()
        found: list[str] = [f"{name}: loads an off-site resource: {snippet}" for snippet in scan.loads]
        for style in scan.styles:
            found += [
                f"{name}: CSS loads an off-site resource: url({m.group(1)[:120]})" for m in CSS_URL.finditer(style)
            ]
        for script in scan.scripts:
            for match in SCRIPT_URL.finditer(script):
                found.append(f"{name}: a script loads an off-site resource: {match.group(1)[:120]}")
        for href in scan.stylesheets:
            sheet = (page.parent / urlsplit(href).path).resolve()
            if sheet not in css_checked:
                text = sheet.read_text(errors="replace") if sheet.is_file() else ""
                css_checked[sheet] = [m.group(1)[:120] for m in CSS_URL.finditer(text)]
            found += [
                f"{name}: style sheet {href.split('?')[0]} loads an off-site resource: {u}" for u in css_checked[sheet]
            ]
        for output in scan.outputs:
            text = output["text"]
            match = CUT_TABLE.search(text)
            if match:
                found.append(f"{name}: an output shows a cut table: {_snippet(text, match.start(), match.end())!r}")
            elif output["dots"]:
                found.append(
                    f"{name}: an output shows a cut table ({output['dots']} '...' cells): {_snippet(text, 0, 80)!r}"
                )
            if output["cut"]:
                found.append(
                    f"{name}: an output shows a table whose cells pandas cut at {PANDAS_COLWIDTH} characters: "
                    f"{output['cut'][0]!r}" + (f" and {len(output['cut']) - 1} more" if len(output["cut"]) > 1 else "")
                )
            for prefix in dict.fromkeys(machine_paths):
                at = text.find(prefix)
                if at >= 0:
                    found.append(
                        f"{name}: an output prints a path of the build machine: "
                        f"{_snippet(text, at, at + len(prefix))!r}"
                    )
                    break
        findings += list(dict.fromkeys(found))
    return findings


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
    for finding in check_pages(html, root):
        print(f"warning: {finding}", file=stream)
    print(f"book built: {html / 'index.html'}", file=stream)
    return html


# --- the benchmark: the chapters whose records are missing, then chapter 10 ---------------------

BENCH_CHAPTERS = tuple(f"{n:02d}" for n in range(2, 10))  # the chapters that score models
BENCHMARK = "10"  # the benchmark chapter, notebooks/10_*.py, which reads only the registry


def bench_plan(profile: str) -> tuple[list[Chapter], Chapter | None]:
    """What `bench` runs: the written chapters among 02-09 whose registry folder
    build/results/PROFILE/NN_slug/ holds no record, and the benchmark chapter (None while it is
    not written)."""
    if profile not in PROFILES:
        raise ProfileError(f"PROFILE={profile}: use one of {', '.join(PROFILES)}")
    everything = chapters()
    todo = [
        c
        for c in everything
        if c.written and c.number in BENCH_CHAPTERS and not any((results_dir() / profile / c.slug).glob("*.json"))
    ]
    benchmark = next((c for c in everything if c.number == BENCHMARK and c.written), None)
    return todo, benchmark


def bench(profile: str, stream=None) -> Path | None:
    """Fill the registry where it is empty, run the benchmark chapter, build the book. Returns the
    HTML folder, or None when the benchmark chapter is not written yet (it stops after the others)."""
    stream = stream or sys.stdout
    restored = restore_records(profile) if profile in RECORDED_PROFILES else []
    if restored:
        print(f"records restored from runs/{profile}/: {', '.join(restored)}", file=stream)
    todo, benchmark = bench_plan(profile)
    print(
        f"bench ({profile}): chapters without records: {', '.join(c.slug for c in todo) or 'none'}",
        file=stream,
        flush=True,
    )
    if benchmark is None:
        if todo:
            run(profile, ",".join(c.number for c in todo), stream=stream)
        print(
            f"chapter {BENCHMARK} (the benchmark) is not written yet: no notebooks/{BENCHMARK}_*.py. "
            "Stopped after the chapters it will read.",
            file=stream,
        )
        return None
    run(profile, ",".join([*(c.number for c in todo), benchmark.number]), stream=stream)
    return build(profile, stream=stream)


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
    bench_p = sub.add_parser(
        "bench", help="run chapters 02-09 that have no registry records, then the benchmark chapter, then build"
    )
    bench_p.add_argument("--profile", default="cpu", choices=PROFILES)
    sub.add_parser("sync", help="refresh setup cells and badges, then pair .py and .ipynb")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            run(args.profile, args.only, overrides=parse_overrides(args.overrides))
        elif args.command == "build":
            build(args.profile, args.out)
        elif args.command == "bench":
            bench(args.profile)
        else:
            changed = sync()
            print(f"refreshed {len(changed)} chapter(s); pairs synced")
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
