"""Fair grades: the same submission gets the same points and accuracy whatever the schedule.

Three submissions are graded twice: each alone, one after another, and as a class two at a time
beside a neighbour that keeps its own core busy, with an unrelated CPU hog running on the machine.
Every check, every point and the accuracy must be identical; only the measurement's own figures
(wall and CPU seconds) may differ. No absolute time is asserted: the full conditions, with
repetitions and the timing ratios, are the fairness benchmark's (nox -s bench -- -k fairness).
"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from rich.console import Console

from grader.batch import grade_class
from grader.results import read_results
from tests.conftest import FIXTURES, SUBMISSIONS, make_class

FAIR = FIXTURES / "assignments" / "fair_quick.toml"
GRADED = {
    "reference_twin": FIXTURES / "submissions" / "reference_000",
    "alice": SUBMISSIONS / "alice",
    "erin": SUBMISSIONS / "erin",
}
HOG = "while True: pass"


def outcome(grade) -> tuple:
    return tuple((check.name, check.status, check.score) for check in grade.checks), grade.metrics.accuracy


@pytest.fixture(scope="module")
def two_schedules(tmp_path_factory, grading_cache, graded):
    quiet = Console(file=io.StringIO(), width=120)
    alone = {name: graded(folder, assignment=FAIR) for name, folder in GRADED.items()}
    root = tmp_path_factory.mktemp("fair")
    folder = make_class(root / "class", {**GRADED, "busy": FIXTURES / "submissions" / "busy_neighbour"})
    hog = subprocess.Popen([sys.executable, "-c", HOG])  # not pinned: it time-shares every core
    try:
        result = grade_class(
            [folder],
            out=root / "grades",
            jobs=2,
            assignment=str(FAIR),
            cache_root=grading_cache,
            console=quiet,
        )
    finally:
        hog.kill()
        hog.wait()
    together = {name: read_results(result.out / name) for name in GRADED}
    return alone, together


def test_points_and_accuracy_are_the_same_alone_and_beside_a_busy_neighbour(two_schedules):
    alone, together = two_schedules
    for name in GRADED:
        assert together[name] is not None, name
        assert outcome(together[name]) == outcome(alone[name]), name


def test_a_reference_twin_and_alice_pass_and_erin_one_image_at_a_time_fails_in_both_schedules(two_schedules):
    for grades in two_schedules:
        timing = {name: next(c for c in grades[name].checks if c.name == "Training time") for name in GRADED}
        assert timing["reference_twin"].passed, timing["reference_twin"].message
        assert timing["alice"].passed, timing["alice"].message
        assert not timing["erin"].passed and "Larger batches" in timing["erin"].message
