"""Build the autograder zip Gradescope asks for: ``setup.sh`` and ``run_autograder`` at its root,
beside the assignment (``assignment.toml``), its dataset (``data/``) and this grader's own code
(``project/``): the checkout it runs from, or, installed from a wheel, its installed packages with
a ``pyproject.toml`` written from the installed metadata (the same version and requirements).

Gradescope unpacks the zip into ``/autograder/source`` and runs ``setup.sh`` once to build the
image; the dataset travels in the zip so the image needs no download and grades offline.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
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
    data = load_dataset(task.dataset, data_dir=data_dir, allow_download=False)
    with tempfile.TemporaryDirectory(prefix="grader-autograder-") as staging:
        source = Path(staging)
        shutil.copyfile(task.path, source / "assignment.toml")
        (source / "backend").write_text(task.training.backend + "\n")  # setup.sh installs grader[BACKEND]
        pack_project(source / "project")
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


def pack_project(target: Path) -> None:
    """This grader's code in ``target``, ready for ``pip install target[extra]``."""
    target.mkdir(parents=True)
    if all((PROJECT / part).exists() for part in PROJECT_PARTS):  # a checkout
        for part in PROJECT_PARTS:
            origin = PROJECT / part
            if origin.is_dir():
                shutil.copytree(origin, target / part, ignore=SKIP)
            else:
                shutil.copyfile(origin, target / part)
        return
    import grader
    import reference

    for package in (grader, reference):
        origin = Path(package.__file__ or "").parent
        shutil.copytree(origin, target / origin.name, ignore=SKIP)
    (target / "pyproject.toml").write_text(installed_pyproject())


def installed_pyproject() -> str:
    """A pyproject.toml for the installed package, from its metadata: name, version, Python,
    requirements and extras, and the layout the checkout's own declares."""
    requirements: dict[str, list[str]] = {"": []}
    for line in importlib.metadata.requires("grader") or []:
        requirement, _, marker = (part.strip() for part in line.partition(";"))
        extra = re.search(r'extra\s*==\s*"([^"]+)"', marker)
        if extra:
            marker = re.sub(r'\s*(and\s+)?extra\s*==\s*"[^"]+"', "", marker).strip()
        requirements.setdefault(extra.group(1) if extra else "", []).append(
            f"{requirement}; {marker}" if marker else requirement
        )
    metadata = importlib.metadata.metadata("grader")
    extras = "\n".join(f"{name} = {json.dumps(found)}" for name, found in requirements.items() if name)
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "grader"
version = {json.dumps(metadata["Version"])}
requires-python = {json.dumps(metadata["Requires-Python"] or ">=3.11")}
dependencies = {json.dumps(requirements[""])}

[project.optional-dependencies]
{extras}

[project.scripts]
grader = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*", "reference*"]

[tool.setuptools.package-data]
grader = ["assignments/*.toml", "gradescope/files/*"]
"""


def _add(archive: zipfile.ZipFile, path: Path, name: str, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same zip for the same input
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, path.read_bytes())
