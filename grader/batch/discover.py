"""Which folders make a class: the submissions named, and every folder inside a class folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.submission import ENTRY_SUFFIXES, SETTINGS_FILE


class ClassError(ValueError):
    """The class cannot be graded as given (a usage error): no submissions, or two with one name."""


def is_submission(folder: Path) -> bool:
    """A folder with settings or code of its own (model.py, a notebook or a script)."""
    return (folder / SETTINGS_FILE).is_file() or any(
        path.suffix in ENTRY_SUFFIXES and path.is_file() and not path.name.startswith(".")
        for path in folder.iterdir()
    )


def is_class_folder(path: Path) -> bool:
    """A folder that is not itself a submission: its subfolders are (``submissions/``)."""
    return path.is_dir() and not is_submission(path)


def find_submissions(paths: Sequence[Path]) -> list[Path]:
    """Every submission folder in ``paths``: a submission itself, or each visible subfolder of a
    class folder (one without code still counts: its student is told so). Names must be unique,
    since each student's results live in a folder of that name."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise ClassError(f"{path} is not a folder; give submission folders or a folder of them.")
        if is_submission(path):
            found.append(path)
        else:
            found.extend(
                sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
            )
    if not found:
        raise ClassError(f"no submission folders in {', '.join(map(str, paths))}.")
    seen: dict[str, Path] = {}
    for folder in found:
        if folder.name in seen:
            raise ClassError(
                f"two submissions are named {folder.name!r} ({seen[folder.name]} and {folder}); "
                "each student's results are stored under their folder's name."
            )
        seen[folder.name] = folder
    return found
