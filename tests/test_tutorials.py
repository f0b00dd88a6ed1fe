"""Each tutorial's own listing, graded on whichever TensorFlow (or Keras 3 backend) this suite runs on.

The nox matrix runs this module on every version and backend (``nox -l``), so together the
sessions show where each tutorial's era code breaks: the expectations below are per version, and
each names what a student on that version would see. On JAX and PyTorch, the listings that
import TensorFlow are refused before they run, naming the line. Training is cut to one epoch (for the reference too):
the version effects show at build time or in the first epoch.
"""

from __future__ import annotations

from pathlib import Path

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
        assert any("`lr` is deprecated in Keras optimizer" in note for note in grade.said)
    else:
        assert grade.model["learning_rate"] == pytest.approx(0.0001)
        assert any("The `lr` argument is deprecated" in note for note in grade.said)


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


# -- the tutorials as students write them: top-level scripts and notebooks ------------------------
# What each tutorial's era forces a student to change before it runs here, and nothing else: the
# imports the grader does not install (000), the modules Keras 2.13 dropped (001), the `.h5` and
# `.hdf5` checkpoints Keras 3 refuses (000, 001) and `lr=` (002). The notebooks also keep 002's
# `%matplotlib inline`, which a script cannot hold.
FIXES = {
    0: [("import cv2\n", ""), ("import keras_metrics as km\n", ""), (".hdf5'", ".keras'")],
    1: [
        ("keras.layers.core ", "keras.layers "),
        ("keras.layers.convolutional ", "keras.layers "),
        ("best_model.h5", "best_model.keras"),
    ],
    2: [("# %matplotlib inline", "%matplotlib inline"), ("Adam(lr=0.0001)", "Adam(learning_rate=0.0001)")],
    3: [],
    4: [],
}


def script(number: int) -> Path:
    """Tutorial ``number`` typed in as a top-level script, as printed."""
    return TUTORIALS / f"tutorial_00{number}_script" / f"tutorial_00{number}.py"


def notebook(number: int) -> Path:
    """The same cells as a notebook, with only the changes its era forces (FIXES)."""
    return TUTORIALS / f"tutorial_00{number}_notebook" / f"tutorial_00{number}.ipynb"


def notebook_cells(number: int) -> list[str]:
    """The notebook's code cells: the script's `# %%` cells with FIXES applied."""
    source = script(number).read_text()
    for old, new in FIXES[number]:
        assert old in source, old
        source = source.replace(old, new)
    _, *cells = source.split("# %%\n")
    return [cell.strip() for cell in cells]


def write_notebook(number: int) -> None:
    """(Re)write tutorial ``number``'s notebook and its submission.toml from its script."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    changes = "; ".join(
        f"`{old.strip()}` to `{new.strip()}`" if new else f"`{old.strip()}` removed"
        for old, new in FIXES[number]
    )
    intro = (
        f"Tutorial 00{number} typed in as a notebook: the cells of `tutorial_00{number}_script/"
        f"tutorial_00{number}.py` (see its docstring), "
        + (f"with only the changes its era forces: {changes}." if changes else "unchanged.")
    )
    cells = [new_markdown_cell(intro), *map(new_code_cell, notebook_cells(number))]
    notebook(number).parent.mkdir(exist_ok=True)
    nbformat.write(new_notebook(cells=cells), notebook(number))
    settings = (script(number).parent / "submission.toml").read_text()
    (notebook(number).parent / "submission.toml").write_text(settings.replace("script", "notebook"))


@pytest.mark.parametrize("number", sorted(FIXES))
def test_each_notebook_holds_its_script_s_cells_with_only_the_forced_changes(number):
    import nbformat

    found = nbformat.read(notebook(number), as_version=4)
    code = [cell.source for cell in found.cells if cell.cell_type == "code"]
    assert code == notebook_cells(number), (
        "rewrite it: python -c 'from tests.test_tutorials import write_notebook; write_notebook(N)'"
    )


def grade_as_written(graded, folder):
    task = one_epoch(load_assignment(read_submission(folder).assignment))
    grade = graded(folder, assignment=task)
    assert grade.trainer == "grader"
    return grade


def test_000_script_as_printed_imports_what_the_grader_does_not_install(graded):
    grade = grade_as_written(graded, script(0).parent)
    if OTHER_BACKEND:
        assert (
            "tutorial_000.py, line 12 imports TensorFlow (from tensorflow.keras import models, layers)"
            in grade.problem
        )
    else:
        assert grade.problem.startswith(
            "The model did not build: the code imports cv2 (tutorial_000.py, line 18: import cv2), which "
            "the grader does not install"
        )
    assert set(statuses(grade).values()) == {"not run"}


def test_000_notebook_builds_without_them_and_its_listing_lacks_flatten(graded):
    grade = grade_as_written(graded, notebook(0).parent)
    if OTHER_BACKEND:
        assert "tutorial_000.ipynb, code cell 1, line 1 imports TensorFlow" in grade.problem
        return
    output = next(check for check in grade.checks if check.name == "Output shape")
    assert output.status == "failed" and "(None, 7, 7, 10)" in output.message
    assert any(
        note.startswith(
            "Graded the model and the settings of the fit call at tutorial_000.ipynb, code cell 10"
        )
        for note in grade.said
    )


def test_001_script_as_printed_imports_modules_keras_dropped_in_2_13(graded):
    grade = grade_as_written(graded, script(1).parent)
    if TF >= (2, 13) or OTHER_BACKEND:
        assert (
            "No module named 'keras.layers.core' (tutorial_001.py, line 16: from keras.layers.core import"
            in grade.problem
        )
        assert (
            explain(grade.problem)
            == "Keras 2.13+ has no `keras.layers.core`; import layers from `keras.layers`"
        )
    else:
        assert statuses(grade)["Parameter count"] == statuses(grade)["Output shape"] == "passed"


def test_001_notebook_with_todays_imports_is_graded(graded):
    grade = grade_as_written(graded, notebook(1).parent)
    assert grade.problem is None
    assert statuses(grade)["Parameter count"] == statuses(grade)["Output shape"] == "passed"
    assert grade.metrics.parameters == 173_738
    assert "ModelCheckpoint" in " ".join(grade.notes)  # accepted, not run by the grader


def test_002_script_as_printed_passes_lr(graded):
    grade = grade_as_written(graded, script(2).parent)
    if KERAS_3:
        assert (
            "Argument(s) not recognized: {'lr': 0.0001} (tutorial_002.py, line 50: model.compile(Adam(lr=0.0001)"
            in grade.problem
        )
        assert explain(grade.problem) == "Keras 3 rejects `lr`; use `learning_rate`"
    else:
        assert statuses(grade)["Output shape"] == "failed"  # no Flatten: a 4-D output


def test_002_notebook_with_learning_rate_reaches_its_listing_s_defect(graded):
    grade = grade_as_written(graded, notebook(2).parent)
    assert grade.problem is None and statuses(grade)["Output shape"] == "failed"
    assert grade.model["learning_rate"] == pytest.approx(0.0001)
    assert any(
        note == "IPython lines skipped (the grader runs Python only): %matplotlib inline"
        for note in grade.said
    )
    assert any(
        "validation_data=(...) at tutorial_002.ipynb, code cell 8, line 1 was replaced" in n
        for n in grade.said
    )


@pytest.mark.parametrize("form", ["script", "notebook"])
def test_003_is_graded_in_both_forms(graded, form):
    folder = (script if form == "script" else notebook)(3).parent
    grade = grade_as_written(graded, folder)
    if OTHER_BACKEND:
        assert "imports TensorFlow (import tensorflow as tf)" in grade.problem
        return
    assert grade.problem is None
    assert statuses(grade)["Parameter count"] == statuses(grade)["Output shape"] == "passed"


@pytest.mark.parametrize("form", ["script", "notebook"])
def test_004_trains_with_adadeltas_new_default_rate_in_both_forms(graded, form):
    folder = (script if form == "script" else notebook)(4).parent
    grade = grade_as_written(graded, folder)
    assert grade.model["optimizer"] == "Adadelta" and grade.model["learning_rate"] == pytest.approx(0.001)
    accuracy = next(check for check in grade.checks if check.name == "Test accuracy")
    assert accuracy.status == "failed"
    assert explain(accuracy.message, grade.model, check_kind="accuracy").startswith("Adadelta() starts at")
