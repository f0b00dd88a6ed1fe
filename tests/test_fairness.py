"""Fair grades: the same submission gets the same points and accuracy whatever the schedule.

Three submissions are graded three times: each alone, one after another; as a class two at a time
beside a neighbour that keeps its own core busy, with an unrelated CPU hog running on the machine;
and all at once with two grades to a core, as a class packed on a GPU shares its cores. Every
check, every point and the accuracy must be identical; only the measurement's own figures (wall
and CPU seconds) may differ. No absolute time is asserted: the full conditions, with
repetitions and the timing ratios, are the fairness benchmark's (nox -s bench -- -k fairness).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from rich.console import Console

import grader.batch.run
from grader.batch import grade_class
from grader.results import read_results
from tests.conftest import BACKEND, BATCHES_OF_ONE_ARE_SLOW, FIXTURES, SUBMISSIONS, make_class

FAIR = FIXTURES / "assignments" / "fair_quick.toml"
GRADED = {
    "reference_twin": FIXTURES / "submissions" / "reference_000",
    "alice": SUBMISSIONS / "alice",
    "erin": SUBMISSIONS / "erin",
}
HOG = "while True: pass"


def outcome(grade) -> tuple:
    return tuple((check.name, check.status, check.score) for check in grade.checks), grade.metrics.accuracy


def as_class(root, members, *, jobs, cache, console):
    folder = make_class(root / "class", members)
    result = grade_class(
        [folder],
        out=root / "grades",
        jobs=jobs,
        assignment=str(FAIR),
        backend=BACKEND,
        cache_root=cache,
        console=console,
    )
    return {name: read_results(result.out / name) for name in GRADED}


@pytest.fixture(scope="module")
def schedules(tmp_path_factory, grading_cache, graded):
    quiet = Console(file=io.StringIO(), width=120)
    alone = {name: graded(folder, assignment=FAIR) for name, folder in GRADED.items()}
    members = {**GRADED, "busy": FIXTURES / "submissions" / "busy_neighbour"}
    hog = subprocess.Popen([sys.executable, "-c", HOG])  # not pinned: it time-shares every core
    try:
        beside = as_class(
            tmp_path_factory.mktemp("fair"), members, jobs=2, cache=grading_cache, console=quiet
        )
    finally:
        hog.kill()
        hog.wait()
    cores = len(os.sched_getaffinity(0))
    with pytest.MonkeyPatch.context() as patch:  # as on a GPU of 80 GB: the class may share cores
        patch.setattr(grader.batch.run, "gpu_memory_mb", lambda: 81_559)
        patch.setattr(grader.batch.run, "cuda_build", lambda backend: True)
        packed = as_class(
            tmp_path_factory.mktemp("packed"), GRADED, jobs=2 * cores, cache=grading_cache, console=quiet
        )
    if "shared by up to 2 grades" not in quiet.file.getvalue():
        pytest.fail(f"the packed class did not share its cores: {quiet.file.getvalue()[-500:]}")
    return {"alone": alone, "beside a busy neighbour": beside, "two grades to a core": packed}


def test_points_and_accuracy_are_the_same_in_every_schedule(schedules):
    alone = schedules["alone"]
    for schedule, grades in schedules.items():
        for name in GRADED:
            assert grades[name] is not None, (schedule, name)
            assert outcome(grades[name]) == outcome(alone[name]), (schedule, name)


def test_a_reference_twin_and_alice_pass_and_erin_one_image_at_a_time_fails_in_every_schedule(schedules):
    for grades in schedules.values():
        timing = {name: next(c for c in grades[name].checks if c.name == "Training time") for name in GRADED}
        assert timing["reference_twin"].passed, timing["reference_twin"].message
        assert timing["alice"].passed, timing["alice"].message
        if BATCHES_OF_ONE_ARE_SLOW:
            assert not timing["erin"].passed and "Larger batches" in timing["erin"].message
