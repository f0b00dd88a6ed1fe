"""Time-to-accuracy, scored as MLPerf Training scores it.

With a ``[target]`` table an assignment times how long training takes to reach an accuracy,
not how long a fixed number of epochs takes. The grader holds a validation split out of the
training data (never the test set); after every epoch the runner measures the model on it and
stops training once the target is reached. The verifier, which runs no submission code, then
measures the saved model on the same split: a run counts only if that accuracy reaches the
target. Each seed is one run; the score is the mean of the runs' times without the fastest and
the slowest (once there are at least three), as MLPerf aggregates its five runs.

    [target]
    accuracy = 0.97             # on the held-out validation split
    validation_fraction = 0.1   # of the training data, the same images for every run
    seeds = [1, 2, 3, 4, 5]     # one training run each (default: the assignment's seed)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.scoring import aggregate
from grader.settings import Target

HOLD_OUT_SEED = 20_251_122  # fixed, so every run, reference and student see the same split


def hold_out(count: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training part and of the validation part of ``count`` training images."""
    order = np.random.default_rng(HOLD_OUT_SEED).permutation(count)
    held = max(1, round(count * fraction))
    return np.sort(order[held:]), np.sort(order[:held])


def training_split(
    target: Target | None, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """What a runner trains on: all of ``x``, or with a target all but the held-out split (returned third)."""
    if target is None:
        return x, y, None
    kept, held = hold_out(len(x), target.validation_fraction)
    return x[kept], y[kept], (x[held], y[held])


@dataclass(frozen=True)
class Run:
    """One seed's training run: the grader's time, and the accuracy the verifier measured."""

    seed: int
    seconds: float
    epochs: int
    accuracy: float | None  # on the held-out split, measured outside the submission's process
    reached: bool
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "epochs": self.epochs,
            "validation_accuracy": self.accuracy,
            "reached": self.reached,
            "problem": self.problem,
        }


def summary(target: Target, runs: Sequence[Run]) -> dict[str, Any]:
    """What results.json records about time-to-accuracy: every seed's run and the score."""
    reached = all(run.reached for run in runs) and len(runs) == len(target.seeds)
    return {
        "target_accuracy": target.accuracy,
        "validation_fraction": target.validation_fraction,
        "seeds": list(target.seeds),
        "runs": [run.to_dict() for run in runs],
        "aggregate": "mean without the fastest and slowest run" if len(runs) >= 3 else "mean",
        "seconds": round(aggregate([run.seconds for run in runs]), 3) if reached else None,
    }


def describe(target: Target, runs: Sequence[Run]) -> str:
    """One line for the report: each seed's time to target and the score."""
    parts = [
        f"seed {run.seed} {run.seconds:.1f} s ({run.epochs} epoch{'' if run.epochs == 1 else 's'})"
        if run.reached
        else f"seed {run.seed} did not reach it"
        + (f" ({run.accuracy:.2%})" if run.accuracy is not None else "")
        for run in runs
    ]
    line = (
        f"Time to {target.accuracy:.2%} on the held-out {target.validation_fraction:.0%}: {'; '.join(parts)}."
    )
    if all(run.reached for run in runs):
        rule = "mean without the fastest and slowest" if len(runs) >= 3 else "mean"
        line += f" Score ({rule}): {aggregate([run.seconds for run in runs]):.1f} s."
    return line
