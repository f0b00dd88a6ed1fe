"""`grader verify-docs`: references match; the tutorials' defective listings show where they depart."""

from __future__ import annotations

import pytest

from grader.cli import main
from grader.runner import RunnerError
from grader.verify_docs import verify_model_file, verify_reference, verify_summary
from tests.conftest import BACKEND, FIXTURES

LISTINGS = FIXTURES / "listings"
SUMMARIES = FIXTURES / "summaries"


@pytest.mark.matrix
def test_all_references_match_and_exit_zero(capsys):
    assert main(["verify-docs"]) == 0
    out = capsys.readouterr().out
    assert "✓ all 5 match" in out
    for figure in ("458,570", "173,738", "3,274,634", "1,199,882", "1,207,498"):
        assert figure in out


def test_listing_000_as_printed_departs_exactly_where_its_summary_differs():
    if BACKEND != "tensorflow":  # it imports tensorflow.keras: refused on JAX and PyTorch, naming the line
        with pytest.raises(RunnerError, match=r"line 7 imports TensorFlow \(from tensorflow.keras import"):
            verify_model_file(LISTINGS / "tutorial_000_as_listed.py", "000", backend=BACKEND)
        return
    result = verify_model_file(LISTINGS / "tutorial_000_as_listed.py", "000", backend=BACKEND)
    failures = [(row.label, row.problems) for row in result.rows if not row.ok]
    assert failures == [
        ("after layer 2", ("missing: expected Dropout (None, 14, 14, 32) 0",)),
        ("after layer 4", ("missing: expected Dropout (None, 7, 7, 64) 0",)),
        ("after layer 5", ("missing: expected Flatten (None, 3136) 0",)),
        (
            "layer 6",
            ("outputs (None, 7, 7, 128), expected (None, 128)", "has 8,320 parameters, expected 401,536"),
        ),
        ("after layer 6", ("missing: expected Dropout (None, 128) 0",)),
        ("layer 7", ("outputs (None, 7, 7, 10), expected (None, 10)",)),
        ("total params", ("65,354 instead of 458,570",)),
        ("trainable params", ("65,354 instead of 458,570",)),
    ]


def test_listing_002_as_printed_departs_at_flatten_and_dropout():
    result = verify_model_file(LISTINGS / "tutorial_002_as_listed.py", "002", backend=BACKEND)
    failures = [(row.label, row.problems) for row in result.rows if not row.ok]
    assert failures[0] == ("after layer 4", ("missing: expected Flatten (None, 3136) 0",))
    assert failures[1] == (
        "layer 5",
        ("outputs (None, 7, 7, 1024), expected (None, 1024)", "has 66,560 parameters, expected 3,212,288"),
    )
    assert failures[2] == ("after layer 5", ("missing: expected Dropout (None, 1024) 0",))
    assert ("total params", ("128,906 instead of 3,274,634",)) in failures


def test_listing_through_the_cli_exits_one(capsys):
    assert main(["verify-docs", "--model", str(LISTINGS / "tutorial_000_as_listed.py"), "-r", "000"]) == 1
    expected = "8 mismatch(es)" if BACKEND == "tensorflow" else "imports TensorFlow"
    assert expected in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("fixture", "name"),
    [
        ("tutorial_000_keras2.txt", "conv_32_64_64"),
        ("tutorial_002_keras2.txt", "002"),
        ("adadelta_dropout_keras3.txt", "004"),
        ("functional_cnn_keras3.txt", "003"),
    ],
)
def test_published_summaries_match_their_reference(fixture, name, capsys):
    assert main(["verify-docs", "--summary", str(SUMMARIES / fixture), "--reference", name]) == 0
    assert "✓ all 1 match" in capsys.readouterr().out


def test_a_summary_checked_against_the_wrong_reference_fails():
    result = verify_summary(SUMMARIES / "tutorial_002_keras2.txt", "004")
    assert not result.ok and result.mismatches >= 3


def test_usage_errors_exit_two(capsys, tmp_path):
    assert main(["verify-docs", "--summary", str(SUMMARIES / "tutorial_000_keras2.txt")]) == 2
    assert "exactly one --reference" in capsys.readouterr().out
    assert main(["verify-docs", "--summary", str(tmp_path / "nope.txt"), "-r", "000"]) == 2
    assert main(["verify-docs", "-r", "009"]) == 2
    (tmp_path / "junk.txt").write_text("not a summary")
    assert main(["verify-docs", "--summary", str(tmp_path / "junk.txt"), "-r", "000"]) == 2
    assert "no layer rows" in capsys.readouterr().out


def test_verify_reference_names_its_source():
    result = verify_reference("001")
    assert result.ok and "derived from the listed layers" in result.against


def test_verdicts_as_json_name_the_environment(tmp_path):
    import json

    assert main(["verify-docs", "-r", "004", "--json", str(tmp_path / "v.json")]) == 0
    found = json.loads((tmp_path / "v.json").read_text())
    assert found["environment"]["keras"] and found["environment"]["device"].startswith(("CPU: ", "GPU: "))
    assert found["verifications"] == [
        {
            "subject": "reference adadelta_dropout",
            "against": found["verifications"][0]["against"],
            "ok": True,
            "problems": [],
        }
    ]


def test_tutorial_004_typed_in_as_a_script_matches_its_documented_model():
    """verify-docs --model reads a script (or notebook) as grading does: up to its fit call."""
    from tests.conftest import TUTORIALS

    result = verify_model_file(TUTORIALS / "tutorial_004_script" / "tutorial_004.py", "004", backend=BACKEND)
    assert result.ok, [(row.label, row.problems) for row in result.rows if not row.ok]
