"""The results registry: one JSON file per model run, the only thing chapter 09 reads.

Every chapter that scores a model (or a baseline) calls `write_result`, which checks the record
against SCHEMA and writes build/results/PROFILE/NN_slug/<model>-<dataset>.json atomically: the
smoke, cpu and gpu runs of a chapter keep their records side by side, and a run of one profile
never touches another's. `load_results` reads them back, checking each, and `results_table`
flattens them for comparison. The record says which profile, device and weights produced the
numbers, so the book can say so next to every number. Chapter 02 introduces the registry.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from .errors import BadInputError
from .runtime import PROFILES, atomic_write_bytes, build_dir, environment_report

SCHEMA_VERSION = 1
_NUMBER_OR_NULL = {"type": ["number", "null"]}
# What identifies a run and how it was made: one column each in `results_table`.
RUN_FIELDS = (
    "chapter",
    "model",
    "dataset",
    "split",
    "protocol",
    "profile",
    "device",
    "weights",
    "parameters",
    "training_seconds",
    "generation_fps",
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", *RUN_FIELDS, "metrics", "horizons", "created"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "chapter": {"type": "string", "pattern": r"^\d\d_[a-z0-9_]+$"},
        "model": {"type": "string", "minLength": 1},
        "dataset": {"type": "string", "minLength": 1},
        "split": {"type": "string", "minLength": 1},
        "protocol": {"type": "string", "minLength": 1},
        "profile": {"enum": list(PROFILES)},
        "device": {"type": "string", "minLength": 1},
        "weights": {"type": "string", "minLength": 1},
        "parameters": {"type": "integer", "minimum": 0},
        "training_seconds": {"type": ["number", "null"], "minimum": 0},
        "generation_fps": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "metrics": {"type": "object", "minProperties": 1, "additionalProperties": _NUMBER_OR_NULL},
        "horizons": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["step"],
                "properties": {"step": {"type": "integer", "minimum": 1}},
                "additionalProperties": _NUMBER_OR_NULL,
            },
        },
        "notes": {"type": "string"},
        "environment": {"type": "object", "additionalProperties": {"type": "string"}},
        "created": {"type": "string"},
    },
}


def slug(text: str) -> str:
    """'Copy last' -> 'copy-last': safe in file names."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not cleaned:
        raise BadInputError(f"name {text!r}: needs letters or digits to make a file name")
    return cleaned


def _number(value: Any) -> Any:
    """NumPy and Python numbers as plain floats, non-finite ones as null; anything else is left for
    the schema check to refuse."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def validate(record: dict[str, Any], source: str = "result") -> dict[str, Any]:
    """Check a record against SCHEMA; the error names the file and the offending field."""
    try:
        jsonschema.validate(record, SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise BadInputError(f"{source}: field {where}: {exc.message}") from None
    return record


def write_result(
    chapter: str,
    model: str,
    dataset: str,
    *,
    split: str,
    protocol: str,
    profile: str,
    device: str,
    weights: str,
    parameters: int,
    metrics: dict[str, float | None],
    horizons: list[dict[str, float]] | None = None,
    training_seconds: float | None = None,
    generation_fps: float | None = None,
    notes: str = "",
) -> Path:
    """Validate and write one run's record; returns its path. Re-running a chapter replaces it."""
    record = {
        "schema_version": SCHEMA_VERSION,
        "chapter": chapter,
        "model": model,
        "dataset": dataset,
        "split": split,
        "protocol": protocol,
        "profile": profile,
        "device": device,
        "weights": weights,
        "parameters": int(parameters),
        "training_seconds": training_seconds,
        "generation_fps": _number(generation_fps),
        "metrics": {k: _number(v) for k, v in metrics.items()},
        "horizons": [{k: (int(v) if k == "step" else _number(v)) for k, v in h.items()} for h in (horizons or [])],
        "notes": notes,
        "environment": environment_report(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = results_dir() / str(profile) / chapter / f"{slug(model)}-{slug(dataset)}.json"
    validate(record, str(path))  # before anything is written: a bad profile makes no folder
    atomic_write_bytes(path, json.dumps(record, indent=1).encode())
    return path


def results_dir() -> Path:
    return build_dir("results")


def load_results(
    folder: str | Path | None = None, chapter: str | None = None, profile: str | None = None
) -> list[dict[str, Any]]:
    """The records under build/results (or `folder`), each checked; sorted by profile, chapter,
    model, data set. `profile` reads one profile's folder only; `chapter` keeps one chapter."""
    folder = Path(folder) if folder else results_dir()
    if profile is not None and profile not in PROFILES:
        raise BadInputError(f"profile {profile!r}: unknown; choose one of {', '.join(PROFILES)}")
    records = []
    for path in sorted(folder.glob(f"{profile or '*'}/{chapter or '*'}/*.json")):
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        validate(record, str(path))
        if path.parent.name != record["chapter"]:
            raise BadInputError(f"{path}: says chapter {record['chapter']!r} but lies in {path.parent.name}/")
        if path.parent.parent.name != record["profile"]:
            raise BadInputError(f"{path}: says profile {record['profile']!r} but lies in {path.parent.parent.name}/")
        records.append(record)
    return sorted(records, key=lambda r: (r["profile"], r["chapter"], r["model"], r["dataset"]))


def results_table(records: list[dict[str, Any]]):
    """A DataFrame with one row per record: who, where, how, and every summary metric."""
    import pandas as pd

    rows = []
    for r in records:
        row = {k: r[k] for k in RUN_FIELDS}
        row.update(r["metrics"])
        rows.append(row)
    return pd.DataFrame(rows)
