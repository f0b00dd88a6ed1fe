"""The Canvas export: the roster's identity columns, one score column, "Points Possible", each
folder matched by SIS Login ID, SIS User ID or Canvas ID; nothing guessed."""

from __future__ import annotations

import csv

import pytest

from grader.batch.canvas import POINTS_ROW, RosterError, write_canvas
from grader.checks import CheckResult
from grader.cli import main
from grader.results import Grade, write_results

ROSTER = """\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Homework 1 (5501),Current Score
    Points Possible,,,,,10.00,
"Lovelace, Ada",101,S001,alovelace,CS 101,,
"Turing, Alan",102,S002,aturing,CS 101,,
"Hopper, Grace",103,S003,ghopper,CS 102,,
"Student, Test",999,,,CS 101,,
"""


def store(results, folder: str, score: float) -> None:
    checks = (CheckResult("Parameter count", 4, score, "passed" if score else "failed", ""),)
    write_results(Grade(folder, folder, "a1", "Assignment 1", "mnist_sample", checks, 1.0), results / folder)


@pytest.fixture
def results(tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    store(tmp_path / "out", "alovelace", 4)  # by SIS Login ID
    store(tmp_path / "out", "S002", 0)  # by SIS User ID
    store(tmp_path / "out", "mystery", 4)  # in no roster row
    return tmp_path


def test_scores_go_to_the_students_they_belong_to_and_nothing_is_guessed(results):
    export = write_canvas(
        results / "out", ["alovelace", "S002", "mystery"], results / "roster.csv", column="Homework 1 (5501)"
    )
    with open(export.path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 1 (5501)"]
    assert rows[1] == [POINTS_ROW, "", "", "", "", "4"]
    assert rows[2:] == [
        ["Lovelace, Ada", "101", "S001", "alovelace", "CS 101", "4"],
        ["Turing, Alan", "102", "S002", "aturing", "CS 101", "0"],
        ["Hopper, Grace", "103", "S003", "ghopper", "CS 102", ""],  # no submission: left as it is
    ]
    assert (export.matched, export.unmatched, export.ungraded) == (2, ("mystery",), ("Hopper, Grace",))


def test_the_cli_names_the_column_after_the_assignment_and_reports_the_unmatched(results, capsys):
    assert main(["gradebook", str(results / "out"), "--canvas", str(results / "roster.csv")]) == 0
    shown = " ".join(capsys.readouterr().out.split())  # as read, whatever the terminal's width
    assert "2 students with a score" in shown and "No student in the roster for: mystery" in shown
    assert "1 student in the roster has no graded submission" in shown
    header = (results / "out" / "canvas.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",Assignment 1") and (results / "out" / "gradebook.csv").is_file()


def test_a_roster_that_is_not_a_canvas_export_is_refused(results):
    (results / "names.csv").write_text("name,email\nAda,ada@example.org\n")
    with pytest.raises(RosterError, match="is not a Canvas gradebook export"):
        write_canvas(results / "out", ["alovelace"], results / "names.csv", column="x")
