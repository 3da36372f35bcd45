"""Check a chapter's parameters before it starts work, and say in one line what is wrong.

Every chapter calls `check` in the cell after its parameters cell, with one rule per parameter:

    parameters.check(
        globals(),
        SEED=parameters.seed(),
        IMAGE_SIZE=parameters.power_of_two(32, 512, why="the U-Net halves the frame log2(IMAGE_SIZE) times"),
        STEPS=parameters.integer(1),
        EARLY_STEP=parameters.integer(1, "STEPS"),
    )

A value the code cannot use then stops the chapter at once, before any data is loaded or any
model built, with a ParameterError whose message is one line:

    IMAGE_SIZE=63: must be a power of two from 32 to 512 (the U-Net halves the frame log2(IMAGE_SIZE) times)

All the parameters are checked, and every bad one is reported in that line, in the order of the
rules, separated by "; ". A bound may be a number or a short expression over other parameters
("STEPS", "round(WINDOW_SECONDS * 25)"); a rule whose bound refers to a bad parameter is
skipped, since only the bad parameter itself is wrong. Chapter 00 explains the idea.
"""

from __future__ import annotations

import ast
import math
import numbers
import operator
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import ParameterError
from .runtime import PROFILES

DEVICES = ("auto", "cpu", "cuda", "mps")
SEED_MAX = 2**32 - 1  # NumPy's legacy global seed takes 0 .. 2**32 - 1
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")

Bound = float | str | None


# --- bounds that refer to other parameters ------------------------------------------------------

_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"round": round, "min": min, "max": max}


def references(bound: Bound) -> set[str]:
    """The parameter names a bound expression uses ("round(WINDOW_SECONDS * 25)" -> {"WINDOW_SECONDS"})."""
    if not isinstance(bound, str):
        return set()
    tree = _parse(bound)
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - calls


def _parse(expression: str) -> ast.Expression:
    try:
        return ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ParameterError(f"bound {expression!r}: not an expression over parameter names") from exc


def evaluate(bound: Bound, values: Mapping[str, Any]) -> float | None:
    """A bound's value: a number as it is, an expression computed from `values` (numbers, names,
    + - * / //, round, min and max only)."""
    if not isinstance(bound, str):
        return bound

    def value_of(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return value_of(node.body)
        if isinstance(node, ast.Constant) and _is_number(node.value):
            return node.value
        if isinstance(node, ast.Name) and node.id in values:
            return values[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value_of(node.left), value_of(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value_of(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
            return _FUNCTIONS[node.func.id](*(value_of(a) for a in node.args))
        raise ParameterError(f"bound {bound!r}: cannot compute {ast.unparse(node)!r} from the parameters")

    return value_of(_parse(bound))


def _bound_text(bound: Bound, values: Mapping[str, Any]) -> str:
    if not isinstance(bound, str):
        return _number_text(bound)
    return f"{bound} = {_number_text(evaluate(bound, values))}"


def _number_text(number: Any) -> str:
    if isinstance(number, numbers.Integral) and abs(number) >= 10_000:
        return f"{number:,}"
    return f"{number:g}" if isinstance(number, float) else str(number)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _range_text(low: Bound, high: Bound, values: Mapping[str, Any]) -> str:
    if low is not None and high is not None:
        return f" from {_bound_text(low, values)} to {_bound_text(high, values)}"
    if low is not None:
        return f", {_bound_text(low, values)} or more"
    if high is not None:
        return f", {_bound_text(high, values)} or less"
    return ""


# --- rules --------------------------------------------------------------------------------------


class Rule:
    """What one parameter accepts. `problem(value, values)` is None when the value fits, else
    the reason ("must be ..."); `values` holds every parameter, for bounds that refer to others."""

    def __init__(self, why: str | None = None):
        self.why = why

    def references(self) -> set[str]:
        return set()

    def fits(self, value: Any, values: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def accepts(self, values: Mapping[str, Any]) -> str:
        """The values it accepts, as the end of "must be ..."."""
        raise NotImplementedError

    def problem(self, value: Any, values: Mapping[str, Any] | None = None) -> str | None:
        values = values or {}
        if self.fits(value, values):
            return None
        why = f" ({self.why})" if self.why else ""
        return f"must be {self.accepts(values)}{why}"


class Number(Rule):
    """A finite number (or, with `integer`, a whole one) in [low, high]; a bound may be an
    expression over other parameters. `above` makes the low end exclusive."""

    def __init__(
        self,
        low: Bound = None,
        high: Bound = None,
        *,
        integer: bool = False,
        above: Bound = None,
        multiple_of: int | None = None,
        power_of_two: bool = False,
        why: str | None = None,
    ):
        super().__init__(why)
        self.low, self.high, self.above = low, high, above
        self.integer = integer or power_of_two or multiple_of is not None
        self.multiple_of, self.power_of_two = multiple_of, power_of_two
        for bound in (low, high, above):
            references(bound)  # a malformed expression fails here, where the rule is written

    def references(self) -> set[str]:
        return references(self.low) | references(self.high) | references(self.above)

    def fits(self, value: Any, values: Mapping[str, Any]) -> bool:
        if not (_is_integer(value) if self.integer else _is_number(value)):
            return False
        if self.power_of_two and (value < 1 or int(value) & (int(value) - 1)):
            return False
        if self.multiple_of and value % self.multiple_of:
            return False
        low, high, above = (evaluate(b, values) for b in (self.low, self.high, self.above))
        return (low is None or value >= low) and (high is None or value <= high) and (above is None or value > above)

    def problem(self, value: Any, values: Mapping[str, Any] | None = None) -> str | None:
        reason = super().problem(value, values)
        if reason and isinstance(value, numbers.Real) and not math.isfinite(value):
            reason = reason.replace("must be a number", "must be a finite number", 1)
        return reason

    def accepts(self, values: Mapping[str, Any]) -> str:
        if self.power_of_two:
            kind = "a power of two"
        elif self.multiple_of:
            kind = f"a multiple of {self.multiple_of}"
        else:
            kind = "an integer" if self.integer else "a number"
        if self.above is not None:
            return f"{kind} above {_bound_text(self.above, values)}" + (
                f" and up to {_bound_text(self.high, values)}" if self.high is not None else ""
            )
        return kind + _range_text(self.low, self.high, values)


class OneOf(Rule):
    """Exactly one of `choices` (1 is not True, "1" is not 1); `ignore_case` for names."""

    def __init__(self, choices, *, ignore_case: bool = False, why: str | None = None):
        super().__init__(why)
        self.choices, self.ignore_case = tuple(choices), ignore_case

    def fits(self, value: Any, values: Mapping[str, Any]) -> bool:
        if self.ignore_case and isinstance(value, str):
            value = value.lower()
        return any(value == c and type(value) is type(c) for c in self.choices)

    def accepts(self, values: Mapping[str, Any]) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)


class NumberList(Rule):
    """A non-empty list of numbers, each in [low, high] (e.g. chapter 08's tempo multiples)."""

    def __init__(self, low: float | None = None, high: float | None = None, *, why: str | None = None):
        super().__init__(why)
        self.item = Number(low, high)

    def fits(self, value: Any, values: Mapping[str, Any]) -> bool:
        return isinstance(value, list | tuple) and len(value) > 0 and all(self.item.fits(v, values) for v in value)

    def accepts(self, values: Mapping[str, Any]) -> str:
        return "a non-empty list of numbers" + _range_text(self.item.low, self.item.high, values)


class Weights(Rule):
    """A weights spec as pretrained.plan_weights takes it: 'auto', 'tiny', a local file or folder
    that exists, or a hub id 'org/name'. Checked without the network."""

    def fits(self, value: Any, values: Mapping[str, Any]) -> bool:
        if not isinstance(value, str) or not value:
            return False
        if value in ("auto", "tiny") or Path(value).expanduser().exists():
            return True
        return HUB_ID.fullmatch(value) is not None

    def accepts(self, values: Mapping[str, Any]) -> str:
        return "'auto', 'tiny', a local folder that exists or a model hub id 'org/name'"


def integer(low: Bound = None, high: Bound = None, *, why: str | None = None) -> Rule:
    """A whole number in [low, high] (either end may be left open)."""
    return Number(low, high, integer=True, why=why)


def multiple_of(step: int, low: Bound = None, high: Bound = None, *, why: str | None = None) -> Rule:
    """A whole multiple of `step` in [low, high]."""
    return Number(low, high, multiple_of=step, why=why)


def power_of_two(low: Bound = None, high: Bound = None, *, why: str | None = None) -> Rule:
    """1, 2, 4, 8, ... in [low, high]."""
    return Number(low, high, power_of_two=True, why=why)


def number(low: Bound = None, high: Bound = None, *, why: str | None = None) -> Rule:
    """A finite number (int or float) in [low, high]."""
    return Number(low, high, why=why)


def positive(high: Bound = None, *, why: str | None = None) -> Rule:
    """A finite number above 0 (and at most `high`)."""
    return Number(high=high, above=0, why=why)


def one_of(*choices: Any, why: str | None = None) -> Rule:
    """Exactly one of the given values (1 is not True, "1" is not 1)."""
    return OneOf(choices, why=why)


def device(*choices: str, why: str | None = None) -> Rule:
    """A device name as runtime.select_device takes it (by default auto, cpu, cuda or mps, in
    any case)."""
    return OneOf(choices or DEVICES, ignore_case=True, why=why)


def profile() -> Rule:
    """One of the profiles in notebooks/profiles (runtime.PROFILES)."""
    return OneOf(PROFILES)


def seed() -> Rule:
    """A seed for runtime.seed_everything: a whole number from 0 to 2**32 - 1."""
    return Number(0, SEED_MAX, integer=True)


def number_list(low: float | None = None, high: float | None = None, *, why: str | None = None) -> Rule:
    return NumberList(low, high, why=why)


def weights(why: str | None = None) -> Rule:
    """A weights spec: 'auto', 'tiny', a local folder or a hub id (see pretrained.plan_weights)."""
    return Weights(why)


# --- checking -----------------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value as the message shows it: its repr (strings quoted), NumPy scalars as plain numbers."""
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problems(values: Mapping[str, Any], rules: Mapping[str, Rule]) -> dict[str, str]:
    """Each parameter whose value breaks its rule -> "NAME=VALUE: must be ...", in rule order.

    A rule whose bounds use other parameters is judged after them, and skipped when one of
    them is bad itself (or not a number). A parameter missing from `values` counts as bad."""
    found: dict[str, str] = {}
    pending = dict(rules)
    while pending:
        ready = {n: r for n, r in pending.items() if not (r.references() - {n}) & set(pending)}
        if not ready:
            raise ParameterError(f"the rules of {', '.join(pending)} refer to each other in a circle")
        for name, rule in ready.items():
            del pending[name]
            refs = rule.references()
            unknown = sorted(refs - set(values))
            if unknown:
                raise ParameterError(f"the rule of {name} uses {', '.join(unknown)}, which is not a parameter")
            if name not in values:
                found[name] = f"{name}: not set; the parameters cell must define it"
            elif not refs & set(found) and all(_is_number(values[r]) for r in refs):
                reason = rule.problem(values[name], values)
                if reason:
                    found[name] = f"{name}={show(values[name])}: {reason}"
    return {name: found[name] for name in rules if name in found}


def check(values: Mapping[str, Any], /, **rules: Rule) -> None:
    """Check each named parameter in `values` (a chapter passes `globals()`) against its rule.

    Raises one ParameterError naming every bad parameter, its value and what it accepts, on one
    line ("; " between parameters); returns None when all fit. Chapter 00 explains it.
    """
    found = problems(values, rules)
    if found:
        raise ParameterError("; ".join(found.values())) from None
