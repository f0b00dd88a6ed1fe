"""The class's gradebook: one CSV row per student, one column per check, and the same as a
rich table. Built from the stored ``results.json`` files, so it always agrees with them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from grader.atomic import write_text_atomic
from grader.results import RESULTS_FILE

GRADEBOOK_FILE = "gradebook.csv"
LEADING = ("student", "display_name", "assignment", "score", "possible")
TRAILING = ("accuracy", "public_accuracy", "private_accuracy", "parameters", "train_seconds", "problem")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def read_stored(out: Path, name: str) -> dict[str, Any] | None:
    """A student's stored results, or None when there are none (or they are unreadable)."""
    try:
        stored = json.loads((out / name / RESULTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stored if isinstance(stored, dict) else None


def passed(results: dict[str, Any] | None) -> bool:
    """Graded, with every check passed."""
    return bool(results and results.get("tests")) and all(
        test.get("status") == "passed" for test in results["tests"]
    )


def rows(stored: dict[str, dict[str, Any] | None]) -> tuple[list[str], list[dict[str, Any]]]:
    """The gradebook's columns and rows for ``stored`` (student name to results, None if missing)."""
    checks: list[str] = []
    for results in stored.values():
        for test in (results or {}).get("tests", []):
            if test["name"] not in checks:
                checks.append(test["name"])
    table: list[dict[str, Any]] = []
    for name, results in stored.items():
        row: dict[str, Any] = {"student": name}
        if results is None:
            row["problem"] = "not graded yet"
            table.append(row)
            continue
        extra = results.get("extra_data", {})
        metrics = extra.get("metrics", {})
        row |= {
            "display_name": extra.get("display_name", name),
            "assignment": extra.get("assignment", ""),
            "score": results.get("score"),
            "possible": sum(test.get("max_score", 0) for test in results.get("tests", [])),
            "problem": extra.get("problem") or "",
        }
        row |= {test["name"]: test["score"] for test in results.get("tests", [])}
        row |= {key: metrics.get(key) for key in TRAILING[:-1]}
        table.append(row)
    return [*LEADING, *checks, *TRAILING], table


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_gradebook(out: Path, names: Sequence[str]) -> Path:
    """``gradebook.csv`` in ``out`` for the students ``names``, written atomically."""
    columns, table = rows({name: read_stored(out, name) for name in names})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in table:
        writer.writerow([_cell(row.get(column)) for column in columns])
    path = out / GRADEBOOK_FILE
    write_text_atomic(path, buffer.getvalue())
    return path


def summary(out: Path, names: Sequence[str]) -> Group:
    """The class at a glance: a row per student (score, accuracy, parameters, training time),
    then why each student who lost points was stopped, one line each."""
    _, table = rows({name: read_stored(out, name) for name in names})
    summary = Table(title=f"Class results ({out})")
    for column, justify in (
        ("student", "left"),
        ("assignment", "left"),
        ("score", "right"),
        ("accuracy", "right"),
        ("parameters", "right"),
        ("training", "right"),
    ):
        summary.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    problems: list[Text] = []
    for row in table:
        score = "" if row.get("score") is None else f"{row['score']:g} / {row['possible']:g}"
        accuracy = "" if row.get("accuracy") is None else f"{row['accuracy']:.2%}"
        parameters = "" if row.get("parameters") is None else f"{row['parameters']:,}"
        seconds = "" if row.get("train_seconds") is None else f"{row['train_seconds']:.1f} s"
        full = row.get("score") is not None and row["score"] == row["possible"]
        summary.add_row(
            Text(row["student"], style="green" if full else ""),
            row.get("assignment", ""),
            score,
            accuracy,
            parameters,
            seconds,
        )
        if row.get("problem"):
            problems.append(Text.assemble((f"{row['student']}: ", "bold"), str(row["problem"])[:200]))
    return Group(summary, *problems)
