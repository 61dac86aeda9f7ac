"""A person's own 2-D points: read from a CSV of x,y (drawn on the Playground or uploaded), checked and stored.

A file is read whole or not at all: every bad row is reported by its line number with what a row may hold, and
nothing is stored while any row is bad. Points are stored only for a run being created (the Playground holds a
drawing in the page until then), and go through gan_core.store.uploads like uploaded images: kept once per content while
a run trains on them, and removed with the last such run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gan_core.store import uploads

MIN_POINTS = 2
MAX_POINTS = 20_000
# The largest |x| or |y|: the networks' first layers see raw coordinates, so far-off values would only slow learning.
MAX_COORDINATE = 1_000.0
MAX_REPORTED_ROWS = 10  # a message lists this many bad rows, then says how many more there are
POINTS_FILE_NAME = "points.csv"
ROW_RULE = (f"each row must be two numbers x,y separated by a comma (a first row of column names is allowed), "
            f"each between -{MAX_COORDINATE:g} and {MAX_COORDINATE:g}")


def parse_points_csv(text: str) -> np.ndarray:
    """The points of a CSV text as float32 (N, 2); ValueError listing the bad rows by line number otherwise.

    Blank lines are skipped. The first non-blank line may be a header (any two names, e.g. "x,y").
    """
    points, problems = [], []
    first_row = True
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(",")]
        parsed = _parse_row(fields)
        if parsed is None and first_row and len(fields) == 2 and not _any_number(fields):
            first_row = False
            continue  # a header
        first_row = False
        if isinstance(parsed, str) or parsed is None:
            problems.append(f"line {line_number} ({line.strip()[:40]!r}): {parsed or 'not two numbers'}")
        else:
            points.append(parsed)
    if problems:
        shown = problems[:MAX_REPORTED_ROWS]
        more = len(problems) - len(shown)
        raise ValueError(f"{len(problems)} bad row(s); nothing was saved. {ROW_RULE}. "
                         + "; ".join(shown) + (f"; and {more} more" if more else ""))
    check_point_count(len(points))
    return np.asarray(points, dtype=np.float32).reshape(-1, 2)


def _parse_row(fields: list[str]) -> tuple[float, float] | str | None:
    """(x, y), or a string saying what is wrong with the row, or None when it is not two numbers at all."""
    if len(fields) != 2:
        return f"{len(fields)} value(s) instead of 2"
    try:
        x, y = float(fields[0]), float(fields[1])
    except ValueError:
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return "not finite numbers"
    if abs(x) > MAX_COORDINATE or abs(y) > MAX_COORDINATE:
        return f"a coordinate beyond ±{MAX_COORDINATE:g}"
    return x, y


def _any_number(fields: list[str]) -> bool:
    for field in fields:
        try:
            float(field)
            return True
        except ValueError:
            pass
    return False


def check_point_count(count: int) -> None:
    if not MIN_POINTS <= count <= MAX_POINTS:
        raise ValueError(f"{count:,} point(s) given; a set needs from {MIN_POINTS} to {MAX_POINTS:,} points")


def points_csv(points: np.ndarray) -> str:
    """The CSV text of (N, 2) points, with an x,y header."""
    return "x,y\n" + "".join(f"{x:.6g},{y:.6g}\n" for x, y in np.asarray(points, dtype=np.float64))


def save_points(points: np.ndarray, runs_dir: Path | str) -> Path:
    """Store the points as a CSV where the runs in `runs_dir` can train on them; returns the file's absolute path."""
    points = np.asarray(points, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must be an (N, 2) array of x, y; got shape {points.shape}")
    check_point_count(len(points))
    folder = uploads.store_upload([(POINTS_FILE_NAME, points_csv(points).encode())], runs_dir)
    return folder / POINTS_FILE_NAME


def read_points_file(path: Path | str) -> np.ndarray:
    """The points of a stored CSV file; ValueError saying what is wrong with it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read the points file {path}: {error}") from None
    return parse_points_csv(text)
