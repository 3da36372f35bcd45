"""The data manifest: every data set the course can read, where it lives, and its checksum.

`resolve(name)` turns an entry of data_manifest.yaml into a checked local file. Files that a
Python package carries are found through the package's own file list, without importing it.
External sets are downloaded only by `fetch(name)` and fail with instructions when offline.
Chapter 01 walks through the manifest.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from .errors import BadInputError, ChecksumError, DataUnavailableError
from .runtime import atomic_path, build_dir, course_root

KINDS = ("package_file", "procedural", "external", "user")
UNPINNED = "unpinned"


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    description: str
    licence: str
    sha256: str | None = None
    package: str | None = None
    path: str | None = None
    url: str | None = None
    file: str | None = None
    env: str | None = None
    generator: str | None = None
    source: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    size_mb: float | None = None


def manifest_path() -> Path:
    return course_root() / "data_manifest.yaml"


def load_manifest(path: str | Path | None = None) -> dict[str, Entry]:
    """Read and check the manifest; a malformed entry is reported by name."""
    path = Path(path) if path else manifest_path()
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise BadInputError(f"{path}: cannot read the manifest ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("datasets"), dict):
        raise BadInputError(f"{path}: the manifest needs a 'datasets' mapping")
    entries = {}
    for name, raw in data["datasets"].items():
        entries[name] = _entry(path, name, raw)
    return entries


_REQUIRED = {
    "package_file": ("package", "path", "sha256"),
    "procedural": ("generator",),
    "external": ("url", "file", "sha256"),
    "user": ("env",),
}


def _entry(path: Path, name: str, raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise BadInputError(f"{path}: entry {name!r} is not a mapping")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise BadInputError(f"{path}: entry {name!r} has kind {kind!r}; use one of {', '.join(KINDS)}")
    missing = [key for key in ("description", "licence", *_REQUIRED[kind]) if not raw.get(key)]
    if missing:
        raise BadInputError(f"{path}: entry {name!r} ({kind}) lacks {', '.join(missing)}")
    known = set(Entry.__dataclass_fields__) - {"name"}
    unknown = set(raw) - known
    if unknown:
        raise BadInputError(f"{path}: entry {name!r} has unknown keys {sorted(unknown)}")
    return Entry(name=name, **raw)


def entry(name: str) -> Entry:
    entries = load_manifest()
    if name not in entries:
        raise BadInputError(f"data set {name!r}: not in data_manifest.yaml; known: {', '.join(entries)}")
    return entries[name]


# --- checksums ------------------------------------------------------------------------------


def sha256sum(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=256)
def _verified(path: str, size: int, mtime_ns: int, expected: str) -> bool:
    return sha256sum(path) == expected


def verify_file(path: str | Path, expected: str, label: str) -> Path:
    """Check `path` against `expected` (hex sha256); remembered per file size and time in this process."""
    path = Path(path)
    if not path.is_file():
        raise DataUnavailableError(f"{path}: missing file for {label}")
    stat = path.stat()
    if not _verified(str(path), stat.st_size, stat.st_mtime_ns, expected.lower()):
        raise ChecksumError(
            f"{path}: sha256 {sha256sum(path)} does not match the manifest's {expected} for {label}; "
            "the file is damaged or a different version: reinstall or re-fetch it"
        )
    return path


# --- resolving ------------------------------------------------------------------------------


def package_file(package: str, relative: str) -> Path:
    """Where an installed distribution keeps one of its files (found without importing it)."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError as exc:
        raise DataUnavailableError(
            f"package {package!r} is not installed; install it with pip install {package}"
        ) from exc
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise DataUnavailableError(f"{path}: package {package!r} does not carry {relative}; reinstall it")
    return path


def resolve(name: str) -> Path:
    """A checked local file for the entry `name` (for procedural sets: their source file)."""
    item = entry(name)
    label = f"data set {name!r}"
    if item.kind == "package_file":
        return verify_file(package_file(item.package, item.path), item.sha256, label)
    if item.kind == "procedural":
        if not item.source:
            raise BadInputError(f"data set {name!r} is generated from nothing but code; call {item.generator}()")
        src = item.source
        return verify_file(package_file(src["package"], src["path"]), src["sha256"], label)
    if item.kind == "external":
        target = external_path(item)
        if not target.exists():
            raise DataUnavailableError(
                f"data set {name!r} is not downloaded yet: run helpers.manifest.fetch({name!r}) "
                f"or download {item.url} by hand to {target}"
            )
        return _check_external(item, target)
    return _user_file(item)


def external_path(item: Entry) -> Path:
    return build_dir("data", item.name) / item.file


def _pin_file(item: Entry) -> Path:
    return build_dir("data", item.name) / f"{item.file}.sha256"


def _check_external(item: Entry, target: Path) -> Path:
    """Verify against the manifest, or for an unpinned entry against the hash recorded at download."""
    label = f"data set {item.name!r}"
    if item.sha256 and item.sha256 != UNPINNED:
        return verify_file(target, item.sha256, label)
    pin = _pin_file(item)
    if pin.exists():
        return verify_file(target, pin.read_text().split()[0], f"{label} (hash recorded at download)")
    digest = sha256sum(target)
    pin.write_text(f"{digest}  {item.file}\n")
    warnings.warn(
        f"{label}: the manifest pins no sha256; recorded {digest} in {pin}. Put it in data_manifest.yaml.",
        stacklevel=3,
    )
    return target


def fetch(name: str, timeout: float = 30.0, progress: bool = True) -> Path:
    """Download an external data set into build/data/NAME/ (only when asked), then verify it."""
    from tqdm.auto import tqdm

    item = entry(name)
    if item.kind != "external":
        return resolve(name)
    target = external_path(item)
    if target.exists():
        return _check_external(item, target)
    try:
        with (
            atomic_path(target, suffix=".part") as tmp,
            open(tmp, "wb") as out,
            urllib.request.urlopen(item.url, timeout=timeout) as response,
        ):
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"fetching {name}", disable=not progress) as bar:
                while block := response.read(1 << 20):
                    out.write(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataUnavailableError(
            f"data set {name!r}: cannot download {item.url} ({getattr(exc, 'reason', exc)}). "
            f"Offline? Download it by hand and save it as {target}, then run again"
        ) from exc
    try:
        return _check_external(item, target)
    except ChecksumError:
        target.unlink(missing_ok=True)
        raise


def _user_file(item: Entry) -> Path:
    value = os.environ.get(item.env or "")
    if not value:
        raise DataUnavailableError(f"data set {item.name!r}: set {item.env}=/path/to/your/video to use your own video")
    from .video import check_video_path

    path = check_video_path(value)
    pin = build_dir("data", item.name) / "pinned.sha256"
    digest = sha256sum(path)
    if pin.exists():
        pinned_digest, pinned_path = pin.read_text().split(maxsplit=1)
        if pinned_path.strip() == str(path.resolve()) and pinned_digest != digest:
            raise ChecksumError(
                f"{path}: changed since it was first read (sha256 {digest}, pinned {pinned_digest}); "
                f"delete {pin} if the change is intended"
            )
    pin.write_text(f"{digest} {path.resolve()}\n")
    return path
