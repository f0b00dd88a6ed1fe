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
from grader.scoring import TestScore
from grader.settings import SettingsError, from_table, setting
from grader.split import PUBLIC_FRACTION
from grader.timing import Timing

Status = Literal["passed", "failed", "not run"]
Phase = Literal["build", "train"]
Visibility = Literal["visible", "after_due_date", "after_published", "hidden"]
# Gradescope's visibilities, from shown soonest to never shown to students.
VISIBILITIES: tuple[Visibility, ...] = ("visible", "after_due_date", "after_published", "hidden")


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, with a message written for the student."""

    name: str
    max_score: float
    score: float
    status: Status
    message: str
    visibility: Visibility = "visible"

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
    test: TestScore | None = None  # the predictions scored on the test set and its two parts


@dataclass(frozen=True)
class Check:
    """Base class: ``points`` are all or nothing; ``gates`` stops training when it fails."""

    points: float = setting(kind=float, minimum=0, doc="points for passing (all or nothing)")
    visibility: str = setting(
        "visible",
        kind=str,
        choices=VISIBILITIES,
        doc="when students see it on Gradescope (hidden: worth 0 points)",
    )
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
        return self.result(self.points if ok else 0.0, "passed" if ok else "failed", message)

    def sealed(self, evidence: Evidence) -> CheckResult | None:
        """A second result, shown to students later than this one (the accuracy check's private
        part); most checks have none."""
        return None

    def failed(self, message: str) -> CheckResult:
        return self.result(0.0, "failed", message)

    def not_run(self, reason: str) -> CheckResult:
        return self.result(0.0, "not run", f"Not run: {reason}")

    def result(self, score: float, status: Status, message: str) -> CheckResult:
        return CheckResult(self.name, self.points, score, status, message, self.visibility)  # type: ignore[arg-type]

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
    """Accuracy on the public part of the held-out test split (grader/split.py): ``minimum``, or
    at most ``below_reference`` points under the reference's on the same part.

    The public part is all a student is ever scored on before the deadline; the private part and
    the whole set go to a second, sealed result worth no points (``private_visibility``), so
    nothing a student sees lets them work out the figure the final leaderboard ranks by.
    """

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
    private_visibility: str = setting(
        "after_due_date",
        kind=str,
        choices=VISIBILITIES[1:],
        doc="when students see the private part's figure",
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
        if VISIBILITIES.index(self.private_visibility) < VISIBILITIES.index(self.visibility):  # type: ignore[arg-type]
            raise SettingsError(
                f"private_visibility {self.private_visibility!r} would show the private part's figure "
                f"before this check itself ({self.visibility!r})."
            )

    @property
    def needs_baseline(self) -> bool:
        return self.below_reference is not None

    def describe(self) -> str:
        if self.below_reference is not None:
            return f"public test accuracy at most {_points(self.below_reference)} below the reference's"
        return f"public test accuracy at least {self.minimum:.2%}"

    def threshold(self, baseline: Baseline | None, part: str = "public") -> tuple[float, str]:
        """The accuracy needed on one part of the test set ("public" or "private"), in words."""
        if self.below_reference is None:
            return float(self.minimum or 0), f"{self.minimum:.2%} needed"
        assert baseline is not None
        figure = baseline.public_accuracy if part == "public" else baseline.private_accuracy
        reference = baseline.accuracy if figure is None else figure
        needed = reference - self.below_reference / 100
        return needed, (
            f"{needed:.2%} needed: the reference's {reference:.2%} on this part on this machine "
            f"minus {_points(self.below_reference)}"
        )

    def evaluate(self, evidence: Evidence) -> tuple[bool, str]:
        assert evidence.test is not None and evidence.test.public is not None
        needed, words = self.threshold(evidence.baseline)
        accuracy = evidence.test.public
        scored = f"Test accuracy {accuracy:.2%} on the public {PUBLIC_FRACTION:.0%} of the test set"
        if accuracy < needed:
            return False, (
                f"{scored}; {words}. Check the optimizer and its learning rate, and that the model "
                "trains for enough epochs."
            )
        return True, f"{scored}; {words}."

    def sealed(self, evidence: Evidence) -> CheckResult | None:
        test = evidence.test
        if test is None or test.private is None or test.accuracy is None:
            return None
        needed, words = self.threshold(evidence.baseline, "private")
        ok = test.private >= needed
        nonfinite = (
            f" {test.nonfinite_private:,} of its predictions were NaN or infinite and count as wrong."
            if test.nonfinite_private
            else ""
        )
        message = (
            f"Test accuracy {test.private:.2%} on the private {1 - PUBLIC_FRACTION:.0%} of the test set; "
            f"{words}.{nonfinite} On the whole test set: {test.accuracy:.2%}. Worth no points: it shows "
            "how the model does on images nobody saw a score for, and ranks the final leaderboard."
        )
        return CheckResult(
            PRIVATE_NAME,
            0.0,
            0.0,
            "passed" if ok else "failed",
            message,
            self.private_visibility,  # type: ignore[arg-type]
        )


PRIVATE_NAME = "Test accuracy, private part"


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
    check = from_table(KINDS[kind], {key: value for key, value in table.items() if key != "kind"})
    if check.visibility == "hidden" and check.points:
        raise SettingsError(
            "visibility hidden is for checks worth 0 points: students see their total score, which "
            "would give the check away. Use after_due_date or after_published to hold back a check "
            "that carries points."
        )
    return check


__all__ = [
    "VISIBILITIES",
    "Accuracy",
    "Baseline",
    "Check",
    "CheckResult",
    "Evidence",
    "LayerShapes",
    "OutputShape",
    "ParameterCount",
    "TrainingTime",
    "Visibility",
    "make_check",
]
