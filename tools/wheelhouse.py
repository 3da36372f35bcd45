"""Offline wheel sets, one per chapter, for GPU machines that have a CUDA PyTorch and no network.

    python -m tools.wheelhouse --only 08 [--python-version 3.12] [--out DIR] [--base FILE]
        the wheels chapter 08 needs on top of the machine's base packages, pinned to
        requirements.txt, with OUT/install.sh (pip --no-index) and OUT/manifest.json
    python -m tools.wheelhouse --check [--only 01,08] [--python-version 3.11]
        build every written chapter's set; where the target Python is this one, install each
        into a clean venv that sees only the base packages and import what the chapter imports

`make wheelhouse ONLY=NN [PYTHON_VERSION=3.12]` calls the first form. A chapter's set is what its
source (notebooks/NN_*.py) and the helpers code it can reach import, the data packages it reads
files from (data_manifest.yaml), papermill and ipykernel, closed over their requirements, less
the base packages of tools/gpu_base_packages.txt and everything those require. Like tools/book.py
this is build tooling, not part of the helpers learners import.
"""

from __future__ import annotations

import argparse
import ast
import base64
import csv
import hashlib
import importlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import urllib.request
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from helpers.course import chapters
from helpers.errors import BadInputError, CourseError, OutputExistsError, run_command

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "helpers"  # travels with the working tree (PYTHONPATH=the checkout), never as a wheel
BASE_FILE = ROOT / "tools" / "gpu_base_packages.txt"
LOCK_FILE = ROOT / "requirements.txt"
WHEELHOUSE = ROOT / "build" / "wheelhouse"
DOWNLOADS = WHEELHOUSE / ".downloads"  # every wheel fetched, shared by chapters and reruns
DEFAULT_PYTHON = "3.12"  # the course's lent GPU machine
PYTHON_VERSIONS = tuple(f"3.{minor}" for minor in range(11, 15))  # the course needs 3.11 or later
TARGET_MIB = 60.0
# Every chapter runs under papermill, which starts an ipykernel kernel.
ALWAYS = ("papermill", "ipykernel")
# Required by metadata but not needed to run a chapter, and left out (with what only they need):
# ipykernel imports debugpy inside `try ... except ImportError` (ipykernel/debugger.py: without
# it the kernel starts, only the debugger is off); IPython imports jedi only for completions,
# after checking `importlib.util.find_spec("jedi")` (IPython/core/completer.py); papermill 2.7
# requires aiohttp on Python 3.12 alone and never imports it (nothing in papermill/ names it).
DROPPED = {
    "debugpy": "ipykernel's debugger, imported only if present",
    "jedi": "IPython's completions, imported only if present",
    "aiohttp": "papermill requires it on Python 3.12 only and never imports it",
}
# manylinux tags, best first: glibc 2.28 and older (RHEL 8, Debian 10, Ubuntu 20.04 and later)
# covers current clusters and the course's GPU image (Ubuntu 24.04). pip matches each exactly.
PLATFORMS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(28, 16, -1)),
    "manylinux2014_x86_64",
    "manylinux_2_12_x86_64",
    "manylinux2010_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
)
# Chapter 08 plays pieces of music21's corpus; the wheel carries the whole corpus (most of its
# size), so the set holds a copy that keeps only the pieces named here (after the dance refactor
# the module is helpers/dance/music.py, before it helpers/music.py).
MUSIC_MODULES = ("helpers.dance.music", "helpers.music")
MUSIC21_CORPUS = "music21/corpus/"
INDEX_URL = "https://pypi.org/simple"

Requirements = Mapping[str, Sequence[str]]  # canonical distribution name -> its Requires-Dist lines


def canonical(name: str) -> str:
    return canonicalize_name(name)


def mib(size: int) -> float:
    return size / 2**20


# --- what a chapter imports ------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """What a name stands for: a module of the package, a name inside one, or an outside module."""

    kind: str  # "module" | "attr" | "external"
    module: str
    name: str = ""


@dataclass
class Unit:
    """A piece of a module that runs as a whole: its import-time code (key ""), or one top-level
    function, class (with every method) or assignment."""

    imports: set[str] = field(default_factory=set)  # top-level names of outside modules imported
    executes: set[str] = field(default_factory=set)  # package modules its imports run
    names: set[str] = field(default_factory=set)
    chains: set[tuple[str, ...]] = field(default_factory=set)  # a.b.c, read as ("a", "b", "c")
    strings: set[str] = field(default_factory=set)
    local: dict[str, Binding] = field(default_factory=dict)  # names its own imports bind


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    units: dict[str, Unit] = field(default_factory=dict)
    scope: dict[str, Binding] = field(default_factory=dict)  # names its module-level imports bind
    guards: set[str] = field(default_factory=set)  # names bound to "is package X installed?"


def _handles_import_error(node: ast.Try) -> bool:
    def names(expr: ast.expr | None) -> list[str]:
        if isinstance(expr, ast.Name):
            return [expr.id]
        if isinstance(expr, ast.Tuple):
            return [name for item in expr.elts for name in names(item)]
        return []

    return any({"ImportError", "ModuleNotFoundError"} & set(names(h.type)) for h in node.handlers)


def _is_presence_test(test: ast.expr, guards: set[str] = frozenset()) -> bool:
    """`importlib.util.find_spec("x") is not None` (or the bare call, or a name bound to either):
    a test that a package is installed, whose `if` body runs only where it is."""
    if isinstance(test, ast.Name):
        return test.id in guards
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.IsNot):
        other = test.comparators[0]
        if isinstance(other, ast.Constant) and other.value is None:
            test = test.left
    if not isinstance(test, ast.Call) or not test.args or not isinstance(test.args[0], ast.Constant):
        return False
    func = test.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name == "find_spec" and isinstance(test.args[0].value, str)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _UnitVisitor(ast.NodeVisitor):
    """Collects one unit's imports, names, attribute chains and strings. An outside import under
    `try: ... except ImportError` or `if TYPE_CHECKING:` is optional and not counted."""

    def __init__(self, module: Module, unit: Unit, bindings: dict[str, Binding], known: set[str], strings: bool = True):
        self.module, self.unit, self.bindings, self.known = module, unit, bindings, known
        self.collect_strings = strings
        self.optional = 0
        self.absent = 0  # inside `if <package X is installed>:`: nothing there is needed

    def _absolute(self, node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module
        if self.module.name not in self.known:  # a relative import outside the package (the chapter)
            return None
        parts = self.module.name.split(".") if self.module.is_package else self.module.name.split(".")[:-1]
        if node.level - 1 > len(parts) - 1:
            return None
        parts = parts[: len(parts) - (node.level - 1)]
        return ".".join([*parts, node.module] if node.module else parts)

    def _outside(self, top: str, bound: str) -> None:
        if not (self.optional or self.absent):
            self.unit.imports.add(top)
        self.bindings[bound] = Binding("external", top)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top != PACKAGE:
                self._outside(top, alias.asname or top)
                continue
            if alias.name in self.known and not self.absent:
                self.unit.executes.add(alias.name)
            self.bindings[alias.asname or top] = Binding("module", alias.name if alias.asname else top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node)
        if not base or base == "__future__":
            return
        top = base.split(".")[0]
        for alias in node.names:
            bound = alias.asname or alias.name
            if top != PACKAGE:
                self._outside(top, bound)
                continue
            submodule = f"{base}.{alias.name}"
            if self.absent:
                continue
            if submodule in self.known:
                self.unit.executes.add(submodule)
                self.bindings[bound] = Binding("module", submodule)
            else:
                if base in self.known:
                    self.unit.executes.add(base)
                if alias.name != "*":
                    self.bindings[bound] = Binding("attr", base, alias.name)

    def _optional_body(self, body: list[ast.stmt]) -> None:
        self.optional += 1
        for stmt in body:
            self.visit(stmt)
        self.optional -= 1

    def visit_Try(self, node: ast.Try) -> None:
        if not _handles_import_error(node):
            self.generic_visit(node)
            return
        self._optional_body(node.body)
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        if _is_presence_test(node.test, self.module.guards):
            self.absent += 1  # runs only where the package is installed: needs nothing of its own
            for stmt in node.body:
                self.visit(stmt)
            self.absent -= 1
            for stmt in node.orelse:
                self.visit(stmt)
            return
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._optional_body(node.body)
        for stmt in node.orelse:
            self.visit(stmt)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and not self.absent:  # a use; `X = ...` at module level is X's own unit
            self.unit.names.add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts: list[str] = []
        inner: ast.expr = node
        while isinstance(inner, ast.Attribute):
            parts.append(inner.attr)
            inner = inner.value
        if isinstance(inner, ast.Name) and not self.absent:
            self.unit.chains.add((inner.id, *reversed(parts)))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if self.collect_strings and isinstance(node.value, str) and not self.absent:
            self.unit.strings.add(node.value)


def _assigned_names(stmt: ast.stmt) -> list[str] | None:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
    names: list[str] = []
    for target in targets:
        elements = target.elts if isinstance(target, ast.Tuple) else [target]
        if not all(isinstance(item, ast.Name) for item in elements):
            return None
        names += [item.id for item in elements]
    return names or None


def parse_module(name: str, path: Path, is_package: bool, known: set[str]) -> Module:
    """Split a module into units: its import-time code, and each top-level def, class and
    assignment. An assignment's strings belong to its name (read only where the name is used);
    its references run at import."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise BadInputError(f"{path}:{exc.lineno}: not valid Python ({exc.msg}); fix it first") from None
    module = Module(name, path, is_package)
    for stmt in tree.body:  # names bound to a presence test, for `if HAVE_X:` further down
        if isinstance(stmt, ast.Assign) and _is_presence_test(stmt.value):
            module.guards |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    top = module.units[""] = Unit()
    at_import = _UnitVisitor(module, top, module.scope, known)
    at_import_no_strings = _UnitVisitor(module, top, module.scope, known, strings=False)
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            unit = module.units.setdefault(stmt.name, Unit())
            for expr in stmt.decorator_list:
                at_import.visit(expr)
            _UnitVisitor(module, unit, unit.local, known).visit(stmt)
        elif (names := _assigned_names(stmt)) is not None:
            at_import_no_strings.visit(stmt)
            value = stmt.value
            strings = {n.value for n in ast.walk(value) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
            for target in names:
                module.units.setdefault(target, Unit()).strings |= strings if value is not None else set()
        else:
            at_import.visit(stmt)
    return module


def load_package(root: Path, package: str = PACKAGE) -> dict[str, Module]:
    """Every module of the package under root (root/package/**/*.py), by dotted name."""
    files = sorted((root / package).rglob("*.py"))
    names = {}
    for path in files:
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        names[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    known = set(names)
    return {name: parse_module(name, path, is_package, known) for name, (path, is_package) in names.items()}


@dataclass
class Scan:
    modules: set[str]  # top-level names of the outside modules the reachable code imports
    helpers: set[str]  # package modules it runs
    reached: set[tuple[str, str]]  # (module, unit)
    strings: set[str]


CHAPTER = "__chapter__"
_MODULE_NAME = re.compile(rf"{PACKAGE}(\.[A-Za-z_]\w*)+")


class _Reach:
    """Walks from the chapter to every unit of the package it can run: a name or attribute chain
    that resolves to a package function, class or assignment reaches that unit; a unit reaches its
    module's import-time code (and its packages'); a string naming a package module
    (`python -m helpers.dance`) reaches all of it and its __main__."""

    def __init__(self, modules: dict[str, Module]):
        self.modules = modules
        self.seen: set[tuple[str, str]] = set()
        self.todo: deque[tuple[str, str]] = deque()
        self.imports: set[str] = set()
        self.strings: set[str] = set()

    def reach(self, module: str, unit: str = "") -> None:
        found = self.modules.get(module)
        if found is None or unit not in found.units or (module, unit) in self.seen:
            return
        self.seen.add((module, unit))
        self.todo.append((module, unit))

    def reach_all(self, module: str) -> None:
        for unit in self.modules.get(module, Module(module, Path(), False)).units:
            self.reach(module, unit)

    def reach_name(self, module: str, name: str) -> None:
        found = self.modules[module]
        if name in found.units:
            self.reach(module, name)
        elif f"{module}.{name}" in self.modules:
            self.reach(f"{module}.{name}")
        elif name in found.scope:  # a name the module imports from elsewhere and passes on
            self.reach_binding(found.scope[name])
        else:
            self.reach(module)

    def reach_binding(self, binding: Binding) -> None:
        if binding.kind == "module":
            self.reach(binding.module)
        elif binding.kind == "attr" and binding.module in self.modules:
            self.reach_name(binding.module, binding.name)

    def reach_chain(self, chain: tuple[str, ...], bindings: Mapping[str, Binding]) -> None:
        binding = bindings.get(chain[0])
        if binding is None or binding.kind != "module":
            return
        module, rest = binding.module, list(chain[1:])
        while rest and f"{module}.{rest[0]}" in self.modules:
            module = f"{module}.{rest.pop(0)}"
        self.reach(module)
        if rest and module in self.modules:
            self.reach_name(module, rest[0])

    def run(self) -> None:
        while self.todo:
            name, unit_name = self.todo.popleft()
            module, unit = self.modules[name], self.modules[name].units[unit_name]
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                self.reach(".".join(parts[:end]))
            self.imports |= unit.imports
            self.strings |= unit.strings
            for executed in unit.executes:
                self.reach(executed)
            bindings = {**module.scope, **unit.local}
            for used in unit.names:
                if used in bindings:
                    self.reach_binding(bindings[used])
                elif used in module.units:
                    self.reach(name, used)
            for chain in unit.chains:
                self.reach_chain(chain, bindings)
            for text in unit.strings:
                if _MODULE_NAME.fullmatch(text) and text in self.modules:
                    self.reach_all(text)
                    self.reach_all(f"{text}.__main__")


def scan_chapter(source: Path, root: Path) -> Scan:
    """What a chapter's source can import when it runs: its own imports, and those of every unit
    of the helpers package it can reach, lazy (inside functions) and relative ones included."""
    modules = load_package(root)
    modules[CHAPTER] = parse_module(CHAPTER, source, False, set(modules))
    walk = _Reach(modules)
    walk.reach_all(CHAPTER)
    walk.run()
    helpers = {module for module, _ in walk.seen if module != CHAPTER}
    return Scan({m for m in walk.imports if m != PACKAGE}, helpers, walk.seen, walk.strings)


# --- data packages ---------------------------------------------------------------------------


def data_packages(scan: Scan, manifest: Mapping[str, Mapping], profile_strings: set[str]) -> dict[str, list[str]]:
    """Packages the chapter reads files from (never imports): package -> the data sets it reads.
    A package_file entry counts when its name is a string the chapter's reachable code or its
    profiles hold; a procedural one also when its generator function is reached."""
    named = scan.strings | profile_strings
    found: dict[str, list[str]] = {}
    for name, entry in manifest.items():
        if entry.get("kind") == "package_file":
            package = entry.get("package")
        elif entry.get("kind") == "procedural":
            package = (entry.get("source") or {}).get("package")
        else:
            continue
        generator = str(entry.get("generator", ""))
        reached = tuple(generator.rsplit(".", 1)) in scan.reached if "." in generator else False
        if package and (name in named or reached):
            found.setdefault(canonical(package), []).append(name)
    return found


def profile_strings(root: Path, number: str) -> set[str]:
    """String values the profiles give this chapter (a parameter can name a clip)."""
    values: set[str] = set()
    for path in sorted((root / "notebooks" / "profiles").glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        for block in (data.get("common") or {}, data.get(number) or {}):
            values |= {v for v in block.values() if isinstance(v, str)}
    return values


def read_manifest(root: Path) -> dict[str, Mapping]:
    path = root / "data_manifest.yaml"
    return (yaml.safe_load(path.read_text()) or {}).get("datasets") or {} if path.is_file() else {}


# --- distributions and their requirements ----------------------------------------------------


def installed_requirements() -> dict[str, list[str]]:
    """The Requires-Dist lines of every distribution installed here (the project venv)."""
    table: dict[str, list[str]] = {}
    for dist in metadata.distributions():
        table.setdefault(canonical(dist.metadata["Name"]), list(dist.requires or []))
    return table


def marker_environment(python_version: str) -> dict[str, str]:
    """PEP 508 marker values of CPython `python_version` on Linux x86_64."""
    full = f"{python_version}.0"
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": full,
        "python_version": python_version,
        "sys_platform": "linux",
        "extra": "",
    }


def _applies(marker: Marker | None, env: Mapping[str, str], extra: str) -> bool:
    if extra == "":
        return marker is None or marker.evaluate({**env, "extra": ""})
    return marker is not None and marker.evaluate({**env, "extra": extra}) and not marker.evaluate({**env, "extra": ""})


def closure(
    roots: Iterable[str], table: Requirements, env: Mapping[str, str], stop: Iterable[str] = ()
) -> dict[str, str]:
    """Every distribution the roots need (requirement strings, extras allowed), with the one that
    first required it ("" for a root). Nothing is followed into `stop`. A requirement that is not
    in the table (not installed in the venv) is an error: its own requirements are unknown."""
    stop = {canonical(name) for name in stop}
    found: dict[str, str] = {}
    todo: deque[tuple[str, str, str]] = deque()  # (name, extra, required by)
    for root in roots:
        requirement = Requirement(root)
        todo.append((canonical(requirement.name), "", ""))
        todo.extend((canonical(requirement.name), extra, "") for extra in requirement.extras)
    done: set[tuple[str, str]] = set()
    unknown: dict[str, str] = {}
    while todo:
        name, extra, parent = todo.popleft()
        if (name, extra) in done or name in stop:
            continue
        done.add((name, extra))
        found.setdefault(name, parent)
        if name not in table:
            unknown.setdefault(name, parent)
            continue
        for line in table[name]:
            requirement = Requirement(line)
            if not _applies(requirement.marker, env, extra):
                continue
            child = canonical(requirement.name)
            todo.append((child, "", name))
            todo.extend((child, e, name) for e in requirement.extras)
    if unknown:
        listed = ", ".join(
            f"{name} (required by {parent or 'the chapter'})" for name, parent in sorted(unknown.items())
        )
        raise CourseError(
            f"not installed in the project venv, so their requirements on Python {env['python_version']} "
            f"are unknown: {listed}; "
            "add them to requirements.in and run make lock"
        )
    return found


def read_base(path: Path) -> list[str]:
    if not path.is_file():
        raise BadInputError(f"{path}: no such base-package list")
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [canonical(line) for line in lines if line]


def base_closure(base: Iterable[str], table: Requirements, env: Mapping[str, str]) -> set[str]:
    """The base packages and everything they require; a base name not installed here counts as
    present, without requirements of its own."""
    base = set(base)
    return base | set(closure(sorted(base & set(table)), table, env))


def chapter_set(roots: Iterable[str], table: Requirements, env: Mapping[str, str], present: set[str]) -> dict[str, str]:
    """The distributions to ship: the roots' closure less what is present and what DROPPED names."""
    skip = present | set(DROPPED)
    wanted = [root for root in roots if canonical(Requirement(root).name) not in skip]
    return {name: parent for name, parent in closure(wanted, table, env, stop=skip).items() if name not in skip}


def module_distributions(
    modules: Iterable[str], providers: Mapping[str, Sequence[str]], present: set[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Top-level module -> the distributions that provide it (all of them present, when one is:
    cv2 comes from opencv-python or opencv-python-headless); standard-library modules are left out.
    Also returns the modules no installed distribution provides."""
    found: dict[str, list[str]] = {}
    missing: list[str] = []
    for module in sorted(modules):
        if module in sys.stdlib_module_names or module == PACKAGE:
            continue
        names = sorted({canonical(name) for name in providers.get(module, [])})
        if not names:
            missing.append(module)
            continue
        found[module] = [n for n in names if n in present] or names
    return found, missing


def read_lock(path: Path) -> dict[str, str]:
    """requirements.txt's pins: canonical name -> version."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#\\]+)", line)
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


# --- wheels ----------------------------------------------------------------------------------


def supported_tags(python_version: str) -> list[Tag]:
    """The wheel tags CPython `python_version` on manylinux x86_64 accepts, best first."""
    version = tuple(int(part) for part in python_version.split("."))
    interpreter = f"cp{version[0]}{version[1]}"
    return [
        *cpython_tags(version, abis=[interpreter], platforms=PLATFORMS),
        *compatible_tags(version, interpreter=interpreter, platforms=PLATFORMS),
    ]


def pick_wheel(folder: Path, name: str, version: str, tags: Sequence[Tag]) -> Path | None:
    """The best wheel of name==version in folder for these tags."""
    rank = {tag: position for position, tag in enumerate(tags)}
    best: tuple[int, Path] | None = None
    for path in folder.glob("*.whl"):
        try:
            wheel_name, wheel_version, _, wheel_tags = parse_wheel_filename(path.name)
        except ValueError:
            continue
        if wheel_name != name or wheel_version != Version(version):
            continue
        score = min((rank[tag] for tag in wheel_tags if tag in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, path)
    return best[1] if best else None


def index_files(name: str) -> list[str]:
    """File names the package index holds for a project (one request to its simple API)."""
    url = f"{os.environ.get('PIP_INDEX_URL', INDEX_URL).rstrip('/')}/{name}/"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return [item["filename"] for item in json.load(response)["files"]]


def explain_missing_wheel(name: str, version: str, python_version: str, files: Sequence[str] | None) -> str:
    """Why pip found no wheel of name==version for the target, from the index's file list."""
    target = f"CPython {python_version} on Linux x86_64 (manylinux, glibc 2.28 or older)"
    if files is None:
        return f"{name}=={version}: pip found no wheel for {target}"
    wheels, sdists = [], []
    for filename in files:
        try:
            if filename.endswith(".whl"):
                _, found, _, tags = parse_wheel_filename(filename)
                if found == Version(version):
                    wheels.append(sorted(str(tag) for tag in tags)[0])
            elif parse_sdist_filename(filename)[1] == Version(version):
                sdists.append(filename)
        except ValueError:
            continue
    if not wheels and sdists:
        return (
            f"{name}=={version} is an sdist-only package (no wheel on the index): build one with "
            f"`pip wheel --no-deps {name}=={version}` on Linux x86_64 with Python {python_version} and add it"
        )
    if not wheels:
        return f"{name}=={version}: no such release on the index"
    return f"{name}=={version} has no wheel for {target}; its wheels: {', '.join(sorted(set(wheels)))}"


def download(
    pins: Mapping[str, str],
    python_version: str,
    folder: Path,
    files_of: Callable[[str], list[str]] = index_files,
) -> dict[str, Path]:
    """Fetch one wheel per pinned distribution into folder (pip download --no-deps, binary only,
    for the target Python and platform); returns name -> wheel. An sdist-only package or one
    without a wheel for the target is an error naming it."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"]
    command += ["--only-binary=:all:", "--python-version", python_version, "--implementation", "cp"]
    command += [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    command += ["-d", str(folder), *(f"{name}=={version}" for name, version in sorted(pins.items()))]
    print(f"downloading {len(pins)} wheels for Python {python_version} (pip download) ...", file=sys.stderr)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        pattern = r"(?:No matching distribution found for|satisfies the requirement) ([A-Za-z0-9._-]+)==([^\s()]+)"
        match = re.search(pattern, result.stderr + result.stdout)
        if not match:
            last = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()][-1:]
            raise CourseError(f"pip download failed: {last[0] if last else 'no message'}")
        name, version = match.groups()
        try:
            files = files_of(canonical(name))
        except (OSError, ValueError, KeyError):
            files = None
        raise CourseError(explain_missing_wheel(name, version, python_version, files))
    tags = supported_tags(python_version)
    wheels: dict[str, Path] = {}
    for name, version in pins.items():
        wheel = pick_wheel(folder, name, version, tags)
        if wheel is None:
            raise CourseError(explain_missing_wheel(name, version, python_version, None))
        wheels[name] = wheel
    return wheels


def record_hash(data: bytes) -> str:
    """A RECORD hash: sha256, urlsafe base64 without padding (the wheel spec, PEP 376)."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def trim_wheel(source: Path, target: Path, keep: Callable[[str], bool]) -> list[str]:
    """Copy a wheel keeping only the files `keep` accepts, with a RECORD rewritten to match (hash
    and size of every file; signatures dropped). Returns the files left out."""
    dropped: list[str] = []
    rows: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(source) as wheel_in:
        records = [n for n in wheel_in.namelist() if re.fullmatch(r"[^/]+\.dist-info/RECORD", n)]
        if len(records) != 1:
            raise BadInputError(f"{source}: not a wheel (no single .dist-info/RECORD)")
        record = records[0]
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel_out:
            for info in wheel_in.infolist():
                if info.filename == record or info.filename.endswith(("/RECORD.jws", "/RECORD.p7s")):
                    continue
                if not keep(info.filename):
                    dropped.append(info.filename)
                    continue
                data = wheel_in.read(info)
                wheel_out.writestr(info, data)
                if not info.is_dir():
                    rows.append((info.filename, record_hash(data), str(len(data))))
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows([*rows, (record, "", "")])
            wheel_out.writestr(zipfile.ZipInfo(record, date_time=(1980, 1, 1, 0, 0, 0)), text.getvalue())
    return dropped


def check_record(wheel: Path) -> None:
    """Raise unless every file in the wheel is in its RECORD with the right hash and size."""
    with zipfile.ZipFile(wheel) as archive:
        record = next(n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/RECORD", n))
        rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(archive.read(record).decode())) if row}
        for info in archive.infolist():
            if info.is_dir() or info.filename == record:
                continue
            data = archive.read(info)
            if rows.get(info.filename) != [record_hash(data), str(len(data))]:
                raise CourseError(f"{wheel}: RECORD does not match {info.filename}")
        if set(rows) - {n for n in archive.namelist() if not n.endswith("/")}:
            raise CourseError(f"{wheel}: RECORD lists files the wheel lacks")


@dataclass(frozen=True)
class CorpusPiece:
    source: str  # music21 corpus id, e.g. "chopin/mazurka06-2"
    number: int | None


def corpus_pieces() -> list[CorpusPiece]:
    """The music21 corpus pieces the dance chapter plays (CORPUS_PIECES of its music module)."""
    for name in MUSIC_MODULES:
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) is None:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        return [CorpusPiece(piece.source, piece.number) for piece in module.CORPUS_PIECES]
    raise CourseError(f"no music module with CORPUS_PIECES ({' or '.join(MUSIC_MODULES)})")


def corpus_files(pieces: Iterable[CorpusPiece]) -> set[str]:
    """The files music21 opens for these pieces (corpus.getWork in the project venv), as paths
    inside its wheel (music21/corpus/...)."""
    from music21 import corpus

    site = Path(importlib.util.find_spec("music21").origin).parents[1]
    found: set[str] = set()
    for piece in pieces:
        paths = corpus.getWork(piece.source)
        for path in paths if isinstance(paths, list) else [paths]:
            found.add(Path(path).resolve().relative_to(site.resolve()).as_posix())
    return found


def keep_corpus(files: set[str]) -> Callable[[str], bool]:
    """Keep everything outside music21/corpus/, the corpus package's own modules and licence, and
    the named pieces; drop the other pieces and the metadata cache of the whole corpus."""

    def keep(name: str) -> bool:
        if not name.startswith(MUSIC21_CORPUS):
            return True
        return "/" not in name[len(MUSIC21_CORPUS) :] or name in files

    return keep


# --- the wheelhouse --------------------------------------------------------------------------


@dataclass
class Plan:
    chapter: str
    source: Path
    python_version: str
    modules: dict[str, list[str]]  # outside module -> distributions
    helpers: list[str]
    data: dict[str, list[str]]  # data package -> data sets read
    needed: dict[str, str]  # distribution -> the one that required it ("" for a root)
    pins: dict[str, str]


def written_chapter(only: str | None, root: Path) -> tuple[str, Path]:
    written = {c.number: c.source for c in chapters(root) if c.written}
    if not only:
        raise BadInputError(f"--only: which chapter? give one of {', '.join(sorted(written))} (notebooks/NN_*.py)")
    number = only.strip().zfill(2)
    if number not in written:
        raise BadInputError(f"--only {only}: no written chapter {number}; written: {', '.join(sorted(written))}")
    return number, written[number]


def check_python_version(python_version: str) -> str:
    if python_version not in PYTHON_VERSIONS:
        raise BadInputError(
            f"--python-version {python_version!r}: use one of {', '.join(PYTHON_VERSIONS)} (major.minor; "
            "the course needs Python 3.11 or later)"
        )
    return python_version


def plan(
    number: str,
    source: Path,
    python_version: str,
    *,
    root: Path = ROOT,
    base_file: Path = BASE_FILE,
    lock_file: Path = LOCK_FILE,
    table: Requirements | None = None,
    providers: Mapping[str, Sequence[str]] | None = None,
) -> Plan:
    """What chapter `number` needs beyond the base packages, pinned to the lock."""
    table = installed_requirements() if table is None else table
    providers = metadata.packages_distributions() if providers is None else providers
    env = marker_environment(python_version)
    present = base_closure(read_base(base_file), table, env)
    scan = scan_chapter(source, root)
    modules, missing = module_distributions(scan.modules, providers, present)
    if missing:
        raise CourseError(
            f"chapter {number} imports {', '.join(missing)}, which no distribution in the project venv "
            "provides; add the package to requirements.in and run make lock"
        )
    data = data_packages(scan, read_manifest(root), profile_strings(root, number))
    roots = sorted({d for names in modules.values() for d in names} | set(data) | set(ALWAYS))
    needed = chapter_set(roots, table, env, present)
    lock = read_lock(lock_file)
    unpinned = sorted(name for name in needed if name not in lock)
    if unpinned:
        listed = ", ".join(f"{name} (required by {needed[name] or 'the chapter'})" for name in unpinned)
        raise CourseError(
            f"not pinned in {lock_file.name}: {listed} on Python {python_version}; "
            "add them to requirements.in and run make lock"
        )
    return Plan(
        number,
        source,
        python_version,
        modules,
        sorted(scan.helpers),
        data,
        needed,
        {name: lock[name] for name in sorted(needed)},
    )


INSTALL_SH = """#!/bin/sh
# Chapter {chapter} ({slug}): the wheels it needs on CPython {python} on Linux x86_64, without network.
# Made by `make wheelhouse ONLY={chapter} PYTHON_VERSION={python}` (tools/wheelhouse.py).
{base}
# Run: PYTHON=/path/to/the/python/with/torch sh install.sh [extra pip options, e.g. --target DIR]
# then the chapter with PYTHONPATH=the course checkout (the helpers package travels as source).
set -e
here="$(dirname "$0")"
"${{PYTHON:-python3}}" -m pip install --no-index --no-deps --find-links "$here" "$@" \\
{wheels}
"""


def write_install_script(folder: Path, plan_: Plan, wheels: Sequence[Path], base: Sequence[str]) -> Path:
    path = folder / "install.sh"
    lines = " \\\n".join(f'  "$here/{wheel.name}"' for wheel in sorted(wheels, key=lambda p: p.name.lower()))
    path.write_text(
        INSTALL_SH.format(
            chapter=plan_.chapter,
            slug=plan_.source.stem,
            python=plan_.python_version,
            base=textwrap.fill(
                f"The base packages must already be there: {', '.join(base)}, and what they require "
                "(tools/gpu_base_packages.txt); these wheels add only the rest, pinned to requirements.txt.",
                width=98,
                initial_indent="# ",
                subsequent_indent="# ",
            ),
            wheels=lines,
        )
    )
    path.chmod(0o755)
    return path


def _replace_folder(temporary: Path, out: Path) -> None:
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        temporary.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        temporary.rename(out)


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").is_file())):
        raise OutputExistsError(
            f"--out {out}: exists and is not a wheelhouse (no manifest.json); choose another folder"
        )


@dataclass
class Built:
    plan: Plan
    out: Path
    wheels: dict[str, Path]
    total: int
    trimmed: dict[str, int]  # distribution -> bytes saved


def build(
    number: str, source: Path, python_version: str, out: Path, base_file: Path = BASE_FILE, downloads: Path = DOWNLOADS
) -> Built:
    """Write chapter `number`'s wheelhouse to `out` (built next to it, renamed at the end)."""
    _check_out(out)
    plan_ = plan(number, source, python_version, base_file=base_file)
    created = [parent for parent in reversed(out.parents) if not parent.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    temporary.chmod(0o755)
    try:
        fetched = download(plan_.pins, python_version, downloads)
        wheels: dict[str, Path] = {}
        trimmed: dict[str, int] = {}
        kept_corpus: list[str] = []
        for name, wheel in fetched.items():
            target = temporary / wheel.name
            if name == "music21":
                pieces = corpus_files(corpus_pieces())
                trim_wheel(wheel, target, keep_corpus(pieces))
                check_record(target)
                with zipfile.ZipFile(target) as archive:
                    lacking = sorted(pieces - set(archive.namelist()))
                if lacking:
                    raise CourseError(
                        f"{wheel.name} lacks the corpus files {', '.join(lacking)}; is the venv's music21 the lock's?"
                    )
                trimmed[name] = wheel.stat().st_size - target.stat().st_size
                kept_corpus = sorted(pieces)
            else:
                try:
                    os.link(wheel, target)
                except OSError:
                    shutil.copy2(wheel, target)
            wheels[name] = target
        total = sum(path.stat().st_size for path in wheels.values())
        write_install_script(temporary, plan_, list(wheels.values()), read_base(base_file))
        manifest = {
            "chapter": number,
            "notebook": plan_.source.relative_to(ROOT).as_posix() if plan_.source.is_relative_to(ROOT) else str(source),
            "python_version": python_version,
            "platforms": list(PLATFORMS),
            "base": read_base(base_file),
            "dropped": DROPPED,
            "modules": plan_.modules,
            "data_packages": plan_.data,
            "distributions": [
                {
                    "name": name,
                    "version": plan_.pins[name],
                    "file": wheels[name].name,
                    "bytes": wheels[name].stat().st_size,
                    "required_by": plan_.needed[name] or None,
                    **({"trimmed_bytes": trimmed[name]} if name in trimmed else {}),
                }
                for name in sorted(wheels)
            ],
            "total_bytes": total,
            "total_mib": round(mib(total), 2),
            **({"music21_corpus_kept": kept_corpus} if kept_corpus else {}),
        }
        (temporary / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        _replace_folder(temporary, out)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        for parent in reversed(created):
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
        raise
    return Built(plan_, out, {name: out / path.name for name, path in wheels.items()}, total, trimmed)


def summary(built: Built) -> str:
    over = f" (over the {TARGET_MIB:.0f} MiB target)" if mib(built.total) > TARGET_MIB else ""
    return (
        f"chapter {built.plan.chapter}: {len(built.wheels)} wheels, {mib(built.total):.1f} MiB{over}, "
        f"Python {built.plan.python_version} -> {built.out / 'install.sh'}"
    )


# --- the check: install each set into a venv that has only the base packages ------------------

CHECK_SCRIPT = r"""
import importlib, json, sys, warnings
warnings.simplefilter("ignore")
spec = json.loads(sys.argv[1])
for name in spec["modules"]:
    importlib.import_module(name)
from helpers import manifest
for name in spec["datasets"]:
    manifest.resolve(name)
if spec["pieces"]:
    from music21 import corpus
    for source, number in spec["pieces"]:
        corpus.parse(source, number=number)
from jupyter_client.manager import start_new_kernel
kernel, client = start_new_kernel(kernel_name="python3", startup_timeout=120)
try:
    reply = client.execute_interactive("import helpers, papermill", timeout=120)
    assert reply["content"]["status"] == "ok", reply["content"]
finally:
    client.stop_channels()
    kernel.shutdown_kernel(now=True)
counts = (len(spec["modules"]), len(spec["datasets"]), len(spec["pieces"]))
print("imports ok: %d modules, %d data sets, %d corpus pieces, the kernel starts" % counts)
"""


def base_site(folder: Path, present: set[str]) -> Path:
    """A folder of links to the installed files of the base packages (and pip, which install.sh
    runs) from this venv, and nothing else."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    seen: set[str] = set()
    for dist in metadata.distributions():
        name = canonical(dist.metadata["Name"])
        if name in seen or name not in present | {"pip"}:
            continue
        seen.add(name)
        for file in dist.files or []:
            if file.parts[0] == "..":
                continue
            target = folder / file
            if target.exists() or target.is_symlink():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(Path(dist.locate_file(file)))
    return folder


def check_chapter(built: Built, site: Path, work: Path) -> str:
    """Install the set into a fresh venv that sees only `site` and run CHECK_SCRIPT there."""
    venv = work / f"venv-{built.plan.chapter}"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "_course_base.pth").write_text(f"import site; site.addsitedir({str(site)!r})\n")
    env = {**os.environ, "PYTHON": str(python), "PYTHONPATH": str(ROOT), "PIP_NO_INDEX": "1"}
    env.pop("PIP_FIND_LINKS", None)
    try:
        install = subprocess.run(
            ["sh", str(built.out / "install.sh"), "--quiet", "--no-compile"], env=env, capture_output=True, text=True
        )
        if install.returncode:
            return "FAIL install: " + _last_line(install.stderr + install.stdout)
        modules = sorted(set(built.plan.modules) | {m for m in built.plan.helpers if not m.endswith("__main__")})
        modules += [m for m in ALWAYS if m not in modules]
        datasets = sorted({name for names in built.plan.data.values() for name in names})
        pieces = [[p.source, p.number] for p in corpus_pieces()] if "music21" in built.wheels else []
        spec = json.dumps({"modules": modules, "datasets": datasets, "pieces": pieces})
        result = subprocess.run(
            [python, "-c", CHECK_SCRIPT, spec], env=env, capture_output=True, text=True, cwd=work, timeout=900
        )
        if result.returncode:
            return "FAIL import: " + _last_line(result.stderr + result.stdout)
        return "OK " + _last_line(result.stdout)
    finally:
        shutil.rmtree(venv, ignore_errors=True)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def check(only: str | None, python_version: str, base_file: Path = BASE_FILE) -> list[str]:
    """Build every written chapter's set (or those of `only`, comma-separated) under
    build/wheelhouse/check/; where python_version is this interpreter's, install and import each."""
    written = [c for c in chapters(ROOT) if c.written]
    if only:
        wanted = [written_chapter(part, ROOT)[0] for part in only.split(",") if part.strip()]
        written = [c for c in written if c.number in wanted]
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    work = WHEELHOUSE / "check" / f"py{python_version}"
    site = None
    if python_version == here:
        table = installed_requirements()
        site = base_site(work / "base-site", base_closure(read_base(base_file), table, marker_environment(here)))
    rows = [f"{'chapter':8} {'wheels':>6} {'MiB':>7}  check (Python {python_version})"]
    for chapter in written:
        try:
            built = build(chapter.number, chapter.source, python_version, work / chapter.number, base_file)
        except CourseError as exc:
            rows.append(f"{chapter.number:8} {'-':>6} {'-':>7}  FAIL build: {exc}")
            print(rows[-1], file=sys.stderr)
            continue
        flag = "  (over target)" if mib(built.total) > TARGET_MIB else ""
        if site is None:
            result = (
                f"download OK: every wheel exists for Python {python_version} (no such interpreter here to install)"
            )
        else:
            result = check_chapter(built, site, work)
        rows.append(f"{chapter.number:8} {len(built.wheels):>6} {mib(built.total):>7.1f}  {result}{flag}")
        print(rows[-1], file=sys.stderr)
    if site is not None:
        shutil.rmtree(site, ignore_errors=True)
    return rows


# --- command line ----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, like every other refusal of the course
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m tools.wheelhouse", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="the chapter, e.g. 08 (with --check: a comma-separated list; default all)")
    parser.add_argument("--python-version", default=DEFAULT_PYTHON, help=f"target CPython (default {DEFAULT_PYTHON})")
    parser.add_argument("--out", type=Path, help="output folder (default build/wheelhouse/NN/)")
    parser.add_argument("--base", type=Path, default=BASE_FILE, help="the base-package list (default %(default)s)")
    parser.add_argument("--check", action="store_true", help="build every chapter's set and test it in a clean venv")
    args = parser.parse_args(argv)

    def work() -> None:
        python_version = check_python_version(args.python_version)
        if args.check:
            rows = check(args.only, python_version, args.base)
            print("\n".join(rows))
            failed = [row.split()[0] for row in rows[1:] if "FAIL" in row]
            if failed:
                raise CourseError(f"chapter(s) {', '.join(failed)} failed the check (the table above says why)")
            return
        number, source = written_chapter(args.only, ROOT)
        built = build(number, source, python_version, args.out or WHEELHOUSE / number, args.base)
        print(summary(built))

    return run_command(work, interrupted="the output folder was left as it was")


if __name__ == "__main__":
    sys.exit(main())
