"""Time-to-accuracy: the held-out split, MLPerf's aggregation, and real grades that reach the
target (alice, three seeds) or never do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader.grade import grade, write_outputs
from grader.scoring import aggregate
from grader.settings import SettingsError, Target, from_table
from grader.target import Run, describe, hold_out
from tests.conftest import BACKEND

FIXTURES = Path(__file__).parent / "fixtures"
TARGET_ASSIGNMENT = FIXTURES / "assignments" / "target_quick.toml"
ALICE = Path(__file__).parent.parent / "submissions" / "alice"


def test_the_held_out_split_is_fixed_disjoint_and_complete():
    kept, held = hold_out(8000, 0.1)
    assert len(held) == 800 and len(kept) == 7200
    assert not set(kept) & set(held) and sorted([*kept, *held]) == list(range(8000))
    again_kept, again_held = hold_out(8000, 0.1)
    assert np.array_equal(held, again_held) and np.array_equal(kept, again_kept)
    assert not np.array_equal(held, np.arange(800))  # drawn across the data, not its first rows


def test_mlperf_drops_the_fastest_and_slowest_run():
    assert aggregate([50.0, 10.0, 30.0, 40.0, 20.0]) == 30.0  # mean of 20, 30, 40
    assert aggregate([10.0, 11.0, 90.0]) == 11.0
    assert aggregate([10.0, 20.0]) == 15.0  # too few runs to drop any
    with pytest.raises(ValueError):
        aggregate([])


def test_a_target_table_is_checked():
    given = {"seeds": (7,)}
    assert from_table(Target, {"accuracy": 0.9}, prefix="target.", given=given).seeds == (7,)
    with pytest.raises(
        SettingsError, match=r"target\.seeds must be a list of 1 to 10 different whole numbers"
    ):
        from_table(Target, {"accuracy": 0.9, "seeds": list(range(11))}, prefix="target.", given=given)
    with pytest.raises(SettingsError, match="seeds"):
        from_table(Target, {"accuracy": 0.9, "seeds": [1.5]}, prefix="target.", given=given)


def test_the_report_line_names_every_seed_and_the_score():
    target = Target(0.9, 0.1, (1, 2, 3))
    runs = [Run(1, 8.0, 2, 0.93, True), Run(2, 4.0, 1, 0.91, True), Run(3, 5.0, 1, 0.92, True)]
    line = describe(target, runs)
    assert "seed 1 8.0 s (2 epochs)" in line and "seed 2 4.0 s (1 epoch)" in line
    assert "Score (mean without the fastest and slowest): 5.0 s." in line
    missed = describe(target, [Run(1, 8.0, 4, 0.12, False, "no")])
    assert "seed 1 did not reach it (12.00%)" in missed and "Score" not in missed


def _graded(folder: Path, cache: Path):
    """``folder`` graded on the test target, quietly; returns the grade and its training-time result."""
    from io import StringIO

    from rich.console import Console

    result = grade(
        folder,
        assignment=TARGET_ASSIGNMENT,
        backend=BACKEND,
        cache_root=cache,
        console=Console(file=StringIO()),
    )
    return result, next(check for check in result.checks if check.name == "Training time")


@pytest.fixture(scope="module")
def alice_to_target(tmp_path_factory, grading_cache):
    result, _ = _graded(ALICE, grading_cache)
    out = tmp_path_factory.mktemp("alice-target")
    write_outputs(result, out)
    return result, json.loads((out / "results.json").read_text())


def test_each_seed_trains_until_the_target_and_the_score_is_their_mlperf_mean(alice_to_target):
    result, stored = alice_to_target
    summary = stored["extra_data"]["time_to_accuracy"]
    assert summary["seeds"] == [1, 2, 3] and [run["seed"] for run in summary["runs"]] == [1, 2, 3]
    for run in summary["runs"]:
        assert run["reached"] and run["validation_accuracy"] >= 0.90  # as the verifier measured it
        assert 1 <= run["epochs"] <= 4 and run["seconds"] > 0
    expected = aggregate([run["seconds"] for run in summary["runs"]])
    assert summary["seconds"] == pytest.approx(expected, abs=1e-3)
    assert result.metrics.train_seconds == pytest.approx(expected, abs=1e-3)
    assert result.score == result.possible, result.problem
    assert 0 < result.timings["before_training"] < result.timings["total"]
    assert any(note.startswith("Time to 90.00% on the held-out 10%: seed 1") for note in result.notes)
    # Training stopped at the target: the history ends on the first epoch at or above it.
    reached = [epoch["target_accuracy"] for epoch in result.history]
    assert reached[-1] >= 0.90 and all(accuracy < 0.90 for accuracy in reached[:-1])


def test_the_reference_is_timed_to_the_same_target(alice_to_target, sample, grading_cache):
    from grader.assignment import load_assignment
    from grader.calibration import calibrate

    calibration = calibrate(
        load_assignment(TARGET_ASSIGNMENT).with_backend(BACKEND), sample, cache_root=grading_cache
    )
    assert calibration.cached  # measured while alice was graded
    stored = json.loads(calibration.path.read_text())
    assert stored["key"]["target"] == {"accuracy": 0.9, "validation_fraction": 0.1, "seeds": [1, 2, 3]}
    runs = stored["runs"]
    assert sorted(runs) == ["1", "2", "3"]
    assert calibration.baseline.train_seconds == pytest.approx(
        aggregate([run["wall_seconds"] for run in runs.values()]), abs=1e-3
    )
    assert calibration.baseline.timing.steps == pytest.approx(
        aggregate([run["steps"] for run in runs.values()]), rel=1e-3
    )


def test_a_model_that_never_reaches_the_target_fails_the_time_check(grading_cache):
    result, timing = _graded(FIXTURES / "submissions" / "never_learns", grading_cache)
    assert timing.status == "failed" and timing.score == 0
    assert "Seed 1 did not reach 90.00% on the held-out validation split" in timing.message
    assert "after 4 epochs" in timing.message  # it trained to the cap, then the verifier measured it
    assert len(result.history) == 4


def test_every_seed_trains_the_one_model_declared(grading_cache):
    """seed_dependent builds a wider network for some seeds than for others. With the grader
    training, its build_model() runs once: every seed trains that one declaration afresh, so no
    run can be another model. (With the submission training itself, each seed builds again and a
    run that builds another model does not count: tests/test_pipeline.py.)"""
    result, timing = _graded(FIXTURES / "submissions" / "seed_dependent", grading_cache)
    runs = result.time_to_accuracy["runs"]
    assert [run["seed"] for run in runs] == [1, 2, 3] and all(run["reached"] for run in runs), timing.message
    assert "different model" not in timing.message and result.trainer == "grader"


def test_a_target_the_reference_cannot_reach_refuses_the_assignment(sample, tmp_path):
    import dataclasses

    from grader.assignment import AssignmentError, load_assignment
    from grader.calibration import calibrate

    task = load_assignment(TARGET_ASSIGNMENT).with_backend(BACKEND)
    unreachable = dataclasses.replace(
        task,
        training=dataclasses.replace(task.training, max_epochs=1),
        target=Target(0.999, 0.1, (1,)),
    )
    with pytest.raises(AssignmentError, match=r"reaches only .* short of target.accuracy 99.90%"):
        calibrate(unreachable, sample, cache_root=tmp_path)
