"""What a stored result depends on, as one hash: the submission's content, its assignment and
the environment that graded it. A rerun re-grades only where that hash changed."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from grader import backends
from grader.assignment import Assignment
from grader.calibration import data_digest, machine
from grader.data import load_dataset

CHUNK = 1 << 20
SKIPPED = ("__pycache__",)


def folder_digest(folder: Path) -> str:
    """Every file's relative path and bytes (a link's target, not what it points at)."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            path = Path(root, name)
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            if path.is_symlink():
                digest.update(b"link:" + os.readlink(path).encode())
            elif path.is_file():
                with open(path, "rb") as handle:
                    while block := handle.read(CHUNK):
                        digest.update(block)
            digest.update(b"\0")
    return digest.hexdigest()


@cache
def grader_digest() -> str:
    """The grader's own code and shipped assignments: a fix to either re-grades the class."""
    import grader
    import reference

    digest = hashlib.sha256()
    for package in (Path(grader.__file__).parent, Path(reference.__file__).parent):
        for path in sorted(package.rglob("*")):
            if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(package.parent)).encode() + path.read_bytes())
    return digest.hexdigest()


def environment(backend: str) -> dict[str, Any]:
    """The software and machine a grade depends on."""
    return {
        "python": platform.python_version(),
        **backends.key(backend),
        "machine": machine(),
        "grader": grader_digest(),
    }


@cache
def dataset_digest(name: str, data_dir: Path | None) -> str:
    return data_digest(load_dataset(name, data_dir=data_dir, allow_download=False))


def grade_key(folder: Path, assignment: Assignment, data_dir: Path | None, sandbox: str) -> str:
    """The hash a stored result is kept under."""
    found = {
        "submission": folder_digest(folder),
        "assignment": repr(replace(assignment, path=None)),
        "data": dataset_digest(assignment.dataset, data_dir),
        "environment": environment(assignment.training.backend),
        "sandbox": sandbox,
    }
    return hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()
