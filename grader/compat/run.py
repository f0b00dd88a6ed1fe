"""Grade one submission, or verify the references, on every TensorFlow version of the matrix and
on Keras 3's other backends.

Each version runs the ordinary ``grader grade`` (or ``grader verify-docs``) command in its own
environment, so every cell is exactly what a student on that version would get; this module
only reads the results back and lines them up.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from grader.atomic import write_text_atomic
from grader.backends import TITLES
from grader.compat.environments import ensure
from grader.compat.explain import explain
from grader.compat.matrix import KERAS_3_BACKENDS, column_backend
from grader.compat.table import Cell, Column, CompatTable
from grader.results import read_results

WARNED = "Keras warned while building the model: "
WARNINGS_ROW, OPTIMIZER_ROW, GRADER_ROW = "Warnings while building", "Optimizer as built", "Grader"
LOG_TAIL_LINES = 3


def compat(
    subject: Path | None,
    *,
    versions: Sequence[str],
    device: str = "cpu",
    assignment: str | None = None,
    out: Path,
    console: Console,
) -> CompatTable:
    """Grade ``subject`` (or, when None, verify every reference) on each version; write the table
    to ``out`` as ``compat.json`` and ``compat.md`` and return it."""
    subject, out = (subject.resolve() if subject else None), out.resolve()
    if subject is None:
        table = CompatTable(
            "reference/", "The references against their tutorials, per TensorFlow version and backend"
        )
    else:
        shown = subject.relative_to(Path.cwd()) if subject.is_relative_to(Path.cwd()) else subject
        table = CompatTable(str(shown), f"{subject.name} across TensorFlow versions and backends")
    for version in versions:
        title = f"Keras 3 on {TITLES[version]}" if version in KERAS_3_BACKENDS else f"TensorFlow {version}"
        console.print(f"{title} ({device}): preparing its environment…")
        python = ensure(version, device)
        console.print(f"{title}: {'grading' if subject else 'verifying the references'}…")
        with tempfile.TemporaryDirectory(prefix=f"grader-compat-{version}-") as scratch:
            if subject is None:
                column = _verify_references(python, version, Path(scratch), table)
            else:
                column = _grade(python, version, subject, assignment, Path(scratch), table, out)
        table.columns.append(column)
    for column in table.columns:  # a version the grader could not run on says so in every row
        for row in [row for row in table.rows if column.version not in table.rows[row]] or [GRADER_ROW]:
            if column.error:
                table.add(row, column.version, Cell("error", "", column.error))
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "compat.json", json.dumps(table.to_dict(), indent=2) + "\n")
    write_text_atomic(out / "compat.md", table.to_markdown())
    return table


def _grade(
    python: Path,
    version: str,
    subject: Path,
    assignment: str | None,
    scratch: Path,
    table: CompatTable,
    out: Path,
) -> Column:
    results_dir = out / "versions" / version
    command = [str(python), "-m", "grader", "grade", str(subject), "--out", str(results_dir)]
    command += ["--backend", column_backend(version)]
    if assignment:
        command += ["--assignment", assignment]
    finished = _run(command, scratch)
    grade = read_results(results_dir) if finished.returncode in (0, 1) else None
    if grade is None:
        return _failed_column(version, finished)
    table.title = f"{grade.display_name} on {grade.assignment or '?'} across TensorFlow versions and backends"
    environment, model = grade.environment, grade.model
    problem = grade.problem or ""
    for check in grade.checks:
        name, points = check.name, f"{check.score:g}/{check.max_score:g}"
        kind = "accuracy" if "accuracy" in name.lower() else ""
        if check.status == "not run":
            table.add(name, version, Cell("not run", points, explain(problem or check.message, model)))
        elif check.passed:
            table.add(name, version, Cell("passed", points))
        else:
            reason = explain(check.message, model, check_kind=kind)
            table.add(name, version, Cell("failed", points, reason))
    warnings = [note[len(WARNED) :] for note in grade.notes if note.startswith(WARNED)]
    if warnings:
        reasons = dict.fromkeys(explain(text) for text in warnings)
        table.add(WARNINGS_ROW, version, Cell("warning", "", "; ".join(reasons)))
    else:
        table.add(WARNINGS_ROW, version, Cell("passed", "none"))
    if model:
        rate = model.get("learning_rate")
        value = model.get("optimizer", "?") + (f", learning rate {rate:g}" if rate is not None else "")
        table.add(OPTIMIZER_ROW, version, Cell("info", value))
    return _column(version, environment, grade.score, grade.possible)


def _verify_references(python: Path, version: str, scratch: Path, table: CompatTable) -> Column:
    report = scratch / "verify.json"
    command = [str(python), "-m", "grader", "verify-docs", "--json", str(report)]
    finished = _run([*command, "--backend", column_backend(version)], scratch)
    if finished.returncode not in (0, 1) or not report.is_file():
        return _failed_column(version, finished)
    found = json.loads(report.read_text())
    for verification in found["verifications"]:
        problems = verification["problems"]
        cell = Cell("passed") if verification["ok"] else Cell("failed", "", explain(problems[0]))
        table.add(verification["subject"], version, cell)
    passed = sum(v["ok"] for v in found["verifications"])
    environment = found.get("environment", {})
    return _column(version, environment, passed, len(found["verifications"]))


def _column(version: str, environment: dict[str, Any], score: float, possible: float) -> Column:
    backend = environment.get("backend", "tensorflow")
    return Column(
        version,
        environment.get("tensorflow", ""),
        environment.get("keras", ""),
        environment.get("device", ""),
        score=score,
        possible=possible,
        backend=backend,
        backend_version=environment.get("backend_version", ""),
    )


def _failed_column(version: str, finished: subprocess.CompletedProcess[str]) -> Column:
    """The grader itself could not run on this version: its last words."""
    lines = [line for line in (finished.stdout + finished.stderr).splitlines() if line.strip()]
    error = " / ".join(line.strip() for line in lines[-LOG_TAIL_LINES:]) or f"exit code {finished.returncode}"
    return Column(version, error=error)


def _run(command: list[str], scratch: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=scratch,
        capture_output=True,
        text=True,
        check=False,
        env=_environment(),
    )


def _environment() -> dict[str, str]:
    keep = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON"))}
    return keep | {"TF_CPP_MIN_LOG_LEVEL": "2", "COLUMNS": "100"}
