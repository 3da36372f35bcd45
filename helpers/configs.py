"""Typed configs for the model families that have one (chapter 06's video diffusion, chapter 08's
dance pipeline): one convention for all of them.

A config is a dataclass; a section of it (`data`, `model`, ...) is a nested dataclass. Each field
is declared with `knob(default, doc, check)`: its type annotation says what it holds, `doc` is its
one-line documentation (written as a comment beside the key in a YAML file, shown by `--help`),
and `check` returns what is wrong with a value, or None. `from_mapping` builds a config from a
plain mapping (a YAML file, a chapter's parameters) and refuses, in one line naming the key, a key
that is unknown, missing or of the wrong type, or a value its check refuses:

    @dataclass
    class Training:
        steps: int = knob(1000, "optimiser steps", at_least(1))
        seed: int = knob(0, "seed of the data order and the initial weights", at_least(0))

    from_mapping(Training, {"steps": "many"}, "base.yaml")
    # BadInputError: base.yaml: key 'steps' must be an integer, found 'many'

Keys of nested sections are dotted ('training.steps') in messages, in `flatten` and in
`replace_keys`. Chapter 06 is the first to use it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import BadInputError

Check = Callable[[Any], "str | None"]
C = TypeVar("C")


def knob(default: Any, doc: str, check: Check | None = None, *, optional: bool = False) -> Any:
    """A config field with its documentation and its check. `optional` keys may be left out of a
    file (they take the default); every other key must be there when a whole config is loaded."""
    metadata = {"doc": doc, "check": check, "optional": optional}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def section(cls: type) -> Any:
    """A nested section of a config (its defaults are the section's own)."""
    return dataclasses.field(default_factory=cls, metadata={"doc": cls.__doc__ or "", "section": True})


# --- checks -------------------------------------------------------------------------------------


def at_least(low: float) -> Check:
    return lambda v: None if v >= low else f"must be {low} or more"


def above(low: float) -> Check:
    return lambda v: None if v > low else f"must be above {low}"


def one_of(*choices: Any) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(map(str, choices))}"


def fraction(v: float) -> str | None:
    return None if 0 <= v < 1 else "must lie in [0, 1)"


def positive_integers(v: Any) -> str | None:
    if not v or not all(isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in v):
        return "must be a non-empty list of positive integers"
    return None


def positive_numbers(v: Any) -> str | None:
    if not v or not all(_is_number(x) and x > 0 for x in v):
        return "must be a non-empty list of numbers above 0"
    return None


# --- reading the declaration ----------------------------------------------------------------------


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_section(f: dataclasses.Field) -> bool:
    return bool(f.metadata.get("section"))


def keys(cls: type, prefix: str = "") -> dict[str, dataclasses.Field]:
    """Every leaf field of a config class by its dotted key, in declaration order."""
    out: dict[str, dataclasses.Field] = {}
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        if _is_section(f):
            out.update(keys(hints[f.name], f"{name}."))
        else:
            out[name] = f
    return out


def docs(cls: type) -> dict[str, str]:
    """The documentation of every key: {'training.steps': 'optimiser steps', ...}."""
    return {key: f.metadata.get("doc", "") for key, f in keys(cls).items()}


def _leaf_types(cls: type, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        out.update(_leaf_types(hints[f.name], f"{name}.") if _is_section(f) else {name: hints[f.name]})
    return out


# --- types --------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def type_name(kind: Any) -> str:
    """'an integer', 'a number or null', 'a list of numbers', ... for messages."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in args)
    if origin in (list, tuple):
        return f"a list of {type_name(args[0]).removeprefix('an ').removeprefix('a ')}s"
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(kind, getattr(kind, "__name__", str(kind)))


def coerce(kind: Any, value: Any) -> tuple[bool, Any]:
    """(fits, value): whether `value` fits the annotation `kind`, and the value as the config
    keeps it (an integer given for a number becomes a float, a list for a tuple a tuple)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            fits, converted = coerce(option, value)
            if fits:
                return True, converted
        return False, value
    if kind is type(None):
        return value is None, value
    if kind is bool:
        return isinstance(value, bool), value
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind is float:
        return _is_number(value), float(value) if _is_number(value) else value
    if kind is str:
        return isinstance(value, str), value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False, value
        converted = []
        for item in value:
            fits, item = coerce(args[0], item)
            if not fits:
                return False, value
            converted.append(item)
        return True, tuple(converted) if origin is tuple else converted
    return isinstance(value, kind), value


# --- building, flattening, replacing ------------------------------------------------------------


def flatten(mapping: Mapping[str, Any], prefix: str = "", sections: set[str] | None = None) -> dict[str, Any]:
    """A nested mapping (or config) as {dotted key: value}. Only the names in `sections` (dotted)
    are opened; with None, every nested mapping is."""
    if dataclasses.is_dataclass(mapping):
        return {key: _plain(value) for key, value in _config_items(mapping)}
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and (sections is None or name in sections):
            flat.update(flatten(value, f"{name}.", sections))
        else:
            flat[name] = value
    return flat


def _config_items(config: Any, prefix: str = "") -> list[tuple[str, Any]]:
    items = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if _is_section(f):
            items += _config_items(value, f"{prefix}{f.name}.")
        else:
            items.append((f"{prefix}{f.name}", value))
    return items


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _sections(cls: type, prefix: str = "") -> set[str]:
    out: set[str] = set()
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        if _is_section(f):
            out.add(f"{prefix}{f.name}")
            out |= _sections(hints[f.name], f"{prefix}{f.name}.")
    return out


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{dotted key: value} back to a nested dict."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


def to_mapping(config: Any) -> dict[str, Any]:
    """A config as plain nested dicts and lists (what a YAML file or a checkpoint holds)."""
    return nest(flatten(config))


def from_mapping(cls: type[C], mapping: Any, source: str = "config", *, partial: bool = False) -> C:
    """The config `cls` from a nested mapping, every key checked; a BadInputError names the first
    bad key and what is wrong. With `partial`, missing keys take their defaults (a chapter's
    parameters set a few); otherwise only optional keys may be missing (a config file)."""
    if not isinstance(mapping, Mapping):
        raise BadInputError(f"{source}: must be a YAML mapping of keys, found {type(mapping).__name__}")
    declared = keys(cls)
    kinds = _leaf_types(cls)
    flat = flatten(mapping, sections=_sections(cls))
    for key in flat:
        if key not in declared:
            raise BadInputError(f"{source}: key {key!r} is unknown; known keys: {', '.join(declared)}")
    values: dict[str, Any] = {}
    for key, f in declared.items():
        if key not in flat:
            if partial or f.metadata.get("optional"):
                continue
            raise BadInputError(f"{source}: key {key!r} is missing ({f.metadata.get('doc', '')})")
        fits, value = coerce(kinds[key], flat[key])
        if not fits:
            raise BadInputError(f"{source}: key {key!r} must be {type_name(kinds[key])}, found {flat[key]!r}")
        check = f.metadata.get("check")
        problem = check(value) if check and value is not None else None
        if problem:
            raise BadInputError(f"{source}: key {key!r}={flat[key]!r} {problem}")
        values[key] = value
    return _build(cls, values)


def _build(cls: type[C], values: Mapping[str, Any], prefix: str = "") -> C:
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        if _is_section(f):
            kwargs[f.name] = _build(hints[f.name], values, f"{name}.")
        elif name in values:
            kwargs[f.name] = values[name]
    return cls(**kwargs)


def replace_keys(config: C, source: str = "config", **dotted: Any) -> C:
    """A copy of `config` with some keys changed (dotted names, or '__' for the dots), checked."""
    flat = flatten(config)
    for key, value in dotted.items():
        key = key.replace("__", ".")
        if key not in flat:
            raise BadInputError(f"config key {key!r} is unknown; known keys: {', '.join(flat)}")
        flat[key] = value
    return from_mapping(type(config), nest(flat), source)
