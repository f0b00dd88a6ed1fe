"""The checks an assignment is made of: small objects with a name, points and ``run(evidence)``.

Cheap checks (``phase = "build"``) look only at the built model's facts; training checks look
at what the grader measured itself: its own clock around training, and accuracy it scored from
the submission's predictions against labels the submission never saw. A new check is one new
class registered in ``KINDS``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from difflib import get_close_matches
from typing import Any, ClassVar, Literal

from grader.compare import PASS_THROUGH, compare_facts, explain_departure
from grader.model_facts import ModelFacts, Shape, format_shape

Status = Literal["passed", "failed", "not run"]
Phase = Literal["build", "train"]


class CheckError(ValueError):
    """A check's settings in an assignment file are wrong."""


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, with a message written for the student."""

    name: str
    max_score: float
    score: float
    status: Status
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Baseline:
    """The reference model as measured on this machine, TensorFlow version and data."""

    reference: str
    dataset: str
    facts: ModelFacts
    train_seconds: float
    accuracy: float
    epochs: int
    public_accuracy: float | None = None  # on the test set's public and private parts (grader.split)
    private_accuracy: float | None = None


@dataclass(frozen=True)
class Evidence:
    """What the grader knows about one submission when a check runs."""

    facts: ModelFacts
    baseline: Baseline | None = None
    train_seconds: float | None = None
    accuracy: float | None = None


@dataclass(frozen=True)
class Check:
    """Base class: ``points`` are all or nothing; ``gates`` stops training when it fails."""

    points: float
    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    phase: ClassVar[Phase] = "build"
    gates: ClassVar[bool] = True

    @property
    def needs_baseline(self) -> bool:
        return False

    def evaluate(self, evidence: Evidence) -> tuple[bool, str]:
        raise NotImplementedError

    def run(self, evidence: Evidence) -> CheckResult:
        ok, message = self.evaluate(evidence)
        return CheckResult(
            self.name, self.points, self.points if ok else 0.0, "passed" if ok else "failed", message
        )

    def not_run(self, reason: str) -> CheckResult:
        return CheckResult(self.name, self.points, 0.0, "not run", f"Not run: {reason}")

    def describe(self) -> str:
        """The rule in words, for reports and ``grader assignments``."""
        raise NotImplementedError


@dataclass(frozen=True)
class ParameterCount(Check):
    """Total parameters: ``exact``, or at least ``minimum`` and/or at most ``maximum``."""

    exact: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    kind: ClassVar[str] = "parameters"
    name: ClassVar[str] = "Parameter count"

    def __post_init__(self) -> None:
        if self.exact is None and self.minimum is None and self.maximum is None:
            raise CheckError("give exact, or minimum and/or maximum")
        if self.exact is not None and (self.minimum is not None or self.maximum is not None):
            raise CheckError("give exact alone, or minimum and/or maximum, not both")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise CheckError(f"minimum {self.minimum:,} is above maximum {self.maximum:,}")

    def describe(self) -> str:
        if self.exact is not None:
            return f"exactly {self.exact:,} parameters"
        if self.minimum is not None and self.maximum is not None:
            return f"between {self.minimum:,} and {self.maximum:,} parameters"
        if self.maximum is not None:
            return f"at most {self.maximum:,} parameters"
        return f"at least {self.minimum:,} parameters"

    def evaluate(self, evidence: Evidence) -> tuple[bool, str]:
        count = evidence.facts.total_params
        if self.exact is not None and count != self.exact:
            difference = count - self.exact
            return (
                False,
                f"The model has {count:,} parameters; the assignment asks for exactly {self.exact:,} ({difference:+,}).",
            )
        if self.maximum is not None and count > self.maximum:
            return False, (
                f"The model has {count:,} parameters, {count - self.maximum:,} over the budget of "
                f"{self.maximum:,}. Look for a layer wider or a kernel larger than the reference's."
            )
        if self.minimum is not None and count < self.minimum:
            return (
                False,
                f"The model has {count:,} parameters; the assignment asks for at least {self.minimum:,}.",
            )
        return True, f"{count:,} parameters ({self.describe()})."


@dataclass(frozen=True)
class OutputShape(Check):
    """The model's output per image (the batch dimension is implied): ``[10]`` means ``(None, 10)``."""

    expected: tuple[int, ...] = (10,)
    kind: ClassVar[str] = "output_shape"
    name: ClassVar[str] = "Output shape"

    def __post_init__(self) -> None:
        dims = self.expected
        if not isinstance(dims, list | tuple) or not dims or not all(type(d) is int and d > 0 for d in dims):
            raise CheckError(f"expected is a list of positive sizes per image, e.g. [10], not {dims!r}")
        object.__setattr__(self, "expected", tuple(dims))

    @property
    def shape(self) -> Shape:
        return (None, *self.expected)

    def describe(self) -> str:
        return f"outputs {format_shape(self.shape)}"

    def evaluate(self, evidence: Evidence) -> tuple[bool, str]:
        shape: Shape | None = evidence.facts.output_shape
        if shape is None or tuple(shape) != self.shape:
            found = "no single output" if not shape else format_shape(shape)
            return False, (
                f"The model outputs {found}; it must output {format_shape(self.shape)}: "
                "one score per class for each image."
            )
        return True, f"Outputs {format_shape(self.shape)}."


@dataclass(frozen=True)
class LayerShapes(Check):
    """Each shape-changing layer outputs what the reference's does, in order.

    Layers that pass their input's shape through (Dropout, Activation, normalisation) are left
    out on both sides: rates and regularisers are the student's choice, and parameter budgets
    are the parameter check's business.
    """

    kind: ClassVar[str] = "layers"
    name: ClassVar[str] = "Layer shapes"

    @property
    def needs_baseline(self) -> bool:
        return True

    def describe(self) -> str:
        return "each convolution, pooling, flatten and dense layer outputs the reference's shape"

    def evaluate(self, evidence: Evidence) -> tuple[bool, str]:
        assert evidence.baseline is not None
        rows = compare_facts(evidence.baseline.facts, evidence.facts, params=False, skip=PASS_THROUGH)
        departure = explain_departure(rows)
        if departure:
            return False, departure
        compared = sum(1 for row in rows if row.label.startswith("layer"))
        return True, f"All {compared} shape-changing layers match the reference's output shapes."


@dataclass(frozen=True)
class TrainingTime(Check):
    """Training wall time on the grader's clock: ``max_seconds``, or ``max_ratio`` x the reference's."""

    max_seconds: float | None = None
    max_ratio: float | None = None
    kind: ClassVar[str] = "training_time"
    name: ClassVar[str] = "Training time"
    phase: ClassVar[Phase] = "train"
    gates: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if (self.max_seconds is None) == (self.max_ratio is None):
            raise CheckError("give exactly one of max_seconds and max_ratio")
        if (self.max_seconds or self.max_ratio or 0) <= 0:
            raise CheckError("the limit must be positive")

    @property
    def needs_baseline(self) -> bool:
        return self.max_ratio is not None

    def describe(self) -> str:
        if self.max_ratio is not None:
            return f"trains within {self.max_ratio:g} x the reference's time"
        return f"trains within {self.max_seconds:g} s"

    def limit(self, baseline: Baseline | None) -> tuple[float, str]:
        if self.max_ratio is None:
            return float(self.max_seconds or 0), f"the limit of {self.max_seconds:g} s"
        assert baseline is not None
        limit = self.max_ratio * baseline.train_seconds
        return (
            limit,
            f"{limit:.1f} s ({self.max_ratio:g} x the reference's {baseline.train_seconds:.1f} s on this machine)",
        )

    def evaluate(self, evidence: Evidence) -> tuple[bool, str]:
        assert evidence.train_seconds is not None
        limit, words = self.limit(evidence.baseline)
        seconds = evidence.train_seconds
        if seconds > limit:
            return False, (
                f"Training took {seconds:.1f} s, over {words}. Larger batches, fewer epochs or a "
                "smaller model train faster."
            )
        return True, f"Trained in {seconds:.1f} s, within {words}."


@dataclass(frozen=True)
class Accuracy(Check):
    """Accuracy on the held-out test split: ``minimum``, or at most ``below_reference`` points under it."""

    minimum: float | None = None
    below_reference: float | None = None
    kind: ClassVar[str] = "accuracy"
    name: ClassVar[str] = "Test accuracy"
    phase: ClassVar[Phase] = "train"
    gates: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if (self.minimum is None) == (self.below_reference is None):
            raise CheckError(
                "give exactly one of minimum (a fraction, e.g. 0.97) and below_reference (points)"
            )
        if self.minimum is not None and not 0 <= self.minimum <= 1:
            raise CheckError(f"minimum is a fraction between 0 and 1, not {self.minimum}")
        if self.below_reference is not None and not 0 <= self.below_reference <= 100:
            raise CheckError(
                f"below_reference is in percentage points (0 to 100), not {self.below_reference}"
            )

    @property
    def needs_baseline(self) -> bool:
        return self.below_reference is not None

    def describe(self) -> str:
        if self.below_reference is not None:
            return f"test accuracy at most {_points(self.below_reference)} below the reference's"
        return f"test accuracy at least {self.minimum:.2%}"

    def threshold(self, baseline: Baseline | None) -> tuple[float, str]:
        if self.below_reference is None:
            return float(self.minimum or 0), f"{self.minimum:.2%} needed"
        assert baseline is not None
        needed = baseline.accuracy - self.below_reference / 100
        return needed, (
            f"{needed:.2%} needed: the reference's {baseline.accuracy:.2%} on this machine "
            f"minus {_points(self.below_reference)}"
        )

    def evaluate(self, evidence: Evidence) -> tuple[bool, str]:
        assert evidence.accuracy is not None
        needed, words = self.threshold(evidence.baseline)
        accuracy = evidence.accuracy
        if accuracy < needed:
            return False, (
                f"Test accuracy {accuracy:.2%}; {words}. Check the optimizer and its learning rate, "
                "and that the model trains for enough epochs."
            )
        return True, f"Test accuracy {accuracy:.2%}; {words}."


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


KINDS: dict[str, type[Check]] = {
    cls.kind: cls for cls in (ParameterCount, OutputShape, LayerShapes, TrainingTime, Accuracy)
}


def make_check(table: dict[str, Any]) -> Check:
    """Build a check from its assignment-file table, refusing unknown kinds and misspelt keys."""
    settings = dict(table)
    kind = settings.pop("kind", None)
    if kind not in KINDS:
        raise CheckError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    cls = KINDS[kind]
    allowed = [f.name for f in fields(cls)]
    for key in settings:
        if key not in allowed:
            close = get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; allowed: {', '.join(allowed)}"
            raise CheckError(f"unknown setting {key!r} for a {kind} check{hint}")
    if "points" not in settings:
        raise CheckError("points is required")
    for key, value in settings.items():
        if key != "expected" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise CheckError(f"{key} must be a number, not {value!r}")
    if settings["points"] < 0:
        raise CheckError("points cannot be negative")
    return cls(**settings)


__all__ = [
    "Accuracy",
    "Baseline",
    "Check",
    "CheckError",
    "CheckResult",
    "Evidence",
    "LayerShapes",
    "OutputShape",
    "ParameterCount",
    "TrainingTime",
    "make_check",
]
