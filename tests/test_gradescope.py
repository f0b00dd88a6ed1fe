"""The Gradescope autograder end to end: the zip built, unpacked into an /autograder-like root,
``setup.sh`` run (a real install of this grader and a real calibration), then ``run_autograder``
for the uploads students really make; every results.json is checked against Gradescope's schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from grader.gradescope import build_autograder, find_model
from grader.gradescope.run import UploadError
from grader.runner.sandbox import closed_to_others
from tests.conftest import CLASS_ASSIGNMENT, SUBMISSIONS
from tests.test_results import validate

SETUP_TIMEOUT_S = 900
RUN_TIMEOUT_S = 600


def _shared_python() -> str | None:
    """A Python 3.11+ every user can read: the fallback's unprivileged child must start it."""
    for candidate in (sys.executable, "/usr/bin/python3.11", "/usr/bin/python3"):
        path = Path(candidate).resolve()
        if path.is_file() and not closed_to_others(path) and not closed_to_others(Path(sys.base_prefix)):
            return str(path)
    return None


# -- what a student uploads ---------------------------------------------------------------------
def test_the_model_is_found_at_any_depth_or_as_a_lone_file(tmp_path):
    nested = tmp_path / "zip" / "hw1-main" / "src"
    nested.mkdir(parents=True)
    (nested / "model.py").write_text("")
    (tmp_path / "zip" / "__MACOSX").mkdir()
    (tmp_path / "zip" / "__MACOSX" / "model.py").write_text("")  # what macOS's archiver adds
    assert find_model(tmp_path / "zip") == nested / "model.py"
    (tmp_path / "lone").mkdir()
    (tmp_path / "lone" / "hw1.py").write_text("")
    assert find_model(tmp_path / "lone") == tmp_path / "lone" / "hw1.py"
    (tmp_path / "lone" / "hw1.ipynb").write_text("")
    assert find_model(tmp_path / "lone") == tmp_path / "lone" / "hw1.ipynb"  # the notebook, not its helper


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "Your upload has no notebook or Python file: upload the notebook (.ipynb) or script (.py)"),
        (["a.py", "b.py"], "has 2 Python files (a.py, b.py) and no model.py: upload only the one"),
        (["a.ipynb", "x/b.ipynb", "c.py"], "has 2 notebooks (a.ipynb, x/b.ipynb) and no model.py"),
        (["x/model.py", "y/model.py"], "more than one model.py (x/model.py, y/model.py): upload only one"),
    ],
)
def test_an_upload_without_one_clear_model_says_what_to_upload(tmp_path, files, message):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    with pytest.raises(UploadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        find_model(tmp_path)


# -- the autograder, end to end -----------------------------------------------------------------
@pytest.fixture(scope="module")
def autograder():
    """The class assignment's autograder, unpacked and set up in a root every user can pass
    through (as /autograder is), with the results of each upload read back."""
    python = _shared_python()
    if python is None or shutil.which("uv") is None:
        pytest.skip("needs uv and a Python every user can read (such as /usr/bin/python3.11)")
    root = Path(tempfile.mkdtemp(prefix="grader-autograder-root-"))
    root.chmod(0o755)
    package = build_autograder(str(CLASS_ASSIGNMENT), root / "autograder.zip")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):  # zipfile drops the modes; Gradescope keeps them
        (root / "source" / script).chmod(0o755)
    assert (root / "source" / "backend").read_text() == "tensorflow\n"  # setup.sh installs grader[tensorflow]
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": python}
    env.pop("GRADER_CACHE_DIR", None)
    env.pop("VIRTUAL_ENV", None)
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_S,
        check=False,
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]

    def run(
        upload: dict[str, Path | str], metadata: dict | None = None
    ) -> tuple[dict, subprocess.CompletedProcess]:
        for folder in ("submission", "results"):
            shutil.rmtree(root / folder, ignore_errors=True)
        (root / "submission_metadata.json").unlink(missing_ok=True)
        if metadata is not None:  # Gradescope writes it beside submission/
            (root / "submission_metadata.json").write_text(json.dumps(metadata))
        (root / "submission").mkdir()
        for name, content in upload.items():
            target = root / "submission" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content.read_text() if isinstance(content, Path) else content)
        done = subprocess.run(
            [str(root / "source" / "run_autograder")],
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        results = json.loads((root / "results" / "results.json").read_text())
        validate(results)
        return results, done

    yield root, run
    shutil.rmtree(root, ignore_errors=True)


def test_setup_keeps_the_data_and_assignment_to_root_and_calibrates_once(autograder):
    root, _ = autograder
    source = root / "source"
    assert closed_to_others(source / "data") and closed_to_others(source / "assignment.toml")
    assert not closed_to_others(root / "venv" / "bin" / "python")  # the fallback's child can start it
    assert list((source / "cache" / "calibration").glob("conv_32_64_64-mnist_sample-*.json"))


def test_a_folder_uploaded_with_model_py_deep_inside_is_graded(autograder):
    _, run = autograder
    results, done = run(
        {
            "hw1-main/alice/model.py": SUBMISSIONS / "alice" / "model.py",
            "hw1-main/alice/submission.toml": SUBMISSIONS / "alice" / "submission.toml",
        }
    )
    assert results["score"] == 10, done.stdout[-3000:]
    assert "reference calibration" not in results["output"]  # measured by setup.sh, not per student
    assert [test["status"] for test in results["tests"] if test["max_score"]] == ["passed"] * 4


def test_a_failing_model_and_a_lone_file_are_graded_alike(autograder):
    _, run = autograder
    folder, _ = run({"model.py": SUBMISSIONS / "bob" / "model.py"})
    lone, _ = run({"hw1.py": SUBMISSIONS / "bob" / "model.py"})
    assert folder["score"] == lone["score"] == 2
    assert [t["status"] for t in folder["tests"]] == [t["status"] for t in lone["tests"]]


def test_a_notebook_upload_is_graded_as_its_model_py_is(autograder):
    """bob's model typed into a notebook, as a student following the tutorial in Colab uploads it."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [
        "%matplotlib inline\nimport keras\nfrom keras.datasets import mnist",
        "(x_train, y_train), (x_test, y_test) = mnist.load_data()\n"
        "x_train = x_train.reshape(-1, 28, 28, 1) / 255\ny_train = keras.utils.to_categorical(y_train)",
        (SUBMISSIONS / "bob" / "model.py").read_text() + "\nmodel = build_model()",
        "model.fit(x_train, y_train, epochs=1)\nmodel.evaluate(x_test, y_test)",
    ]
    upload = nbformat.writes(new_notebook(cells=[new_code_cell(cell) for cell in cells]))
    _, run = autograder
    folder, _ = run({"model.py": SUBMISSIONS / "bob" / "model.py"})
    notebook, done = run({"Homework 1.ipynb": upload})
    assert notebook["score"] == folder["score"] == 2, done.stdout[-3000:]
    assert [t["status"] for t in notebook["tests"]] == [t["status"] for t in folder["tests"]]
    assert "Homework 1.ipynb, code cell 4, line 1" in notebook["output"]


def test_an_empty_upload_is_a_failed_test_that_says_what_to_upload(autograder):
    _, run = autograder
    results, _ = run({})
    assert results["score"] == 0 and results["tests"][0]["max_score"] == 10
    assert results["tests"][0]["output"].startswith("Your upload has no notebook or Python file")


def test_the_graders_own_faults_still_leave_results(autograder):
    root, run = autograder
    data = next((root / "source" / "data").iterdir())
    kept = data.read_bytes()
    try:
        data.write_bytes(b"not a dataset")
        results, _ = run({"model.py": SUBMISSIONS / "alice" / "model.py"})
        assert results["tests"][0]["name"] == "Autograder" and "misconfigured" in results["output"]
        assert "This is not your fault" in results["output"]
    finally:
        data.write_bytes(kept)
    python = root / "venv" / "bin" / "python"
    python.rename(python.with_name("python.away"))  # a broken image: Python itself cannot start
    try:
        results, done = run({"model.py": SUBMISSIONS / "alice" / "model.py"})
    finally:
        python.with_name("python.away").rename(python)
    assert done.returncode == 0 and results["score"] == 0
    assert results["output"].startswith("The autograder could not start (exit code 127)")


def test_submission_limits_turn_away_a_fourth_upload_and_keep_the_best_score(autograder):
    root, run = autograder
    assignment = root / "source" / "assignment.toml"
    kept = assignment.read_text()
    assignment.write_text(kept + '\n[submissions]\nper_day = 2\ncounts = "best"\n')
    try:
        alice, _ = run({"model.py": SUBMISSIONS / "alice" / "model.py"})
        failed, _ = run({})  # an empty upload: not graded, so it does not count
        assert alice["extra_data"]["counted"] and not failed["extra_data"]["counted"]
        past = [
            {"submission_time": "2026-11-20T16:00:00-08:00", "score": 10, "results": alice},
            {"submission_time": "2026-11-20T16:30:00-08:00", "score": 0, "results": failed},
        ]
        bob, _ = run(
            {"model.py": SUBMISSIONS / "bob" / "model.py"},
            {"created_at": "2026-11-20T17:00:00-08:00", "previous_submissions": past},
        )
        assert bob["score"] == 10 and bob["tests"][0]["name"] == "Parameter count"  # bob's own tests
        assert "Submission 2 of the 2 graded in any 24 hours." in bob["output"]
        assert (
            "This submission scored 2; your best, 10 (submitted 2026-11-20T16:00-08:00), stands."
            in bob["output"]
        )
        past.append({"submission_time": "2026-11-20T17:00:00-08:00", "score": 10, "results": bob})
        again, done = run(
            {"model.py": SUBMISSIONS / "bob" / "model.py"},
            {"created_at": "2026-11-20T18:00:00-08:00", "previous_submissions": past},
        )
        assert again["output"].startswith("Not graded: you have had 2 submissions graded in the 24 hours")
        assert "submit after 2026-11-21T16:00-08:00" in again["output"]
        assert again["score"] == 10 and again["tests"] == alice["tests"]  # the best one's tests stand
        assert "Grading" not in done.stdout  # turned away before any child started
    finally:
        assignment.write_text(kept)
