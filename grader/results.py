"""One submission's grade as plain data, and its Gradescope ``results.json``.

The JSON follows Gradescope's autograder format: ``score``, ``execution_time``, ``output``,
``tests`` (``name``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``) and
``leaderboard`` entries, with the grade's environment and timings under ``extra_data``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.atomic import write_text_atomic
from grader.checks import CheckResult

RESULTS_FILE = "results.json"
VISIBILITY = "visible"


@dataclass(frozen=True)
class Metrics:
    """What the grader measured itself, for leaderboards."""

    parameters: int | None = None
    train_seconds: float | None = None
    accuracy: float | None = None
    public_accuracy: float | None = None  # on the test set's public and private parts (grader.split)
    private_accuracy: float | None = None


@dataclass(frozen=True)
class Grade:
    """The outcome of grading one submission against one assignment."""

    submission: str
    display_name: str
    assignment: str
    title: str
    dataset: str
    checks: tuple[CheckResult, ...]
    execution_time: float
    metrics: Metrics = field(default_factory=Metrics)
    timings: dict[str, float] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    log: str = ""
    notes: tuple[str, ...] = ()
    model: dict[str, Any] = field(default_factory=dict)
    chose_name: bool = False  # the display name is the student's choice, not the folder's name
    history: tuple[dict[str, float], ...] = ()  # per-epoch training logs, as the child reported them
    baseline: dict[str, Any] = field(default_factory=dict)  # the reference's figures it was measured against
    time_to_accuracy: dict[str, Any] = field(default_factory=dict)  # seeds, runs and score (grader.target)

    @property
    def score(self) -> float:
        return sum(check.score for check in self.checks)

    @property
    def possible(self) -> float:
        return sum(check.max_score for check in self.checks)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def summary(self) -> str:
        return f"{self.display_name}: {self.score:g} / {self.possible:g} points on {self.title}."

    def output(self) -> str:
        """The submission-wide message: the score, why grading stopped (if it did), notes."""
        parts = [self.summary()]
        if self.problem:
            parts.append(self.problem)
        if self.log:
            parts.append("Last lines your code printed:\n" + self.log)
        parts.extend(self.notes)
        return "\n\n".join(parts)

    def leaderboard(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        if self.metrics.accuracy is not None:
            entries.append({"name": "Accuracy", "value": round(self.metrics.accuracy, 4)})
        if self.metrics.parameters is not None:
            entries.append({"name": "Parameters", "value": self.metrics.parameters, "order": "asc"})
        if self.metrics.train_seconds is not None:
            entries.append(
                {"name": "Training time (s)", "value": round(self.metrics.train_seconds, 2), "order": "asc"}
            )
        return entries

    def to_gradescope(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "execution_time": round(self.execution_time, 2),
            "output": self.output(),
            "tests": [
                {
                    "name": check.name,
                    "score": check.score,
                    "max_score": check.max_score,
                    "status": "passed" if check.passed else "failed",
                    "output": check.message,
                    "visibility": VISIBILITY,
                }
                for check in self.checks
            ],
            "leaderboard": self.leaderboard(),
            "extra_data": {
                "submission": self.submission,
                "display_name": self.display_name,
                "display_name_chosen": self.chose_name,
                "assignment": self.assignment,
                "title": self.title,
                "dataset": self.dataset,
                "not_run": [check.name for check in self.checks if check.status == "not run"],
                "timings": {phase: round(seconds, 3) for phase, seconds in self.timings.items()},
                "environment": self.environment,
                "model": self.model,
                "problem": self.problem,
                "notes": list(self.notes),
                "metrics": asdict(self.metrics),
                "baseline": self.baseline,
                "history": list(self.history),
                **({"time_to_accuracy": self.time_to_accuracy} if self.time_to_accuracy else {}),
            },
        }


def write_results(grade: Grade, out_dir: Path) -> Path:
    """Write ``results.json`` into ``out_dir`` atomically; returns its path."""
    path = Path(out_dir) / RESULTS_FILE
    write_text_atomic(path, json.dumps(grade.to_gradescope(), indent=2) + "\n")
    return path
