"""A student's submission folder: ``model.py`` and an optional ``submission.toml``.

    # submission.toml
    assignment = "conv_32_64_64"    # which assignment this is for
    display_name = "alice"          # the name shown on leaderboards

Only the TOML is read here (as data); ``model.py`` is never opened by the grader's process,
only handed by path to a child.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

MODEL_FILE = "model.py"
SETTINGS_FILE = "submission.toml"
SETTINGS_KEYS = ("assignment", "display_name")
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

    @property
    def model_file(self) -> Path:
        return self.folder / MODEL_FILE

    @property
    def has_model(self) -> bool:
        return self.model_file.is_file()


def read_submission(folder: Path | str) -> Submission:
    """Read ``folder``'s settings; a broken ``submission.toml`` is a note, not a crash."""
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise SubmissionError(
            f"{folder} is not a folder; give the submission's folder, e.g. submissions/alice."
        )
    name = folder.name
    settings_path = folder / SETTINGS_FILE
    if not settings_path.is_file():
        return Submission(folder, name, name, None)
    notes: list[str] = []
    try:
        settings = tomllib.loads(settings_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
        return Submission(
            folder, name, name, None, (f"{SETTINGS_FILE} could not be read and was ignored: {error}",)
        )
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
    return Submission(folder, name, display.strip()[:MAX_DISPLAY_NAME], assignment, tuple(notes), chose)
