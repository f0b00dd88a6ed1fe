"""The training clock: what one run of training cost, measured so the machine's load cannot change it.

Wall time on a shared machine is not a property of the submission. Measured on a 2-core VM, the
same reference training on one pinned core took 6.9 to 10.7 s of CPU (12 to 26 s of wall time)
depending on what ran beside it, and a plain Python loop ran 40% slower from one half-second to
the next while the machine was otherwise idle. So the clock measures two things over the same
window, on the same cores:

- the CPU time of the submission's whole process tree, read from ``/proc`` (time-sharing the
  core with other work does not change it), from ``build_model()`` to the end of training;
- the pace: a child that runs no submission code trains the assignment's reference beside it
  at a lower priority (about a tenth of the cores) and reports its steps and CPU time.

A run's cost is its CPU time counted in pace-setter steps: how many steps of the reference's
training the same CPU time bought at that moment. Whatever slows the machine slows both, and
the ratio to the reference's own cost, measured the same way when it is calibrated, cancels it:
in the measurement above the cost stayed within 200 to 225 pace steps while the CPU time moved
by 50%. ``noise`` is how far the pace itself wandered during the window, as a 95% bound.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from grader.scoring import aggregate

PACE_IMAGES = 2048  # the training images it loops over
# The smallest uncertainty claimed for one run's cost: the spread of identical grades, measured.
# Five byte-identical copies of alice graded as one class (jobs 2, 5 epochs) spread by 12.6% with
# the grader training and 11.1% with the submission training (max over min), and the fairness
# benchmark's reference twin and alice stay within 7.2% and 10.2% of themselves under any one
# schedule (benchmarks/test_fairness.py; docs/fair-grades.md). A ratio of two costs then claims
# at least 14% (both floors in quadrature), which covers those spreads, so identical submissions
# share a rank. 5% (7% for a ratio) was claimed before, and a class of five broke it.
NOISE_FLOOR = 0.10


class ClockError(RuntimeError):
    """The pace-setter gave nothing to measure against (the grader's fault, never the submission's)."""


@dataclass(frozen=True)
class PaceMark:
    """The pace-setter's count at one instant, and its samples since it began pacing."""

    steps: int
    cpu: float
    samples: tuple[tuple[int, float], ...] = ()

    @classmethod
    def from_event(cls, event: dict) -> PaceMark:
        samples = tuple((int(steps), float(cpu)) for steps, cpu in event.get("samples", ()))
        return cls(int(event["steps"]), float(event["cpu"]), samples)


@dataclass(frozen=True)
class Cost:
    """One run: its wall time, its CPU time, and the pace-setter's steps and CPU time beside it."""

    wall_seconds: float
    cpu_seconds: float
    pace_steps: int
    pace_cpu: float
    noise: float = NOISE_FLOOR

    @property
    def steps(self) -> float:
        """The run's CPU time in pace-setter steps: its cost, in the reference's own units."""
        return self.cpu_seconds / self.pace_rate

    @property
    def pace_rate(self) -> float:
        """CPU seconds one pace-setter step took during the run."""
        return self.pace_cpu / self.pace_steps

    def to_dict(self) -> dict[str, float]:
        found = {key: round(value, 4) for key, value in asdict(self).items()}
        return found | {"steps": round(self.steps, 1)}

    @classmethod
    def from_dict(cls, figures: dict) -> Cost:
        return cls(
            float(figures["wall_seconds"]),
            float(figures["cpu_seconds"]),
            int(figures["pace_steps"]),
            float(figures["pace_cpu"]),
            float(figures.get("noise", NOISE_FLOOR)),
        )


def measure(wall_seconds: float, cpu_seconds: float, start: PaceMark, end: PaceMark) -> Cost:
    """The cost of a run that used ``cpu_seconds`` while the pace-setter went from ``start`` to ``end``."""
    steps, cpu = end.steps - start.steps, end.cpu - start.cpu
    if steps < 1 or cpu <= 0:
        raise ClockError(f"the pace-setter made no progress during training ({steps} steps)")
    return Cost(wall_seconds, cpu_seconds, steps, cpu, pace_noise(end.samples))


def pace_noise(samples: Sequence[tuple[int, float]]) -> float:
    """A 95% bound on the relative error of the pace over a window, from how much its rate varied
    between samples (twice the standard error of the mean rate), never below ``NOISE_FLOOR``."""
    rates = [
        (cpu - earlier_cpu) / (steps - earlier_steps)
        for (earlier_steps, earlier_cpu), (steps, cpu) in itertools.pairwise(samples)
        if steps > earlier_steps
    ]
    if len(rates) < 2:
        return NOISE_FLOOR
    spread = statistics.stdev(rates) / statistics.mean(rates)
    return max(NOISE_FLOOR, 2 * spread / math.sqrt(len(rates)))


def combined(costs: Sequence[Cost]) -> float:
    """The relative uncertainty of a ratio of costs: their noises added in quadrature."""
    return math.sqrt(sum(cost.noise**2 for cost in costs))


@dataclass(frozen=True)
class Timing:
    """What the training-time check judges: the runs' cost in pace-setter steps (MLPerf's
    aggregate over several runs), their CPU and wall seconds likewise, and the cost's uncertainty."""

    steps: float
    cpu_seconds: float
    wall_seconds: float
    noise: float

    @classmethod
    def of(cls, costs: Sequence[Cost]) -> Timing:
        return cls(
            aggregate([cost.steps for cost in costs]),
            aggregate([cost.cpu_seconds for cost in costs]),
            aggregate([cost.wall_seconds for cost in costs]),
            max(cost.noise for cost in costs),
        )

    def ratio(self, reference: Timing) -> tuple[float, float]:
        """This cost over the reference's, and that ratio's relative uncertainty."""
        return self.steps / reference.steps, math.hypot(self.noise, reference.noise)

    def to_dict(self) -> dict[str, float]:
        return {key: round(value, 4) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, figures: dict[str, Any]) -> Timing:
        return cls(*(float(figures[key]) for key in ("steps", "cpu_seconds", "wall_seconds", "noise")))


class Trainee(Protocol):
    """The child being timed (grader.runner.supervisor.Runner, or a test's stand-in)."""

    def cpu_seconds(self) -> float: ...
    def train(self, x: np.ndarray, y: np.ndarray, validation: Any = None, watch: Any = None) -> Any: ...


class Pacer(Protocol):
    """A child that runs no submission code and can pace."""

    def pace(self, x: np.ndarray, y: np.ndarray) -> PaceMark: ...
    def mark(self) -> PaceMark: ...
    def stop_pacing(self) -> PaceMark: ...


# A run is stopped once its cost so far is over the limit by STOP_MARGIN times the uncertainty the
# training-time check would allow it (never less than its noise floor): the pace it is counted in can
# wander that far only as a measurement error, so a run stopped there could not have passed.
STOP_MARGIN = 2.0
# The running cost is counted from once WATCH_MIN_STEPS pace-setter steps of training have passed,
# and trusted after WATCH_MIN_STEPS more. Building the model and tracing its first steps cost more
# than a step costs later: counted in, they made a batch-of-one run at 3.3 x its reference, whose
# whole run passes a 3 x limit's uncertainty, read as over it after 24 s. Counted from there on, the
# rate is what the rest of the run costs, and the whole run's cost (start-up included) is no less.
WATCH_MIN_STEPS = 20
COST_LIMIT_KEY = "training_time"  # the limit a stopped run failed: the training-time check's


@dataclass(frozen=True)
class Stop:
    """Why training was stopped before it ended, for the student."""

    message: str
    limit: str = COST_LIMIT_KEY


@dataclass(frozen=True)
class CostLimit:
    """The training-time check's limit, for stopping a run that can no longer pass it: at most
    ``max_ratio`` x the ``reference``'s cost, or at most ``max_seconds`` of CPU time."""

    max_ratio: float | None = None
    reference: Timing | None = None
    max_seconds: float | None = None

    def over(
        self, total: float, cpu: float, steps: int, pace_cpu: float, samples: Sequence[tuple[int, float]]
    ) -> str:
        """Why a run cannot pass (empty while it still can): it has used ``total`` seconds of CPU
        time in all, ``cpu`` of them since it was under way, while the pace-setter made ``steps``
        steps in ``pace_cpu`` seconds."""
        if self.max_seconds is not None:
            if total <= self.max_seconds:
                return ""
            return (
                f"its training had used {total:.1f} s of CPU time, over the limit of {self.max_seconds:g} s, "
                "so it could not pass the training-time check"
            )
        if self.max_ratio is None or self.reference is None or steps < WATCH_MIN_STEPS or pace_cpu <= 0:
            return ""
        ratio = cpu / (pace_cpu / steps) / self.reference.steps
        noise = math.hypot(max(pace_noise(samples), NOISE_FLOOR), self.reference.noise)
        if ratio <= self.max_ratio * (1 + STOP_MARGIN * noise):
            return ""
        return (
            f"its training was costing {ratio:.2f} x the reference's, over the limit of "
            f"{self.max_ratio:g} x by more than twice the measurement's uncertainty (±{noise:.0%}), "
            "so it could not pass the training-time check"
        )


@dataclass
class RunningCost:
    """A run's cost as it trains, counted from its first ``WATCH_MIN_STEPS`` pace-setter steps on
    (see ``WATCH_MIN_STEPS``): its CPU time and the pace-setter's count then."""

    start: PaceMark
    since: tuple[float, PaceMark] | None = None

    def over(self, limit: CostLimit, total: float, now: PaceMark) -> str:
        """Why the run, at ``total`` seconds of CPU time with the pace-setter at ``now``, cannot pass."""
        if self.since is None:
            if now.steps - self.start.steps >= WATCH_MIN_STEPS:
                self.since = (total, now)
            return limit.over(total, 0.0, 0, 0.0, ()) if limit.max_seconds is not None else ""
        cpu, mark = self.since
        samples = [sample for sample in now.samples if sample[0] >= mark.steps]  # the pace's, since then
        return limit.over(total, total - cpu, now.steps - mark.steps, now.cpu - mark.cpu, samples)


def timed_training(
    trainee: Trainee,
    pacer: Pacer,
    x: np.ndarray,
    y: np.ndarray,
    validation: Any = None,
    *,
    cpu_from: float,
    limit: CostLimit | None = None,
) -> tuple[Any, Cost]:
    """Train ``trainee`` while ``pacer`` paces it; the cost counts the trainee's CPU time since
    ``cpu_from`` (read before it built its model, so work done while building counts too). With
    a ``limit``, training stops as soon as its cost so far cannot pass it."""
    start = _paced(pacer.pace, x[:PACE_IMAGES], y[:PACE_IMAGES])
    began = time.monotonic()
    running = RunningCost(start)

    def watch() -> Stop | None:
        assert limit is not None
        now = _paced(pacer.mark)
        reason = running.over(limit, trainee.cpu_seconds() - cpu_from, now)
        if not reason:
            return None
        return Stop(
            f"stopped after {time.monotonic() - began:.0f} s of training: {reason}. Larger batches, "
            "fewer epochs or a smaller model train faster."
        )

    try:
        trained = trainee.train(x, y, validation, watch if limit is not None else None)
        cpu = trainee.cpu_seconds() - cpu_from
    except BaseException:
        with contextlib.suppress(Exception):
            pacer.stop_pacing()
        raise
    return trained, measure(trained.seconds, cpu, start, _paced(pacer.stop_pacing))


def _paced(call: Callable[..., PaceMark], *args: Any) -> PaceMark:
    """A pace-setter's answer. It runs no submission code, so its failure (it could not start
    pacing, died or stopped answering) is the grader's, never the run's it was pacing."""
    try:
        return call(*args)
    except Exception as error:
        said = getattr(error, "message", str(error))
        raise ClockError(f"the pace-setter failed: {said}\n{getattr(error, 'log', '')}") from error
