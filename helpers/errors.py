"""One exception family for everything the course refuses to do.

Every message names the thing that was wrong (a file, a parameter) and says how to fix it, so
that a command-line tool can print it as one line and a notebook shows it without a traceback
hunt. Chapter 01 shows these errors in action.
"""

from __future__ import annotations


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
