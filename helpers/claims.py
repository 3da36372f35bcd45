"""Sentences computed from the numbers of the run that prints them.

Numbers change from machine to machine (the CPU's instruction set and the thread count change a
training run), so a chapter never types a measured figure or a comparison into its prose. It
writes the sentence from the numbers instead:

    verb, margin = claims.versus(model_psnr, linear_psnr, "dB")
    claims.say(f"One step ahead, pix2pix {verb} linear extrapolation {margin}.")

and `say` shows it as Markdown in Jupyter, Colab and the book alike. A claim the chapter relies
on is also asserted, with a margin (`holds`), so that a run where it fails stops instead of
printing a sentence its own numbers contradict. Chapter 00 explains the rule; every chapter
follows it.
"""

from __future__ import annotations

import math
import numbers

from .errors import BadInputError


def say(markdown: str) -> None:
    """Show a sentence (Markdown) as the chapter's prose, computed by the run."""
    import sys

    from IPython.display import Markdown, display

    sys.stdout.flush()  # what the cell printed before comes before the sentence on the page
    display(Markdown(markdown))


def signed(value: float, unit: str = "", digits: int = 2) -> str:
    """+0.42 dB, -1.30 dB: a difference with its sign."""
    _check(value)
    # a difference that rounds to zero has no sign: "0.00", never "-0.00"
    text = f"{value:+.{digits}f}" if round(float(value), digits) != 0 else f"{0:.{digits}f}"
    return f"{text} {unit}".strip()


def compare(
    a: float,
    b: float,
    *,
    higher: str = "above",
    lower: str = "below",
    same: str = "level with",
    tolerance: float = 0.0,
) -> str:
    """The word for how `a` stands against `b`: `higher`, `lower`, or `same` when they are within
    `tolerance` of each other (so that noise is not reported as a win)."""
    _check(a)
    _check(b)
    if abs(a - b) <= tolerance:
        return same
    return higher if a > b else lower


def versus(a: float, b: float, unit: str = "", digits: int = 2, tolerance: float = 0.0, better: str = "higher"):
    """(verb, margin) for score `a` against `b`: ("beats", "by 0.42 dB"), ("loses to", "by 1.30
    dB") or ("ties with", "within 0.05 dB"); `better` says whether "higher" or "lower" scores are
    better, `tolerance` how close counts as a tie. The margin is the exact difference, rounded: a
    caller whose table shows fewer digits than the sentence rounds its values first (chapter 02)."""
    if better not in ("higher", "lower"):
        raise BadInputError(f"better={better!r}: use 'higher' or 'lower'")
    gap = a - b if better == "higher" else b - a
    word = compare(gap, 0.0, higher="beats", lower="loses to", same="ties with", tolerance=tolerance)
    if word == "ties with":
        return word, f"within {tolerance:.{digits}f} {unit}".rstrip()
    return word, f"by {abs(a - b):.{digits}f} {unit}".rstrip()


def holds(condition: bool, claim: str) -> None:
    """Assert a claim the chapter's prose relies on; the message says which claim failed."""
    if not condition:
        raise AssertionError(f"the chapter's claim does not hold in this run: {claim}")


def _check(value: float) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(float(value)):
        raise BadInputError(f"{value!r}: a claim needs a finite number")
