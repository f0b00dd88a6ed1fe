"""Ranked boards from stored results: one per assignment, Kaggle's public/private rule.

Before the deadline only the public part of the test set counts and the private figures are
left out entirely; from the deadline on the private part decides. Ties break on fewer
parameters, then shorter training. The reference models appear as unranked baseline rows.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from grader.batch.gradebook import read_stored

Phase = Literal["public", "final"]


@dataclass(frozen=True)
class Entry:
    """One row: a student (by display name) or a reference baseline."""

    name: str
    accuracy: float | None  # the figure the board ranks by: public, or private when final
    public_accuracy: float | None
    private_accuracy: float | None
    parameters: int | None
    train_seconds: float | None
    score: float | None = None
    possible: float | None = None
    rank: int | None = None
    baseline: bool = False
    history: tuple[dict[str, float], ...] = field(default=(), repr=False)

    def to_dict(self, phase: Phase) -> dict[str, Any]:
        found = asdict(self)
        found.pop("history")
        if phase == "public":
            found.pop("private_accuracy")  # not published before the deadline
        return found


@dataclass(frozen=True)
class Board:
    assignment: str
    title: str
    phase: Phase
    entries: tuple[Entry, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment,
            "title": self.title,
            "phase": self.phase,
            "ranked_by": "private accuracy" if self.phase == "final" else "public accuracy",
            "entries": [entry.to_dict(self.phase) for entry in self.entries],
        }


def phase_at(deadline: datetime | None, now: datetime) -> Phase:
    return "final" if deadline is not None and now >= deadline else "public"


def build_boards(results_dir: Path, *, deadline: datetime | None, now: datetime) -> list[Board]:
    """Boards for every assignment found in ``results_dir`` (a class's output folder)."""
    phase = phase_at(deadline, now)
    by_assignment: dict[str, list[dict[str, Any]]] = {}
    for folder in sorted(p for p in results_dir.iterdir() if p.is_dir()):
        stored = read_stored(results_dir, folder.name)
        assignment = (stored or {}).get("extra_data", {}).get("assignment")
        if stored is not None and assignment:
            by_assignment.setdefault(assignment, []).append(stored)
    return [_board(name, stored, phase) for name, stored in sorted(by_assignment.items())]


def _board(assignment: str, stored: list[dict[str, Any]], phase: Phase) -> Board:
    entries = [_entry(results, phase) for results in stored]
    baselines = {
        extra["baseline"]["reference"]: extra["baseline"]
        for extra in (results["extra_data"] for results in stored)
        if extra.get("baseline")
    }
    entries += [_baseline_entry(figures, phase) for figures in baselines.values()]
    entries.sort(key=_order)
    ranked: list[Entry] = []
    rank = 0
    for entry in entries:
        if not entry.baseline and entry.accuracy is not None:
            rank += 1
            entry = Entry(**{**asdict(entry), "rank": rank, "history": entry.history})
        ranked.append(entry)
    title = next((r["extra_data"].get("title") for r in stored if r["extra_data"].get("title")), assignment)
    return Board(assignment, title, phase, tuple(ranked))


def _order(entry: Entry) -> tuple[float, float, float]:
    """Highest accuracy first, then fewest parameters, then shortest training; unscored last."""
    if entry.accuracy is None:
        return (math.inf, math.inf, math.inf)
    return (-entry.accuracy, entry.parameters or math.inf, entry.train_seconds or math.inf)


def _entry(results: dict[str, Any], phase: Phase) -> Entry:
    extra = results["extra_data"]
    metrics = extra.get("metrics", {})
    public, private = metrics.get("public_accuracy"), metrics.get("private_accuracy")
    return Entry(
        name=public_name(extra),
        accuracy=private if phase == "final" else public,
        public_accuracy=public,
        private_accuracy=private,
        parameters=metrics.get("parameters"),
        train_seconds=metrics.get("train_seconds"),
        score=results.get("score"),
        possible=sum(test.get("max_score", 0) for test in results.get("tests", [])),
        history=tuple(extra.get("history", ())),
    )


def public_name(extra: dict[str, Any]) -> str:
    """The display name the student chose in submission.toml; without one, a stable pseudonym,
    since a folder's name is often the student's own."""
    if extra.get("display_name_chosen") and extra.get("display_name"):
        return str(extra["display_name"])
    folder = str(extra.get("submission", ""))
    return "anonymous " + hashlib.sha256(folder.encode()).hexdigest()[:6]


def _baseline_entry(figures: dict[str, Any], phase: Phase) -> Entry:
    public, private = figures.get("public_accuracy"), figures.get("private_accuracy")
    return Entry(
        name=f"reference: {figures['reference']}",
        accuracy=private if phase == "final" else public,
        public_accuracy=public,
        private_accuracy=private,
        parameters=figures.get("parameters"),
        train_seconds=figures.get("train_seconds"),
        baseline=True,
    )
