"""Reading a submission folder: settings are data, never code."""

from __future__ import annotations

import pytest

from grader.submission import SubmissionError, read_submission


def test_the_sample_submission_names_its_assignment():
    alice = read_submission("submissions/alice")
    assert (alice.name, alice.display_name, alice.assignment) == ("alice", "alice", "conv_32_64_64")
    assert alice.has_model and not alice.notes and alice.chose_name


def test_a_folder_without_settings_uses_its_name(tmp_path):
    folder = tmp_path / "zoe"
    folder.mkdir()
    submission = read_submission(folder)
    assert (submission.display_name, submission.assignment, submission.has_model) == ("zoe", None, False)
    assert not submission.chose_name  # leaderboards show a pseudonym instead


def test_broken_or_odd_settings_become_notes(tmp_path):
    (tmp_path / "submission.toml").write_text('assignment = [1]\ndisplay_name = "\\u0007"\ncolour = "red"\n')
    submission = read_submission(tmp_path)
    assert submission.assignment is None and submission.display_name == tmp_path.name
    assert not submission.chose_name
    assert len(submission.notes) == 3
    (tmp_path / "submission.toml").write_text("assignment = \n")
    assert "could not be read" in read_submission(tmp_path).notes[0]


@pytest.mark.parametrize("name", ["reference: conv_32_64_64", "Anonymous 1a2b3c4d"])
def test_a_display_name_that_passes_for_a_baseline_or_a_pseudonym_is_refused(tmp_path, name):
    (tmp_path / "submission.toml").write_text(f"display_name = {name!r}\n")
    submission = read_submission(tmp_path)
    assert (submission.display_name, submission.chose_name) == (tmp_path.name, False)
    assert "may not start with reference or anonymous" in submission.notes[0]


def test_a_missing_folder_is_a_usage_error(tmp_path):
    with pytest.raises(SubmissionError, match="is not a folder"):
        read_submission(tmp_path / "nobody")
