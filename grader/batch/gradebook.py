"""The class's gradebook: one CSV row per student, one column per check, and the same as a
rich table. Built from the stored ``results.json`` files, so it always agrees with them. Each
student's rank within their assignment follows grader/ranking.py: whole-test accuracy, then
parameters, then training cost, with costs within their noise tied. The ``trainer`` column says
who trained each model; models the grader trained and models that trained themselves are ranked
apart."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from grader.atomic import write_text_atomic
from grader.ranking import Standing, ranks
from grader.results import Grade, read_results

GRADEBOOK_FILE = "gradebook.csv"
LEADING = ("student", "display_name", "assignment", "trainer", "score", "possible", "rank")
TRAILING = (
    "accuracy",
    "public_accuracy",
    "private_accuracy",
    "parameters",
    "train_cost",
    "train_noise",
    "train_seconds",
    "problem",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def stored_grades(out: Path, names: Sequence[str]) -> dict[str, Grade | None]:
    """Each student's stored grade (None where there is none yet)."""
    return {name: read_results(out / name) for name in names}


def rows(stored: dict[str, Grade | None]) -> tuple[list[str], list[dict[str, Any]]]:
    """The gradebook's columns and rows for ``stored`` (student name to grade, None if missing)."""
    checks: list[str] = []
    for grade in stored.values():
        for check in grade.checks if grade else ():
            if check.max_score and check.name not in checks:  # figures worth nothing are in TRAILING
                checks.append(check.name)
    table: list[dict[str, Any]] = []
    for name, grade in stored.items():
        row: dict[str, Any] = {"student": name}
        if grade is None:
            row["problem"] = "not graded yet"
            table.append(row)
            continue
        row |= {
            "display_name": grade.display_name,
            "assignment": grade.assignment,
            "trainer": grade.trainer,
            "score": grade.score,
            "possible": grade.possible,
            "problem": grade.problem or "",
        }
        row |= {check.name: check.score for check in grade.checks if check.max_score}
        row |= {key: getattr(grade.metrics, key) for key in TRAILING[:-1]}
        table.append(row)
    for group in {(row.get("assignment"), row.get("trainer")) for row in table if row.get("assignment")}:
        members = [row for row in table if (row.get("assignment"), row.get("trainer")) == group]
        standings = [
            Standing(row["accuracy"], row["parameters"], row["train_cost"], row["train_noise"] or 0.0)
            for row in members
        ]
        for row, rank in zip(members, ranks(standings), strict=True):
            row["rank"] = rank
    return [*LEADING, *checks, *TRAILING], table


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_gradebook(out: Path, names: Sequence[str]) -> Path:
    """``gradebook.csv`` in ``out`` for the students ``names``, written atomically."""
    columns, table = rows(stored_grades(out, names))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in table:
        writer.writerow([safe_cell(row.get(column)) for column in columns])
    path = out / GRADEBOOK_FILE
    write_text_atomic(path, buffer.getvalue())
    return path


def summary(out: Path, names: Sequence[str]) -> Group:
    """The class at a glance: a row per student (score, accuracy, parameters, training cost),
    then why each student who lost points was stopped, one line each."""
    _, table = rows(stored_grades(out, names))
    summary = Table(title=Text(f"Class results ({out})"))
    for column, justify in (
        ("student", "left"),
        ("assignment", "left"),
        ("score", "right"),
        ("accuracy", "right"),
        ("parameters", "right"),
        ("training cost", "right"),
    ):
        summary.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    problems: list[Text] = []
    for row in table:
        score = "" if row.get("score") is None else f"{row['score']:g} / {row['possible']:g}"
        accuracy = "" if row.get("accuracy") is None else f"{row['accuracy']:.2%}"
        parameters = "" if row.get("parameters") is None else f"{row['parameters']:,}"
        seconds = "" if row.get("train_cost") is None else f"{row['train_cost']:.2f} x"
        full = row.get("score") is not None and row["score"] == row["possible"]
        summary.add_row(
            Text(row["student"], style="green" if full else ""),
            Text(row.get("assignment", "")),
            score,
            accuracy,
            parameters,
            seconds,
        )
        if row.get("problem"):
            problems.append(Text.assemble((f"{row['student']}: ", "bold"), str(row["problem"])[:200]))
    return Group(summary, *problems)
