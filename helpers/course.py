"""The course's chapters in reading order: the written notebooks and the "coming next" pages.

Chapter 00 draws the map of the course from it; the book tool (tools/book.py) runs and builds
the chapters it lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CourseError
from .runtime import course_root

CHAPTER_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+$")


@dataclass(frozen=True)
class Chapter:
    number: str
    slug: str  # "01_video_to_frames"
    source: Path  # notebooks/NN_slug.py, or book/coming_next/NN_slug.md for chapters not written yet

    @property
    def written(self) -> bool:
        return self.source.suffix == ".py"

    @property
    def notebook(self) -> Path:
        return self.source.with_suffix(".ipynb")


def chapters(root: Path | None = None) -> list[Chapter]:
    """All ten chapters in reading order: the written notebooks and the 'coming next' pages."""
    root = root or course_root()
    found: dict[str, Chapter] = {}
    for folder, suffix in ((root / "notebooks", ".py"), (root / "book" / "coming_next", ".md")):
        for path in sorted(folder.glob(f"[0-9][0-9]_*{suffix}")):
            match = CHAPTER_PATTERN.match(path.stem)
            if not match:
                continue
            number = match.group(1)
            if number in found:
                raise CourseError(f"chapter {number}: both {found[number].source} and {path} exist; keep one")
            found[number] = Chapter(number, path.stem, path)
    return [found[n] for n in sorted(found)]
