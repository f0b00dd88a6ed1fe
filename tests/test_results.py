"""results.json: Gradescope's format, validated against its JSON Schema, written atomically."""

from __future__ import annotations

import json

import jsonschema
import pytest

from grader.checks import CheckResult
from grader.results import SAID_HEADING, Grade, Metrics, read_results, write_results
from tests.conftest import FIXTURES

SCHEMA = json.loads((FIXTURES / "schemas" / "gradescope_results.schema.json").read_text())


def validate(results: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(results, SCHEMA, cls=jsonschema.Draft202012Validator)


def a_grade(**changes) -> Grade:
    fields = {
        "submission": "alice",
        "display_name": "alice",
        "assignment": "conv_32_64_64",
        "title": "Tutorial 000",
        "dataset": "mnist_sample",
        "checks": (
            CheckResult("Parameter count", 2, 2, "passed", "458,570 parameters."),
            CheckResult("Test accuracy", 3, 0, "not run", "Not run: training was skipped."),
        ),
        "execution_time": 12.345,
        "metrics": Metrics(parameters=458_570),
        "timings": {"startup": 5.0, "build": 0.1},
        "environment": {"tensorflow": "2.21.0", "devices": ["CPU"]},
    }
    return Grade(**{**fields, **changes})


def test_gradescope_json_validates_and_carries_scores():
    results = a_grade().to_gradescope()
    validate(results)
    assert results["score"] == 2 and results["execution_time"] == 12.35
    assert [t["status"] for t in results["tests"]] == ["passed", "failed"]
    assert results["tests"][1]["output"].startswith("Not run")
    assert results["leaderboard"] == [{"name": "Parameters", "value": 458_570, "order": "asc"}]
    assert results["extra_data"]["not_run"] == ["Test accuracy"]


def test_leaderboard_lists_what_was_measured():
    metrics = Metrics(
        parameters=10, train_seconds=3.14159, train_cost=1.0449, accuracy=0.98765, public_accuracy=0.99012
    )
    results = a_grade(metrics=metrics).to_gradescope()
    validate(results)
    assert results["leaderboard"] == [  # the public part's accuracy, never the whole set's
        {"name": "Public accuracy", "value": 0.9901},
        {"name": "Parameters", "value": 10, "order": "asc"},
        {"name": "Training cost (x reference)", "value": 1.04, "order": "asc"},
    ]


def test_the_schema_rejects_what_gradescope_would():
    for broken in (
        {"tests": [{"name": "x", "status": "ok", "score": 1}]},
        {"score": 1, "leaderboard": [{"name": "Accuracy", "value": 1, "order": "up"}]},
        {"output": "no score anywhere"},
        {"score": 1, "sccore": 2},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_output_includes_the_problem_log_and_notes():
    text = a_grade(problem="The model did not build: boom", log="my print", notes=("a note",)).output()
    assert text.splitlines()[0] == "alice: 2 / 5 points on Tutorial 000."
    assert "The model did not build: boom" in text and "my print" in text and "a note" in text


def test_the_submissions_notes_are_shown_under_their_own_heading_after_the_graders():
    """What the submission's process said is its word: shown apart, under a heading that says so,
    with how many more were cut, after the grader's own notes."""
    text = a_grade(notes=("the grader's note",), said=("Test accuracy 100% (passed)",), said_cut=7).output()
    heading = text.index(SAID_HEADING)
    assert text.index("the grader's note") < heading < text.index("- Test accuracy 100% (passed)")
    assert "(7 more were cut: at most 10 are kept.)" in text
    stored = Grade.from_gradescope(a_grade(said=("mine",), said_cut=3).to_gradescope())
    assert stored.said == ("mine",) and stored.said_cut == 3


def test_results_replace_an_old_file_whole(tmp_path):
    (tmp_path / "results.json").write_text('{"score": 0}')
    path = write_results(a_grade(), tmp_path)
    assert json.loads(path.read_text())["score"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_grade_reads_back_from_its_results_json_as_it_was_written(tmp_path):
    """``from_gradescope`` is ``to_gradescope``'s inverse: the gradebook, the leaderboard and a
    class's resume read stored grades through it."""
    written = a_grade(
        metrics=Metrics(parameters=10, train_seconds=3.5, train_cost=1.04, train_noise=0.07, accuracy=0.98),
        problem="a problem",
        log="a log",
        notes=("a note",),
        chose_name=True,
        history=({"loss": 0.5},),
        baseline={"reference": "conv_32_64_64", "accuracy": 0.97},
        training_clock={"steps": 1040.0},
        key="abc123",
    )
    write_results(written, tmp_path)
    read = read_results(tmp_path)
    assert read is not None
    assert read.to_gradescope() == written.to_gradescope()
    assert read.checks[1].status == "not run" and read.key == "abc123" and read.metrics.train_cost == 1.04


def test_a_refusal_has_no_checks_and_has_not_passed(tmp_path):
    refused = Grade.refusal("anon", "no assignment given", key="k")
    assert not refused.passed and refused.refused and refused.score == 0 == refused.possible
    write_results(refused, tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    validate(results)
    assert results["output"] == "Not graded: no assignment given" and results["tests"] == []
    assert read_results(tmp_path) == refused


def test_unreadable_results_read_as_none(tmp_path):
    assert read_results(tmp_path) is None
    (tmp_path / "results.json").write_text('{"score": 1}')
    assert read_results(tmp_path) is None
