"""The gradebook as Canvas imports it: the course roster's identity columns, one column for the
assignment, and the "Points Possible" row.

The roster is the CSV that Canvas's gradebook exports (Grades, Export, CSV): ``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section`` and a column per assignment. Each submission
folder is matched to the student whose SIS Login ID, SIS User ID or Canvas ID is the folder's
name (ignoring case). A student with no graded submission gets an empty cell, which Canvas leaves
as it was; a submission that matches no student is listed, never guessed at.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.atomic import write_text_atomic
from grader.batch.gradebook import safe_cell, stored_grades

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MATCHED_ON = ("SIS Login ID", "SIS User ID", "ID")
POINTS_ROW = "    Points Possible"
CANVAS_FILE = "canvas.csv"


class RosterError(ValueError):
    """The roster is not a Canvas gradebook export."""


@dataclass(frozen=True)
class CanvasExport:
    path: Path
    matched: int  # students given a score
    ungraded: tuple[str, ...]  # roster students with no graded submission
    unmatched: tuple[str, ...]  # submission folders that match no student


def read_roster(roster: Path) -> list[dict[str, str]]:
    """The roster's student rows (the export's "Points Possible" row and test student left out)."""
    try:
        text = roster.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError(f"cannot read the roster {roster}: {error}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in ("Student", "ID") if column not in (reader.fieldnames or ())]
    if missing or not any(column in (reader.fieldnames or ()) for column in MATCHED_ON[:2]):
        raise RosterError(
            f"{roster} is not a Canvas gradebook export: it needs the columns Student, ID and SIS "
            "Login ID or SIS User ID (Grades, Export, CSV in Canvas)."
        )
    return [
        row
        for row in reader
        if row.get("Student", "").strip() not in ("Points Possible", "Student, Test", "")
    ]


def write_canvas(
    out: Path, names: Sequence[str], roster: Path, *, column: str, destination: Path | None = None
) -> CanvasExport:
    """``canvas.csv`` (or ``destination``): the roster's students with their scores in ``column``."""
    students = read_roster(roster)
    grades = {name: grade for name, grade in stored_grades(out, names).items() if grade and not grade.refused}
    by_id: dict[str, str] = {}
    for row in students:
        for key in MATCHED_ON:
            if row.get(key, "").strip():
                by_id.setdefault(row[key].strip().casefold(), row["ID"])
    scores: dict[str, float] = {}
    unmatched = []
    for name, grade in grades.items():
        student = by_id.get(name.casefold())
        if student is None:
            unmatched.append(name)
        else:
            scores[student] = grade.score
    possible = max((grade.possible for grade in grades.values()), default=0.0)
    present = [key for key in IDENTITY if any(key in row for row in students)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*present, column])
    writer.writerow([POINTS_ROW, *([""] * (len(present) - 1)), safe_cell(float(possible))])
    for row in students:
        score = scores.get(row["ID"])
        writer.writerow([safe_cell(row.get(key, "")) for key in present] + [safe_cell(score)])
    path = destination or out / CANVAS_FILE
    write_text_atomic(path, buffer.getvalue())
    ungraded = tuple(row["Student"] for row in students if row["ID"] not in scores)
    return CanvasExport(path, len(scores), ungraded, tuple(sorted(unmatched)))
