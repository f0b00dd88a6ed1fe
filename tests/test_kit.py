"""The starting kit: what ``grader init`` writes, and that it holds training images only."""

from __future__ import annotations

import numpy as np
import pytest

from grader.check import CHECK_COUNT
from grader.kit import KitError, write_kit
from grader.submission import read_submission


def test_the_kit_holds_a_skeleton_the_assignment_and_training_images_only(tmp_path, sample):
    paths = write_kit("conv_32_64_64", tmp_path / "kit")
    assert sorted(path.name for path in paths) == [
        "assignment.toml",
        "check-images.npz",
        "model.py",
        "submission.toml",
    ]
    kit = tmp_path / "kit"
    assert read_submission(kit).assignment == "conv_32_64_64" and not read_submission(kit).chose_name
    assert "- Parameter count: at most 500,000 parameters (2 points)" in (kit / "model.py").read_text()
    assert "- Output shape: outputs (None, 10) (1 point)" in (kit / "model.py").read_text()
    compile((kit / "model.py").read_text(), "model.py", "exec")
    with np.load(kit / "check-images.npz", allow_pickle=False) as found:
        x, y = found["x"], found["y"]
    assert x.shape == (CHECK_COUNT, 28, 28) and np.array_equal(x, sample.x_train[:CHECK_COUNT])
    assert np.array_equal(y, sample.y_train[:CHECK_COUNT])
    tests = {image.tobytes() for image in sample.x_test}
    assert not any(image.tobytes() in tests for image in x)  # not one test image
    assert all(path.stat().st_mode & 0o777 == 0o644 for path in paths)


def test_the_kit_is_written_only_into_a_new_or_empty_folder(tmp_path, sample):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(KitError, match="is not empty"):
        write_kit("conv_32_64_64", tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
