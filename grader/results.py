"""One submission's grade as plain data, its Gradescope ``results.json``, and reading it back.

The JSON follows Gradescope's autograder format: ``score``, ``execution_time``, ``output``,
``tests`` (``name``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``) and
``leaderboard`` entries, with the grade's environment and timings under ``extra_data``.
``Grade.to_gradescope`` writes it and ``Grade.from_gradescope`` reads it back, so the gradebook,
the leaderboard and a class's resume logic all work on the same typed grade.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from grader.atomic import write_text_atomic
from grader.checks import VISIBILITIES, CheckResult
from grader.wire import MAX_NOTES

RESULTS_FILE = "results.json"
OUTPUT_FORMAT = "text"  # a student's printed lines are shown as they are: no Markdown, no HTML
Moment = Literal["now", "after_due_date", "after_published"]
TRAINED_BY = {
    "grader": "the grader (the declared model rebuilt with fresh weights and trained where no submission code runs)",
    "submission": "the submission's own code (what it hands over is its word; see the grader's security model, docs/security.md)",
}
MOMENTS: tuple[Moment, ...] = ("now", "after_due_date", "after_published")
# Over the notes that come from the process that ran the student's code: the builder writes them
# (a notebook's captured fit, Keras's warnings), and anything a submission runs can write them too.
SAID_TITLE = "notes from your code's process"
SAID_WARNING = "Its own words: the grader has checked none of them."
SAID_HEADING = f"{SAID_TITLE.capitalize()} ({SAID_WARNING[0].lower()}{SAID_WARNING[1:-1]})"


@dataclass(frozen=True)
class Metrics:
    """What the grader measured itself, for leaderboards."""

    parameters: int | None = None
    train_seconds: float | None = None  # wall time, as the student waited for it
    train_cost: float | None = None  # the training clock's cost over the reference's (grader/timing.py)
    train_noise: float | None = None  # that figure's relative uncertainty
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
    trainer: str = ""  # who trained the model that was scored: "grader" or "submission" (settings.TRAINERS)
    metrics: Metrics = field(default_factory=Metrics)
    timings: dict[str, float] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    log: str = ""
    notes: tuple[str, ...] = ()  # the grader's own
    said: tuple[str, ...] = ()  # notes from the submission's process: its words, not the grader's
    said_cut: int = 0  # how many more it sent than were kept
    model: dict[str, Any] = field(default_factory=dict)
    chose_name: bool = False  # the display name is the student's choice, not the folder's name
    history: tuple[dict[str, float], ...] = ()  # per-epoch training logs, as the child reported them
    baseline: dict[str, Any] = field(default_factory=dict)  # the reference's figures it was measured against
    time_to_accuracy: dict[str, Any] = field(default_factory=dict)  # seeds, runs and score (grader.target)
    training_clock: dict[str, Any] = field(default_factory=dict)  # what grader/timing.py measured
    key: str = ""  # what a class run stored it under (grader.batch.keys); empty for a single grade

    @classmethod
    def refusal(cls, submission: str, problem: str, *, key: str = "") -> Grade:
        """A submission that could not be graded as it stands (no assignment named, say): no
        checks, no points, and the reason, so its student is told."""
        return cls(submission, submission, "", "", "", (), 0.0, problem=problem, key=key)

    @property
    def trained_by(self) -> str:
        """Who trained the scored model, in words (empty for a refusal)."""
        return TRAINED_BY.get(self.trainer, "")

    @property
    def refused(self) -> bool:
        return not self.checks

    @property
    def score(self) -> float:
        return sum(check.score for check in self.checks)

    @property
    def possible(self) -> float:
        return sum(check.max_score for check in self.checks)

    @property
    def passed(self) -> bool:
        """Graded, with every check that carries points passed (a refusal has no checks and has
        not passed; a result worth nothing, like the private part's figure, only informs)."""
        return bool(self.checks) and all(check.passed for check in self.checks if check.max_score)

    def shown(self, moment: Moment = "now") -> tuple[CheckResult, ...]:
        """The checks a student sees at ``moment``: before the due date only the visible ones,
        then those shown after it, then those shown once grades are published; hidden never."""
        latest = MOMENTS.index(moment)
        return tuple(check for check in self.checks if VISIBILITIES.index(check.visibility) <= latest)

    def points(self, moment: Moment = "now") -> tuple[float, float]:
        """The score and the points possible of the checks a student sees at ``moment``."""
        shown = self.shown(moment)
        return sum(check.score for check in shown), sum(check.max_score for check in shown)

    def summary(self) -> str:
        return f"{self.display_name}: {self.score:g} / {self.possible:g} points on {self.title}."

    def student_summary(self, moment: Moment = "now") -> str:
        """The summary a student may see at ``moment``: points of the checks shown then."""
        shown = self.shown(moment)
        later = [c for c in self.checks if c not in shown and c.visibility != "hidden"]
        if not later:
            return self.summary()
        more = f" {len(later)} more result{'s are' if len(later) > 1 else ' is'} shown later"
        if not any(check.max_score for check in later):
            return f"{self.summary()}{more}, worth no points."
        points, possible = self.points(moment)
        return f"{self.display_name}: {points:g} / {possible:g} points on the checks shown now, on {self.title}.{more}."

    def output(self, moment: Moment = "now") -> str:
        """The submission-wide message a student may see at ``moment``: the points shown then, why
        grading stopped (if it did), notes."""
        if self.refused:
            return f"Not graded: {self.problem}"
        parts = [self.student_summary(moment)]
        if self.problem:
            parts.append(self.problem)
        parts.extend(self.notes)
        if self.said:
            parts.append(SAID_HEADING + ":\n" + "\n".join(f"- {note}" for note in self.said_lines()))
        if self.log:
            parts.append("Last lines your code printed:\n" + self.log)
        return "\n\n".join(parts)

    def said_lines(self) -> tuple[str, ...]:
        """The notes from the submission's process, and a last line saying how many were cut."""
        cut = (f"({self.said_cut:,} more were cut: at most {MAX_NOTES} are kept.)",) if self.said_cut else ()
        return (*self.said, *cut)

    def leaderboard(self) -> list[dict[str, Any]]:
        """Gradescope's leaderboard entries; the first says who trained the model, so a board never
        ranks a model the grader trained beside one that trained itself unmarked."""
        entries: list[dict[str, Any]] = []
        if self.trainer and self.metrics.public_accuracy is not None:
            entries.append({"name": "Trained by", "value": self.trainer})
        if self.metrics.public_accuracy is not None:  # never the whole set's: see grader/split.py
            entries.append({"name": "Public accuracy", "value": round(self.metrics.public_accuracy, 4)})
        if self.metrics.parameters is not None:
            entries.append({"name": "Parameters", "value": self.metrics.parameters, "order": "asc"})
        if self.metrics.train_cost is not None:
            entries.append(
                {
                    "name": "Training cost (x reference)",
                    "value": round(self.metrics.train_cost, 2),
                    "order": "asc",
                }
            )
        return entries

    def to_gradescope(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "execution_time": round(self.execution_time, 2),
            "output": self.output(),
            "output_format": OUTPUT_FORMAT,
            "test_output_format": OUTPUT_FORMAT,
            "stdout_visibility": "hidden",  # tracebacks and the grader's log: for the instructor
            "tests": [
                {
                    "name": check.name,
                    "score": check.score,
                    "max_score": check.max_score,
                    "status": "passed" if check.passed else "failed",
                    "output": check.message,
                    "visibility": check.visibility,
                }
                for check in self.checks
            ],
            "leaderboard": self.leaderboard(),
            "extra_data": {
                "counted": not self.refused,  # toward a submission limit (grader/gradescope/limits.py)
                "submission": self.submission,
                "display_name": self.display_name,
                "display_name_chosen": self.chose_name,
                "assignment": self.assignment,
                "title": self.title,
                "dataset": self.dataset,
                "trainer": self.trainer,
                "not_run": [check.name for check in self.checks if check.status == "not run"],
                "timings": {phase: round(seconds, 3) for phase, seconds in self.timings.items()},
                "environment": self.environment,
                "model": self.model,
                "problem": self.problem,
                "log": self.log,
                "notes": list(self.notes),
                "said": list(self.said),
                "said_cut": self.said_cut,
                "metrics": asdict(self.metrics),
                "baseline": self.baseline,
                "history": list(self.history),
                **({"time_to_accuracy": self.time_to_accuracy} if self.time_to_accuracy else {}),
                **({"training_clock": self.training_clock} if self.training_clock else {}),
                **({"key": self.key} if self.key else {}),
            },
        }

    @classmethod
    def from_gradescope(cls, results: dict[str, Any]) -> Grade:
        """The grade a ``results.json`` holds (as ``to_gradescope`` wrote it); raises ``ValueError``
        when it is not one."""
        try:
            extra = dict(results.get("extra_data") or {})
            not_run = set(extra.get("not_run", ()))
            checks = tuple(
                CheckResult(
                    str(test["name"]),
                    float(test["max_score"]),
                    float(test["score"]),
                    "not run" if test["name"] in not_run else test["status"],
                    str(test.get("output", "")),
                    test.get("visibility", "visible")
                    if test.get("visibility") in VISIBILITIES
                    else "visible",
                )
                for test in results.get("tests", ())
            )
            known = {item.name for item in fields(Metrics)}
            metrics = Metrics(**{k: v for k, v in dict(extra.get("metrics") or {}).items() if k in known})
            submission = str(extra["submission"])
            return cls(
                submission=submission,
                display_name=str(extra.get("display_name", submission)),
                assignment=str(extra.get("assignment", "")),
                title=str(extra.get("title", "")),
                dataset=str(extra.get("dataset", "")),
                trainer=str(extra.get("trainer", "")),
                checks=checks,
                execution_time=float(results.get("execution_time", 0.0)),
                metrics=metrics,
                timings=dict(extra.get("timings") or {}),
                environment=dict(extra.get("environment") or {}),
                problem=extra.get("problem"),
                log=str(extra.get("log", "")),
                notes=tuple(str(note) for note in extra.get("notes", ())),
                said=tuple(str(note) for note in extra.get("said", ())),
                said_cut=int(extra.get("said_cut", 0)),
                model=dict(extra.get("model") or {}),
                chose_name=bool(extra.get("display_name_chosen", False)),
                history=tuple(dict(epoch) for epoch in extra.get("history", ())),
                baseline=dict(extra.get("baseline") or {}),
                time_to_accuracy=dict(extra.get("time_to_accuracy") or {}),
                training_clock=dict(extra.get("training_clock") or {}),
                key=str(extra.get("key", "")),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a grader results.json ({error!r})") from None


def student_view(grade: Grade, moment: Moment = "now") -> dict[str, Any]:
    """What a student sees of ``results.json`` on Gradescope at ``moment``: the output, the tests
    shown then, the leaderboard entries and, while no test is held back, the total score."""
    shown = grade.shown(moment)
    held_back = [
        check for check in grade.checks if check.visibility != "hidden" and check not in shown
    ]  # Gradescope hides the total while any of these is
    gradescope = grade.to_gradescope()
    names = {check.name for check in shown}
    return {
        "output": grade.output(moment),
        "tests": [test for test in gradescope["tests"] if test["name"] in names],
        "leaderboard": gradescope["leaderboard"],
        **({} if held_back else {"score": gradescope["score"]}),
    }


def write_results(grade: Grade, out_dir: Path) -> Path:
    """Write ``results.json`` into ``out_dir`` atomically; returns its path."""
    path = Path(out_dir) / RESULTS_FILE
    write_text_atomic(path, json.dumps(grade.to_gradescope(), indent=2) + "\n")
    return path


def read_results(out_dir: Path) -> Grade | None:
    """The grade stored in ``out_dir/results.json``, or None when there is none or it is unreadable."""
    try:
        return Grade.from_gradescope(json.loads((Path(out_dir) / RESULTS_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return None
