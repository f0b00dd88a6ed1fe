"""Scoring in one place: right or wrong per image, accuracy, the test set's public and private
parts, and MLPerf's aggregate over runs.

Grading, the reference's calibration, time to accuracy and the runner's stop-at-target callback
all score through these functions, so a row of NaN counts as wrong everywhere and the reference
is measured exactly as a submission is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grader.split import public_mask

CLASSES = 10


def correct(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One flag per image: its top score is the right class (a row with NaN or infinity: wrong)."""
    finite = np.isfinite(scores).all(axis=1)
    return finite & (np.argmax(np.nan_to_num(scores), axis=1) == labels)


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy of class scores, as ``correct`` counts it."""
    return float(np.mean(correct(scores, labels)))


def matched_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy once the model's classes are renamed to fit the labels best: each predicted class
    is matched to one label, largest agreement first. A model that predicts every 3 as a 5 and
    every 5 as a 3 already tells the digits apart, and scores here what it would score renamed."""
    predicted = np.where(np.isfinite(scores).all(axis=1), np.argmax(np.nan_to_num(scores), axis=1), -1)
    agree = np.zeros((CLASSES, CLASSES))
    for kind in range(CLASSES):
        agree[kind] = np.bincount(labels[predicted == kind], minlength=CLASSES)[:CLASSES]
    total = 0.0
    for _ in range(CLASSES):
        row, column = np.unravel_index(np.argmax(agree), agree.shape)
        if agree[row, column] <= 0:
            break
        total += agree[row, column]
        agree[row, :] = -1
        agree[:, column] = -1
    return float(total / len(labels)) if len(labels) else 0.0


@dataclass(frozen=True)
class TestScore:
    """Accuracy on the whole test set and on its public and private parts (``grader.split``);
    ``problem`` says why there is none, or what was counted wrong on the public part (a student
    sees it, so it says nothing of the private part)."""

    accuracy: float | None = None
    public: float | None = None
    private: float | None = None
    problem: str | None = None
    nonfinite_public: int = 0  # predictions that were NaN or infinite, counted wrong
    nonfinite_private: int = 0


def score_test(scores: np.ndarray, labels: np.ndarray) -> TestScore:
    """Score a model's outputs on the test images against labels it never saw."""
    expected = (len(labels), CLASSES)
    if scores.shape != expected:
        return TestScore(
            problem=f"The model's predictions have shape {scores.shape}; expected {expected}, "
            "one row of 10 class scores per test image."
        )
    right = correct(scores, labels)
    mask = public_mask(len(labels))
    nonfinite = ~np.isfinite(scores).all(axis=1)
    public_bad, private_bad = int(nonfinite[mask].sum()), int(nonfinite[~mask].sum())
    problem = (
        f"{public_bad:,} of the model's predictions on the public part of the test set were NaN or "
        "infinite and count as wrong."
        if public_bad
        else None
    )
    return TestScore(
        float(np.mean(right)),
        float(np.mean(right[mask])),
        float(np.mean(right[~mask])),
        problem,
        public_bad,
        private_bad,
    )


def aggregate(seconds: Sequence[float]) -> float:
    """MLPerf's score over runs: the mean without the fastest and slowest run (with 3 or more)."""
    if not seconds:
        raise ValueError("no runs to aggregate")
    ordered = sorted(seconds)
    kept = ordered[1:-1] if len(ordered) >= 3 else ordered
    return float(np.mean(kept))
