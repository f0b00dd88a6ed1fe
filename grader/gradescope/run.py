"""What ``run_autograder`` runs for each submission: grade ``/autograder/submission`` as one
submission, whatever the student uploaded, and always leave ``results/results.json``.

A student may upload ``model.py`` at any depth (a zipped folder, a GitHub repository), or a single
notebook or Python file under any name: what ``grader grade`` takes in a folder. An upload the grader cannot take, and any fault of the grader's
own, still ends as a failed test that says what to do: Gradescope shows the student nothing else.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from rich.console import Console

from grader.atomic import write_text_atomic
from grader.gradescope.limits import METADATA_FILE, Standing, read_metadata, settled, standing, turned_away
from grader.settings import Submissions

MODEL_FILE = "model.py"
IGNORED = ("__MACOSX", "__pycache__")  # what archivers and Python add beside a student's files


class UploadError(ValueError):
    """The upload holds no model.py, notebook or script the grader can pick without guessing."""


def _visible(upload: Path, path: Path) -> bool:
    parts = path.relative_to(upload).parts
    return not any(part.startswith(".") or part in IGNORED for part in parts)


def find_model(upload: Path) -> Path:
    """The file to grade: the shallowest ``model.py``, else a lone notebook, else a lone Python file."""
    models = sorted((p for p in upload.rglob(MODEL_FILE) if _visible(upload, p)), key=lambda p: len(p.parts))
    if models:
        shallowest = [p for p in models if len(p.parts) == len(models[0].parts)]
        if len(shallowest) > 1:
            where = ", ".join(str(p.relative_to(upload)) for p in shallowest)
            raise UploadError(f"Your upload has more than one {MODEL_FILE} ({where}): upload only one.")
        return models[0]
    for pattern, kind in (("*.ipynb", "notebooks"), ("*.py", "Python files")):
        found = [p for p in upload.rglob(pattern) if _visible(upload, p)]
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(sorted(str(p.relative_to(upload)) for p in found)[:5])
            raise UploadError(
                f"Your upload has {len(found)} {kind} ({names}) and no {MODEL_FILE}: upload only the one "
                "that builds and fits your model."
            )
    raise UploadError(
        "Your upload has no notebook or Python file: upload the notebook (.ipynb) or script (.py) "
        f"that builds and fits your model, or a {MODEL_FILE} that defines build_model()."
    )


def _failed(message: str, possible: float, name: str = "Submission") -> dict:
    """A failed test in place of a grade; it does not count toward a submission limit."""
    test = {"name": name, "score": 0, "max_score": possible, "status": "failed", "output": message}
    return {
        "score": 0,
        "output": message,
        "tests": [{**test, "visibility": "visible"}],
        "extra_data": {"counted": False},
    }


def _standing(root: Path, policy: Submissions, console: Console) -> Standing | None:
    """Where the student stands against the assignment's limits, from Gradescope's metadata; None
    where there is none to read (a local run), or it cannot be read (said on the log)."""
    path = root / METADATA_FILE
    if not path.is_file():
        return None
    try:
        now, past = read_metadata(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        console.print(f"Submission limits not applied: {error}", markup=False)
        return None
    return standing(policy, now, past)


def _possible(assignment: Path) -> float:
    try:
        from grader.assignment import load_assignment

        return sum(check.points for check in load_assignment(assignment).checks)
    except Exception:  # the assignment itself may be what is broken
        return 0.0


def run_autograder(root: Path, *, console: Console | None = None) -> int:
    """Grade ``root/submission`` against ``root/source/assignment.toml`` into ``root/results``;
    returns the grader's exit code (0, 1, 2 or 3), and results.json is there whatever it is."""
    from grader.assignment import AssignmentError, load_assignment
    from grader.data import DataError
    from grader.grade import grade, write_outputs
    from grader.runner.sandbox import SandboxError
    from grader.submission import SubmissionError

    console = console or Console()
    source, results = root / "source", root / "results"
    assignment = source / "assignment.toml"
    try:
        task = load_assignment(assignment)
        at = _standing(root, task.submissions, console)
        if at is not None and at.over:
            outcome = turned_away(at, task.possible)
            console.print(outcome["output"])
            write_text_atomic(results / "results.json", json.dumps(outcome, indent=2) + "\n")
            return 0
        model = find_model(root / "submission")
        with tempfile.TemporaryDirectory(prefix="grader-upload-") as staging:
            folder = Path(staging) / "submission"
            # With the files beside it; in that folder the grade picks the same file (grader/submission.py).
            shutil.copytree(model.parent, folder, symlinks=True)
            result = grade(folder, assignment=task, data_dir=source / "data", console=console)
            written, _ = write_outputs(result, results)
            if at is not None:
                write_text_atomic(written, json.dumps(settled(at, result.to_gradescope()), indent=2) + "\n")
        return 0 if result.passed else 1
    except UploadError as error:
        outcome, code = _failed(str(error), _possible(assignment)), 2
    except (AssignmentError, DataError, SandboxError, SubmissionError) as error:
        message = f"The autograder is misconfigured ({error}). This is not your fault: tell your instructor."
        outcome, code = _failed(message, _possible(assignment), "Autograder"), 2
    except Exception as error:  # the grader's fault, never the student's
        traceback.print_exc()
        message = (
            f"The autograder failed ({type(error).__name__}: {error}). This is not your fault: "
            "resubmit in a few minutes, and tell your instructor if it happens again."
        )
        outcome, code = _failed(message, _possible(assignment), "Autograder"), 3
    console.print(outcome["output"])
    write_text_atomic(results / "results.json", json.dumps(outcome, indent=2) + "\n")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope.run", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/autograder"), help="Gradescope's root folder")
    args = parser.parse_args(argv)
    run_autograder(args.root)
    return 0  # Gradescope reads results.json; a non-zero exit would only hide it


if __name__ == "__main__":
    sys.exit(main())
