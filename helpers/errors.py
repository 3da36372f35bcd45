"""One exception family for everything the course refuses to do.

Every message names the thing that was wrong (a file, a parameter) and says how to fix it, so
that a command-line tool can print it as one line and a notebook shows it without a traceback
hunt. Chapter 01 shows these errors in action.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class CourseError(Exception):
    """Base class: catch this to handle every error the helpers raise on purpose."""


class BadInputError(CourseError, ValueError):
    """A file, array or parameter is not what the function needs."""


class VideoError(BadInputError):
    """A video file is missing, empty, not a video, damaged or too short."""


class ChecksumError(BadInputError):
    """A data file does not match the checksum its manifest entry records."""


class OutputExistsError(BadInputError):
    """An output folder already holds results and overwriting was not asked for."""


class DataUnavailableError(CourseError):
    """A data set or set of weights cannot be reached from here (offline, not downloaded yet)."""


class ProfileError(BadInputError):
    """A profile file or a chapter's parameters do not fit together."""


class ParameterError(BadInputError):
    """A chapter's parameter (or a command-line option) has a value the code cannot use.

    The message is one line: every bad parameter, the value it was given and the values it
    accepts (see helpers.parameters). In a notebook it shows as that line alone, without a
    traceback: IPython calls `_render_traceback_` to draw an exception when it has one.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def run_command(work: Callable[[], None], interrupted: str = "nothing was written") -> int:
    """A command-line tool's exit code for `work`: 0 when it finishes; a CourseError printed as one
    `error: ...` line on stderr, exit 2; Ctrl-C as `error: interrupted; <interrupted>`, exit 130."""
    try:
        work()
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"error: interrupted; {interrupted}", file=sys.stderr)
        return 130
    return 0
