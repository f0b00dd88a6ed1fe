"""Build the autograder zip Gradescope asks for: ``setup.sh`` and ``run_autograder`` at its root,
beside the assignment (``assignment.toml``), its dataset (``data/``) and this grader's own code
(``project/``).

Gradescope unpacks the zip into ``/autograder/source`` and runs ``setup.sh`` once to build the
image; the dataset travels in the zip so the image needs no download and grades offline.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from grader.assignment import AssignmentError, load_assignment
from grader.data import DataError, load_dataset

FILES = Path(__file__).parent / "files"
SCRIPTS = ("setup.sh", "run_autograder")
PROJECT = Path(__file__).resolve().parents[2]  # the checkout this grader runs from
PROJECT_PARTS = ("pyproject.toml", "README.md", "grader", "reference")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


def build_autograder(assignment: str, out: Path, *, data_dir: Path | None = None) -> Path:
    """Write the autograder zip for ``assignment`` (a shipped name, tutorial number or .toml file)
    to ``out``; raises ``AssignmentError`` or ``DataError`` when either cannot be packed."""
    task = load_assignment(assignment)
    if task.path is None or not task.path.is_file():
        raise AssignmentError(f"{assignment}: the assignment has no file to pack.")
    missing = [part for part in PROJECT_PARTS if not (PROJECT / part).exists()]
    if missing:
        raise AssignmentError(
            f"the autograder packs this grader's source, and {PROJECT} lacks {', '.join(missing)}: "
            "build it from a checkout of the grader."
        )
    data = load_dataset(task.dataset, data_dir=data_dir, allow_download=False)
    with tempfile.TemporaryDirectory(prefix="grader-autograder-") as staging:
        source = Path(staging)
        shutil.copyfile(task.path, source / "assignment.toml")
        (source / "backend").write_text(task.training.backend + "\n")  # setup.sh installs grader[BACKEND]
        for part in PROJECT_PARTS:
            origin = PROJECT / part
            if origin.is_dir():
                shutil.copytree(origin, source / "project" / part, ignore=SKIP)
            else:
                (source / "project").mkdir(exist_ok=True)
                shutil.copyfile(origin, source / "project" / part)
        (source / "data").mkdir()
        files = sorted(data.source.path.iterdir()) if data.source.path.is_dir() else [data.source.path]
        for file in files:
            if file.is_file():
                shutil.copyfile(file, source / "data" / file.name)
        try:  # the packed copy must be the one the image finds
            load_dataset(task.dataset, data_dir=source / "data", allow_download=False)
        except DataError as error:
            raise DataError(f"{task.dataset} from {data.source.path} cannot be packed: {error}") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for script in SCRIPTS:
                _add(archive, FILES / script, script, 0o755)
            for path in sorted(source.rglob("*")):
                if path.is_file():
                    _add(archive, path, str(path.relative_to(source)), 0o644)
    return out


def _add(archive: zipfile.ZipFile, path: Path, name: str, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same zip for the same input
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, path.read_bytes())
