"""The checks an assignment is made of: small objects with a name, points and ``run(evidence)``.

Cheap checks (``phase = "build"``) look only at the built model's facts; training checks look
at what the grader measured itself: the training clock (grader/timing.py), and accuracy it
scored from the submission's predictions against labels the submission never saw. Each check's
keys are declared with ``setting`` (grader/settings.py). A new check is one new class
registered in ``KINDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from grader.compare import PASS_THROUGH, compare_facts, explain_departure
from grader.model_facts import ModelFacts, Shape, format_shape
from grader.settings import SettingsError, from_table, setting
from grader.timing import Timing

Status = Literal["passed", "failed", "not run"]
Phase = Literal["build", "train"]


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
    timing: Timing | None = None  # its training's cost on the training clock


@dataclass(frozen=True)
class Evidence:
    """What the grader knows about one submission when a check runs."""

    facts: ModelFacts
    baseline: Baseline | None = None
    timing: Timing | None = None
    accuracy: float | None = None


@dataclass(frozen=True)
class Check:
    """Base class: ``points`` are all or nothing; ``gates`` stops training when it fails."""

    points: float = setting(kind=float, minimum=0, doc="points for passing (all or nothing)")
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

    exact: int | None = setting(None, kind=int, minimum=0, doc="exactly this many parameters")
    minimum: int | None = setting(None, kind=int, minimum=0, doc="at least this many")
    maximum: int | None = setting(None, kind=int, minimum=0, doc="at most this many (a budget)")
    kind: ClassVar[str] = "parameters"
    name: ClassVar[str] = "Parameter count"

    def __post_init__(self) -> None:
        if self.exact is None and self.minimum is None and self.maximum is None:
            raise SettingsError("give exact, or minimum and/or maximum")
        if self.exact is not None and (self.minimum is not None or self.maximum is not None):
            raise SettingsError("give exact alone, or minimum and/or maximum, not both")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise SettingsError(f"minimum {self.minimum:,} is above maximum {self.maximum:,}")

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

    expected: tuple[int, ...] = setting(
        (10,),
        kind=tuple,
        minimum=1,
        length=(1, 8),
        words="a list of positive sizes per image, e.g. [10]",
        doc="the output per image: [10] means (None, 10)",
    )
    kind: ClassVar[str] = "output_shape"
    name: ClassVar[str] = "Output shape"

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
    """Training's cost on the training clock (grader/timing.py): at most ``max_ratio`` x the
    reference's, counted in steps of the reference training beside it, or at most ``max_seconds``
    of CPU time. The ratio is judged with its uncertainty: only a cost over the limit by more than
    the measurement's noise fails, so a model like the reference never loses points to noise."""

    max_seconds: float | None = setting(
        None, kind=float, above=0, doc="at most this many seconds of CPU time"
    )
    max_ratio: float | None = setting(
        None, kind=float, above=0, doc="at most this many times the reference's cost"
    )
    kind: ClassVar[str] = "training_time"
    name: ClassVar[str] = "Training time"
    phase: ClassVar[Phase] = "train"
    gates: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if (self.max_seconds is None) == (self.max_ratio is None):
            raise SettingsError("give exactly one of max_seconds and max_ratio")

    @property
    def needs_baseline(self) -> bool:
        return self.max_ratio is not None

    def describe(self) -> str:
        if self.max_ratio is not None:
            return f"trains within {self.max_ratio:g} x the reference's cost"
        return f"trains within {self.max_seconds:g} s of CPU time"

    def evaluate(self, evidence: Evidence) -> tuple[bool, str]:
        timing = evidence.timing
        assert timing is not None
        if self.max_ratio is None:
            used, limit = timing.cpu_seconds, float(self.max_seconds or 0)
            if used > limit:
                return False, (
                    f"Training used {used:.1f} s of CPU time, over the limit of {limit:g} s. Larger "
                    "batches, fewer epochs or a smaller model train faster."
                )
            return True, f"Training used {used:.1f} s of CPU time, within {limit:g} s."
        baseline = evidence.baseline
        assert baseline is not None and baseline.timing is not None
        ratio, noise = timing.ratio(baseline.timing)
        measured = (
            f"{timing.cpu_seconds:.1f} s of CPU against the reference's {baseline.timing.cpu_seconds:.1f} s, "
            "each counted in steps of the reference's training run beside it on the same cores"
        )
        cost = f"Training cost {ratio:.2f} x the reference's (±{noise:.0%}: {measured})"
        if ratio > self.max_ratio * (1 + noise):
            return False, (
                f"{cost}, over the limit of {self.max_ratio:g} x. Larger batches, fewer epochs or a "
                "smaller model train faster."
            )
        if ratio > self.max_ratio:
            return True, (
                f"{cost}: over {self.max_ratio:g} x by less than the measurement's uncertainty, so "
                "within the limit."
            )
        return True, f"{cost}, within {self.max_ratio:g} x."


@dataclass(frozen=True)
class Accuracy(Check):
    """Accuracy on the held-out test split: ``minimum``, or at most ``below_reference`` points under it."""

    minimum: float | None = setting(
        None,
        kind=float,
        minimum=0,
        maximum=1,
        words="a fraction from 0 to 1 (0.97 for 97%)",
        doc="at least this accuracy",
    )
    below_reference: float | None = setting(
        None,
        kind=float,
        minimum=0,
        maximum=100,
        words="percentage points from 0 to 100",
        doc="at most this many points under the reference's",
    )
    kind: ClassVar[str] = "accuracy"
    name: ClassVar[str] = "Test accuracy"
    phase: ClassVar[Phase] = "train"
    gates: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if (self.minimum is None) == (self.below_reference is None):
            raise SettingsError(
                "give exactly one of minimum (a fraction, e.g. 0.97) and below_reference (points)"
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


def make_check(table: Any) -> Check:
    """Build a check from its assignment-file table, refusing unknown kinds and misspelt keys."""
    kind = table.get("kind") if isinstance(table, dict) else None
    if kind not in KINDS:
        raise SettingsError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    return from_table(KINDS[kind], {key: value for key, value in table.items() if key != "kind"})


__all__ = [
    "Accuracy",
    "Baseline",
    "Check",
    "CheckResult",
    "Evidence",
    "LayerShapes",
    "OutputShape",
    "ParameterCount",
    "TrainingTime",
    "make_check",
]
