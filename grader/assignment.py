"""Assignment specs: one TOML file per assignment naming its reference, dataset and checks.

    title = "Tutorial 000: the 32-64-64 convolutional network"
    reference = "conv_32_64_64"
    dataset = "mnist_sample"

    [training]            # every key of [training], [target] and [limits] is declared, with its
    max_epochs = 5        # default and range, in grader/settings.py
    time_limit_s = 600

    [target]              # optional: time to an accuracy instead (see grader/target.py)
    accuracy = 0.97

    [limits]              # optional: memory, processes, CPU, file, disk and output sizes, wall times
    memory_mb = 4096

    [submissions]         # optional, for Gradescope: at most 3 graded a day, the best one counts
    per_day = 3
    counts = "best"

    [[checks]]
    kind = "parameters"
    points = 2
    maximum = 500_000

The five shipped assignments live in ``grader/assignments/``; any other file can be named by
path. Every mistake in a file is reported with the file and the key, before anything runs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from grader.backends import BACKENDS
from grader.checks import Check, make_check
from grader.data.catalog import DATASETS
from grader.settings import Limits, SettingsError, Submissions, Target, Training, from_table, refuse_unknown

ASSIGNMENTS_DIR = Path(__file__).parent / "assignments"
TEXT_KEYS = ("title", "reference", "dataset")
TOP_LEVEL = (*TEXT_KEYS, "train_despite_failures", "training", "target", "limits", "submissions", "checks")


class AssignmentError(ValueError):
    """An assignment cannot be found or its file is wrong; the message names the file and key."""


@dataclass(frozen=True)
class Assignment:
    """One assignment: which reference it measures against, on which data, with which checks."""

    name: str
    title: str
    reference: str
    dataset: str
    training: Training
    checks: tuple[Check, ...]
    train_despite_failures: bool = False
    limits: Limits = field(default_factory=Limits)
    target: Target | None = None  # time-to-accuracy (see grader/target.py); None: fixed epochs
    submissions: Submissions = field(default_factory=Submissions)  # Gradescope's limits
    path: Path | None = None

    @property
    def possible(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def needs_baseline(self) -> bool:
        return any(check.needs_baseline for check in self.checks)

    @property
    def seeds(self) -> tuple[int, ...]:
        """One training run per seed: the target's seeds, or the training seed alone."""
        return self.target.seeds if self.target else (self.training.seed,)

    def with_backend(self, backend: str) -> Assignment:
        """The same assignment trained on another Keras backend (its calibration follows)."""
        if backend not in BACKENDS:
            raise AssignmentError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}.")
        return replace(self, training=replace(self.training, backend=backend))

    def with_dataset(self, dataset: str) -> Assignment:
        """The same assignment graded on other data (its relative limits follow the data)."""
        _check_dataset(dataset, self.path or Path(self.name))
        return replace(self, dataset=dataset)


def available() -> list[str]:
    """Names of the shipped assignments."""
    return sorted(path.stem for path in ASSIGNMENTS_DIR.glob("*.toml"))


def load_assignment(name_or_path: str | Path) -> Assignment:
    """A shipped assignment by name (or tutorial number), or any assignment file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        from reference import REFERENCES, resolve

        try:
            path = ASSIGNMENTS_DIR / f"{resolve(str(name_or_path))}.toml"
        except KeyError:
            path = ASSIGNMENTS_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            names = ", ".join(available()) or "none"
            hint = get_close_matches(str(name_or_path), [*available(), *REFERENCES.values()], n=1)
            raise AssignmentError(
                f"no assignment named {str(name_or_path)!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; shipped: {names}; or give the path of a .toml file."
            )
    if not path.is_file():
        raise AssignmentError(f"assignment file {path} does not exist.")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise AssignmentError(f"{path}: not valid TOML: {error}") from None
    try:
        return parse_assignment(table, path=path)
    except SettingsError as error:
        raise AssignmentError(f"{path}: {error}") from None


def parse_assignment(table: dict[str, Any], *, path: Path) -> Assignment:
    """Validate one parsed TOML table into an ``Assignment``; raises ``SettingsError`` naming the key."""
    from reference import resolve

    refuse_unknown(table, TOP_LEVEL)
    for key in TEXT_KEYS:
        if not isinstance(table.get(key), str) or not table[key]:
            raise SettingsError(f"{key} is required and must be text.")
    try:
        reference = resolve(table["reference"])
    except KeyError as error:
        raise SettingsError(str(error.args[0])) from None
    _check_dataset(table["dataset"], path)
    training = from_table(Training, table.get("training", {}), prefix="training.")
    limits = from_table(Limits, table.get("limits", {}), prefix="limits.")
    submissions = from_table(Submissions, table.get("submissions", {}), prefix="submissions.")
    target = None
    if "target" in table:
        target = from_table(Target, table["target"], prefix="target.", given={"seeds": (training.seed,)})
    tables = table.get("checks")
    if not isinstance(tables, list) or not tables:
        raise SettingsError("at least one [[checks]] table is required.")
    checks = []
    for number, check_table in enumerate(tables, 1):
        try:
            checks.append(make_check(check_table))
        except SettingsError as error:
            kind = check_table.get("kind", "?") if isinstance(check_table, dict) else "?"
            raise SettingsError(f"check {number} ({kind}): {error}") from None
    kinds = [check.kind for check in checks]
    repeated = sorted({kind for kind in kinds if kinds.count(kind) > 1})
    if repeated:
        raise SettingsError(f"each kind of check may appear once; repeated: {', '.join(repeated)}.")
    despite = table.get("train_despite_failures", False)
    if not isinstance(despite, bool):
        raise SettingsError(f"train_despite_failures must be true or false, not {despite!r}.")
    return Assignment(
        name=path.stem,
        title=table["title"],
        reference=reference,
        dataset=table["dataset"],
        training=training,
        checks=tuple(checks),
        train_despite_failures=despite,
        limits=limits,
        target=target,
        submissions=submissions,
        path=path,
    )


def _check_dataset(dataset: str, path: Path) -> None:
    if dataset not in DATASETS:
        raise AssignmentError(f"{path}: dataset must be one of {', '.join(DATASETS)}, not {dataset!r}.")
