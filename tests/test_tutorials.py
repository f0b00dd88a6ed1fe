"""Each tutorial's own listing, graded on whichever TensorFlow (or Keras 3 backend) this suite runs on.

The nox matrix runs this module on every version and backend (``nox -l``), so together the
sessions show where each tutorial's era code breaks: the expectations below are per version, and
each names what a student on that version would see. On JAX and PyTorch, the listings that
import TensorFlow are refused before they run, naming the line. Training is cut to one epoch (for the reference too):
the version effects show at build time or in the first epoch.
"""

from __future__ import annotations

import pytest

from grader.assignment import load_assignment
from grader.backends import keras_major, version
from grader.compat.explain import explain
from grader.submission import read_submission
from tests.conftest import BACKEND, TUTORIALS, one_epoch

pytestmark = [pytest.mark.matrix, pytest.mark.spread]

TF = tuple(int(part) for part in (version("tensorflow") or "99.0").split(".")[:2])
KERAS_3 = keras_major() == 3
OTHER_BACKEND = BACKEND != "tensorflow"  # JAX or PyTorch, on Keras 3


def grade_listing(graded, number: int):
    """The listing graded at one epoch: these tests are about what each version does, not speed."""
    folder = TUTORIALS / f"tutorial_00{number}"
    return graded(folder, assignment=one_epoch(load_assignment(read_submission(folder).assignment)))


def statuses(grade) -> dict[str, str]:
    """Each check's status; the private part's result, worth no points, is left out."""
    return {check.name: check.status for check in grade.checks if check.max_score}


def refused_for_tensorflow(grade, line: int) -> None:
    """On JAX or PyTorch: the listing's TensorFlow import is refused before any of it runs."""
    assert f"model.py, line {line} imports TensorFlow (" in grade.problem
    assert 'backend = "tensorflow" in the assignment, or --backend tensorflow' in grade.problem
    assert set(statuses(grade).values()) == {"not run"}


def test_000_listing_lacks_flatten_and_keras_3_refuses_its_hdf5_checkpoint(graded):
    grade = grade_listing(graded, 0)
    if OTHER_BACKEND:
        refused_for_tensorflow(grade, 11)
    elif KERAS_3:
        assert "must end in `.keras`" in grade.problem
        assert explain(grade.problem).startswith("Keras 3's ModelCheckpoint saves `.keras` files only")
        assert set(statuses(grade).values()) == {"not run"}
    else:
        output = next(check for check in grade.checks if check.name == "Output shape")
        assert output.status == "failed" and "(None, 7, 7, 10)" in output.message
        assert statuses(grade)["Test accuracy"] == "not run"  # training is skipped on a wrong shape


def test_001_listing_imports_modules_keras_dropped_in_2_13(graded):
    grade = grade_listing(graded, 1)
    if TF >= (2, 13):
        assert "No module named 'keras.layers.core'" in grade.problem
        assert (
            explain(grade.problem)
            == "Keras 2.13+ has no `keras.layers.core`; import layers from `keras.layers`"
        )
    else:
        assert statuses(grade)["Parameter count"] == statuses(grade)["Output shape"] == "passed"
        assert grade.metrics.parameters == 173_738


def test_002_listing_passes_lr_which_each_keras_treats_differently(graded):
    grade = grade_listing(graded, 2)
    if KERAS_3:
        assert "Argument(s) not recognized: {'lr': 0.0001}" in grade.problem
        assert explain(grade.problem) == "Keras 3 rejects `lr`; use `learning_rate`"
        return
    assert statuses(grade)["Output shape"] == "failed"  # no Flatten: a 4-D output
    if TF >= (2, 15):  # measured: 2.15 drops `lr` with only a warning; 2.12 still honours it
        assert grade.model["learning_rate"] == pytest.approx(0.001)
        assert any("`lr` is deprecated in Keras optimizer" in note for note in grade.notes)
    else:
        assert grade.model["learning_rate"] == pytest.approx(0.0001)
        assert any("The `lr` argument is deprecated" in note for note in grade.notes)


def test_003_listing_passes_on_every_version(graded):
    grade = grade_listing(graded, 3)
    if OTHER_BACKEND:
        refused_for_tensorflow(grade, 10)
        return
    assert grade.problem is None
    assert grade.score == grade.possible, statuses(grade)


def test_004_listing_trains_with_adadeltas_new_default_rate_and_falls_short(graded):
    grade = grade_listing(graded, 4)
    assert grade.model["optimizer"] == "Adadelta" and grade.model["learning_rate"] == pytest.approx(0.001)
    assert statuses(grade)["Parameter count"] == "passed"
    accuracy = next(check for check in grade.checks if check.name == "Test accuracy")
    assert accuracy.status == "failed"
    assert explain(accuracy.message, grade.model, check_kind="accuracy").startswith("Adadelta() starts at")
