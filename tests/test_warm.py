"""Warm children: a trainer kept from one grade to the next trains exactly what a fresh one would,
starts each grade clean, and is never kept when it failed, ran a submission's code or served
its share of grades.

Real trainer children on real digits (the MNIST sample); the declarations are made in this process
from the references, as a builder would hand them over.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.results import read_results
from grader.runner.declare import declare
from grader.runner.supervisor import PhaseFailed, Runner, Subject
from grader.runner.warm import RECYCLE_AFTER, WarmChildren
from grader.settings import Training
from reference import load
from tests.conftest import BACKEND, HOSTILE, SUBMISSIONS, make_class, regrade

pytestmark = pytest.mark.spread  # each test starts its own children
FIT = {"batch_size": 64, "epochs": 1, "validation_split": 0.0, "shuffle": True, "callbacks": []}
TRAINING = Training(max_epochs=1, time_limit_s=300.0, backend=BACKEND, trainer="grader")
IMAGES = 1500


def declared(name: str) -> dict:
    return declare(load(name).build_model(), FIT, parts=[]).to_dict()


def trainer(work: Path) -> Runner:
    return Runner(Subject.declaration(), recipe="conv_32_64_64", training=TRAINING, work=work)


def graded(child: Runner, declaration: dict, sample) -> np.ndarray:
    """One grade's use of a trainer: rebuild, train, predict."""
    child.rebuild(declaration)
    child.train(sample.x_train[:IMAGES], sample.y_train[:IMAGES])
    return child.predict(sample.x_test[:500])


@pytest.mark.matrix  # on every TensorFlow version and Keras backend in CI
def test_a_kept_trainer_trains_exactly_what_a_fresh_one_does(tmp_path, sample):
    """The kept trainer first trains another student's model; then alice's, to the same outputs
    bit for bit as a trainer started for her alone."""
    alice, other = declared("conv_32_64_64"), declared("one_conv_dense32")
    with WarmChildren() as warm:
        first = warm.lend(trainer(tmp_path / "a"))
        assert not first.started  # until the grade needs it
        with first:
            graded(first, other, sample)
        assert first.idle and first.timings == {} and first.log_tail() == ""
        assert not any(path.is_file() for path in first.work.iterdir())  # no data, no declaration left
        again = warm.lend(trainer(tmp_path / "b"))
        assert again is first and (warm.started, warm.lent) == (1, 1)
        with again:
            kept = graded(again, alice, sample)
            assert set(again.timings) == {"build", "train", "predict"}  # this grade's phases only
    with trainer(tmp_path / "fresh") as fresh:
        alone = graded(fresh, alice, sample)
    assert kept.shape == (500, 10) and np.array_equal(kept, alone)


def test_a_trainer_that_refused_a_declaration_is_not_kept(tmp_path):
    forged = declared("conv_32_64_64")
    forged["model"]["class_name"] = "MyOwnModel"
    with WarmChildren() as warm:
        child = warm.lend(trainer(tmp_path / "a"))
        with pytest.raises(PhaseFailed, match="cannot train"), child:
            child.wait_ready()
            child.rebuild(forged)
        assert not child.idle
        assert warm.lend(trainer(tmp_path / "b")) is not child and warm.started == 2


def test_a_trainer_is_replaced_after_its_share_of_grades(tmp_path):
    with WarmChildren() as warm:
        unused = warm.lend(trainer(tmp_path / "unused"))
        unused.done()  # a grade that never needed it: nothing was started, nothing is kept
        assert not unused.started and warm.started == 1
        child = warm.lend(trainer(tmp_path / "a"))
        child.wait_ready()
        child.grades = RECYCLE_AFTER - 1
        child.done()
        assert not child.idle
        assert warm.lend(trainer(tmp_path / "b")) is not child and warm.started == 3


def test_children_that_run_submission_code_are_never_kept(tmp_path):
    builder = Runner(
        Subject.submission(SUBMISSIONS / "alice" / "model.py"),
        recipe="conv_32_64_64",
        training=TRAINING,
        work=tmp_path / "run",
    )
    with WarmChildren() as warm, pytest.raises(ValueError, match="no submission code"):
        warm.lend(builder)
    with WarmChildren() as warm, pytest.raises(ValueError, match="no submission code"):
        warm.lend(Runner(Subject.for_reference("conv_32_64_64"), "conv_32_64_64", TRAINING, tmp_path / "ref"))


def test_a_class_grades_a_copy_on_a_kept_trainer_exactly_as_the_first(tmp_path, grading_cache):
    """One core share, one grade after another: a hostile submission (a forged declaration) first,
    then alice and a byte-identical copy, trained by the children kept from the grades before
    them; the copy sees alice's grade exactly."""
    members = {
        "a_forged": HOSTILE / "forge_declaration",
        "alice": SUBMISSIONS / "alice",
        "copy": SUBMISSIONS / "alice",
    }
    result = regrade([make_class(tmp_path / "class", members)], tmp_path / "out", 1, grading_cache)
    assert sorted(result.graded) == ["a_forged", "alice", "copy"] and not result.errors
    first, second = (read_results(result.out / name) for name in ("alice", "copy"))
    assert first is not None and second is not None and first.metrics.accuracy
    assert [(c.name, c.status, c.score) for c in first.checks] == [
        (c.name, c.status, c.score) for c in second.checks
    ]
    assert first.metrics.accuracy == second.metrics.accuracy
