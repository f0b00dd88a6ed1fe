"""A student's submission folder: its code (the entry) and an optional ``submission.toml``.

    # submission.toml
    assignment = "conv_32_64_64"    # which assignment this is for
    display_name = "alice"          # the name shown on leaderboards
    entry = "CNN_MNIST.ipynb"       # which file to grade, where the folder holds several

The entry takes one of three forms, all graded alike: ``model.py`` with ``build_model()`` (and
optionally ``fit_kwargs()``), one Jupyter notebook, or one Python script with top-level code, as
the tutorials are written. A notebook or script runs until its first ``model.fit`` call; that
model and that call's settings are what is graded (grader/runner/capture.py).

Only the TOML is read here (as data); the entry is never opened by the grader's process, only
handed by path to a child.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

MODEL_FILE = "model.py"
SETTINGS_FILE = "submission.toml"
SETTINGS_KEYS = ("assignment", "display_name", "entry")
ENTRY_SUFFIXES = (".py", ".ipynb")
MAX_DISPLAY_NAME = 64
RESERVED_NAMES = ("reference", "anonymous")  # what a board's baseline rows and pseudonyms start with


class SubmissionError(ValueError):
    """The submission cannot be graded as given (a usage error, not a failed check)."""


@dataclass(frozen=True)
class Submission:
    """What the grader knows about a submission before running any of it."""

    folder: Path
    name: str
    display_name: str
    assignment: str | None
    notes: tuple[str, ...] = ()
    chose_name: bool = False  # display_name came from submission.toml (else it is the folder's name)
    entry: Path | None = None  # the file graded; None when there is none, or no one file to choose
    missing: str = ""  # why there is no entry, in words a student can act on

    @property
    def has_model(self) -> bool:
        return self.entry is not None

    @property
    def form(self) -> str:
        """``model`` (model.py and its build_model()), ``notebook`` or ``script``."""
        return entry_form(self.entry) if self.entry is not None else ""


def entry_form(entry: Path) -> str:
    if entry.suffix == ".ipynb":
        return "notebook"
    return "model" if entry.name == MODEL_FILE else "script"


def find_entry(folder: Path, named: str | None = None) -> tuple[Path | None, str]:
    """The file to grade in ``folder`` and, without one, why: ``named`` (submission.toml's
    ``entry``), else model.py, else the folder's one notebook, else its one Python script."""
    if named is not None:
        entry = folder / named
        if Path(named).name != named or entry.suffix not in ENTRY_SUFFIXES:
            return None, (
                f"{SETTINGS_FILE}: entry = {named!r} must name a .py or .ipynb file directly in "
                f"{folder.name}/."
            )
        if not entry.is_file():
            return None, f"{SETTINGS_FILE} names entry = {named!r}, but {folder.name}/ has no such file."
        return entry, ""
    if (folder / MODEL_FILE).is_file():
        return folder / MODEL_FILE, ""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for suffix, kind in ((".ipynb", "notebooks"), (".py", "Python scripts")):
        found = [p for p in files if p.suffix == suffix]
        if len(found) == 1:
            return found[0], ""
        if found:
            names = ", ".join(p.name for p in found)
            return None, (
                f"{folder.name}/ holds {len(found)} {kind} ({names}): name the one to grade in "
                f'{SETTINGS_FILE}, e.g. entry = "{found[0].name}".'
            )
    return None, (
        f"No model.py, notebook or script in {folder.name}/: hand in the notebook (.ipynb) or script "
        "(.py) that builds and fits your model, or a model.py that defines build_model()."
    )


def read_submission(folder: Path | str, *, entry: str | None = None) -> Submission:
    """Read ``folder``'s settings; a broken ``submission.toml`` is a note, not a crash. ``entry``
    (a file name in the folder) is graded whatever the settings name."""
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise SubmissionError(
            f"{folder} is not a folder; give the submission's folder, e.g. submissions/alice."
        )
    name = folder.name
    settings_path = folder / SETTINGS_FILE
    if not settings_path.is_file():
        return Submission(folder, name, name, None, (), False, *find_entry(folder, entry))
    notes: list[str] = []
    try:
        settings = tomllib.loads(settings_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
        note = f"{SETTINGS_FILE} could not be read and was ignored: {error}"
        return Submission(folder, name, name, None, (note,), False, *find_entry(folder, entry))
    for key in settings:
        if key not in SETTINGS_KEYS:
            notes.append(f"{SETTINGS_FILE}: unknown key {key!r} ignored (known: {', '.join(SETTINGS_KEYS)}).")
    assignment = settings.get("assignment")
    if assignment is not None and not isinstance(assignment, str):
        notes.append(f"{SETTINGS_FILE}: assignment must be a string; ignored.")
        assignment = None
    display = settings.get("display_name", name)
    chose = "display_name" in settings
    if not isinstance(display, str) or not display.strip() or not display.isprintable():
        notes.append(f"{SETTINGS_FILE}: display_name must be printable text; the folder name is used.")
        display, chose = name, False
    elif chose and display.strip().casefold().startswith(RESERVED_NAMES):
        notes.append(
            f"{SETTINGS_FILE}: display_name may not start with {' or '.join(RESERVED_NAMES)}, which "
            "the leaderboard uses for the reference models and for students who chose no name; "
            "you are shown under a pseudonym."
        )
        display, chose = name, False
    named = settings.get("entry")
    if named is not None and not isinstance(named, str):
        notes.append(f"{SETTINGS_FILE}: entry must be a file name; ignored.")
        named = None
    found, missing = find_entry(folder, entry or named)
    display = display.strip()[:MAX_DISPLAY_NAME]
    return Submission(folder, name, display, assignment, tuple(notes), chose, found, missing)
