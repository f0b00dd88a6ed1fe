"""Ranked boards from stored results: one per assignment and trainer, Kaggle's public/private rule.

Models the grader trained and models that trained themselves (``training.trainer``) never share a
board: a class whose assignment changed trainer gets one board for each, the self-trained one
titled so.

Before the deadline only the public part of the test set counts and the private figures are
left out entirely; from the deadline on the private part decides. Ties break on fewer
parameters, then cheaper training; entries whose costs differ by less than their measured
noise share a rank (grader/ranking.py). The reference models appear as unranked baseline rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from grader.leaderboard.names import pseudonym_key, public_names
from grader.ranking import Standing, order, ranks
from grader.results import Grade, read_results

Phase = Literal["public", "final"]


@dataclass(frozen=True)
class Entry:
    """One row: a student (by display name) or a reference baseline."""

    name: str
    accuracy: float | None  # the figure the board ranks by: public, or private when final
    public_accuracy: float | None
    private_accuracy: float | None
    parameters: int | None
    train_cost: float | None  # x the reference's, on the training clock (grader/timing.py)
    train_noise: float | None = None
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
    trainer: str = ""  # who trained every model on it (grader.results.TRAINED_BY)

    @property
    def slug(self) -> str:
        """The board's name in file names and anchors: its assignment's, marked when self-trained."""
        return self.assignment + ("-self-trained" if self.trainer == "submission" else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment,
            "title": self.title,
            "phase": self.phase,
            "trainer": self.trainer,
            "ranked_by": "private accuracy" if self.phase == "final" else "public accuracy",
            "entries": [entry.to_dict(self.phase) for entry in self.entries],
        }


def phase_at(deadline: datetime | None, now: datetime) -> Phase:
    return "final" if deadline is not None and now >= deadline else "public"


def build_boards(results_dir: Path, *, deadline: datetime | None, now: datetime) -> list[Board]:
    """Boards for every assignment found in ``results_dir`` (a class's output folder); its
    pseudonym key (grader/leaderboard/names.py) is made there on first use."""
    phase = phase_at(deadline, now)
    by_assignment: dict[tuple[str, str], list[Grade]] = {}
    for folder in sorted(p for p in results_dir.iterdir() if p.is_dir()):
        grade = read_results(folder)
        if grade is not None and grade.assignment:
            by_assignment.setdefault((grade.assignment, grade.trainer), []).append(grade)
    key = pseudonym_key(results_dir) if by_assignment else b""
    return [
        _board(name, grades, phase, key, trainer) for (name, trainer), grades in sorted(by_assignment.items())
    ]


def _board(assignment: str, grades: list[Grade], phase: Phase, key: bytes, trainer: str = "") -> Board:
    entries = [
        _entry(grade, phase, name) for grade, name in zip(grades, public_names(grades, key), strict=True)
    ]
    baselines = {grade.baseline["reference"]: grade.baseline for grade in grades if grade.baseline}
    places = ranks([_standing(entry) for entry in entries])
    entries = [replace(entry, rank=place) for entry, place in zip(entries, places, strict=True)]
    entries += [_baseline_entry(figures, phase) for figures in baselines.values()]
    ranked = sorted(entries, key=lambda entry: order(_standing(entry)))
    title = next((grade.title for grade in grades if grade.title), assignment)
    if trainer == "submission":
        title += " (each model trained by its own submission)"
    return Board(assignment, title, phase, tuple(ranked), trainer)


def _standing(entry: Entry) -> Standing:
    return Standing(entry.accuracy, entry.parameters, entry.train_cost, entry.train_noise or 0.0)


def _entry(grade: Grade, phase: Phase, name: str) -> Entry:
    metrics = grade.metrics
    public, private = metrics.public_accuracy, metrics.private_accuracy
    score, possible = grade.points("after_due_date" if phase == "final" else "now")  # none held back
    return Entry(
        name=name,
        accuracy=private if phase == "final" else public,
        public_accuracy=public,
        private_accuracy=private,
        parameters=metrics.parameters,
        train_cost=metrics.train_cost,
        train_noise=metrics.train_noise,
        score=score,
        possible=possible,
        history=grade.history,
    )


def _baseline_entry(figures: dict[str, Any], phase: Phase) -> Entry:
    public, private = figures.get("public_accuracy"), figures.get("private_accuracy")
    return Entry(
        name=f"reference: {figures['reference']}",
        accuracy=private if phase == "final" else public,
        public_accuracy=public,
        private_accuracy=private,
        parameters=figures.get("parameters"),
        train_cost=1.0,
        baseline=True,
    )
