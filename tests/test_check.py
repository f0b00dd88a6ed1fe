"""``grader check``: the gating checks and one short training step, through the grading code,
with the kit's training images and no dataset or test data at all."""

from __future__ import annotations

import shutil

import pytest

import grader.check
from grader.check import check_submission, render_check
from grader.cli import main
from grader.data import DataError
from grader.kit import write_kit
from tests.conftest import SUBMISSIONS, on_backend


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kit") / "kit"
    write_kit(on_backend("conv_32_64_64", folder.parent / "course"), folder)
    return folder


@pytest.fixture
def no_dataset(monkeypatch):
    """Any attempt to load a dataset (and so the test set) fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("grader check loaded a dataset")

    monkeypatch.setattr(grader.check, "load_dataset", refuse)


def test_a_correct_model_passes_and_trains_one_epoch_on_the_kit_images(kit, tmp_path, no_dataset, capsys):
    student = tmp_path / "alice"
    shutil.copytree(kit, student)
    shutil.copy(SUBMISSIONS / "alice" / "model.py", student / "model.py")
    outcome = check_submission(student)
    assert outcome.ok, outcome
    assert [check.status for check in outcome.checks] == ["passed"] * 3
    assert outcome.trained is not None and outcome.trained.epochs == 1 and outcome.images == 256
    assert outcome.later == ("Training time", "Test accuracy")


def test_the_skeleton_builds_and_is_told_what_is_missing(kit, no_dataset, capsys):
    assert main(["check", str(kit)]) == 1
    shown = capsys.readouterr().out
    assert "is a Conv2D" in shown and "missing?" in shown
    assert "Training step" not in shown and "Ready to submit" not in shown


def test_a_model_that_does_not_build_says_why(kit, tmp_path, no_dataset, capsys):
    student = tmp_path / "broken"
    shutil.copytree(kit, student)
    (student / "model.py").write_text("import keras\n\ndef build_model():\n    return keras.layers.Dense(\n")
    outcome = check_submission(student)
    assert not outcome.ok and outcome.problem.startswith("The model did not build")
    render_check(outcome, grader.check.Console(width=100))
    assert "SyntaxError" in outcome.problem or "SyntaxError" in outcome.log


def test_without_the_kit_or_the_dataset_it_says_where_images_come_from(tmp_path, isolated_sources):
    shutil.copytree(SUBMISSIONS / "alice", tmp_path / "alice")
    with pytest.raises(
        DataError, match=r"no training images to check with: put the starting kit.s check-images\.npz"
    ):
        check_submission(
            tmp_path / "alice",
            assignment=on_backend("conv_32_64_64", tmp_path / "course"),
            data_dir=tmp_path / "empty",
        )


def test_the_starter_notebook_is_checked_on_the_kit_images_and_told_what_is_missing(
    tmp_path, no_dataset, capsys
):
    """``grader init --notebook`` writes a notebook that ``grader check`` runs up to its fit call,
    its load_data() answered with the kit's training images, no dataset needed."""
    kit = tmp_path / "kit"
    assert main(["init", str(on_backend("conv_32_64_64", tmp_path / "course")), str(kit), "--notebook"]) == 0
    assert sorted(p.name for p in kit.iterdir()) == [
        "assignment.toml",
        "check-images.npz",
        "mnist_cnn.ipynb",
        "submission.toml",
    ]
    capsys.readouterr()
    assert main(["check", str(kit)]) == 1
    shown = capsys.readouterr().out
    assert "is a Conv2D" in shown and "missing?" in shown and "did not build" not in shown
    said = " ".join(shown.split()).split("Notes from your code's process", 1)[1]
    assert "- Graded the model and the settings of the fit call at mnist_cnn.ipynb, code cell 4" in said
