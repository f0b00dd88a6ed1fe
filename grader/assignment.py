"""Assignment specs: one TOML file per assignment naming its reference, dataset and checks.

    title = "Tutorial 000: the 32-64-64 convolutional network"
    reference = "conv_32_64_64"
    dataset = "mnist_sample"

    [training]
    max_epochs = 5        # caps the submission's epochs and the reference's alike
    time_limit_s = 600    # training is stopped after this long on the grader's clock
    precision = "float32" # or "mixed_bfloat16" (CPUs with bfloat16, GPUs), "mixed_float16" (GPUs)

    [target]              # optional: time to an accuracy instead (see grader/target.py)
    accuracy = 0.97

    [limits]              # optional: memory, processes, CPU, file and output sizes, wall times
    memory_mb = 4096      # (see grader/runner/limits.py for every key and its default)

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

from grader.checks import Check, CheckError, make_check
from grader.data.catalog import DATASETS
from grader.runner.limits import Limits, LimitsError
from grader.runner.training import PRECISIONS
from grader.target import Target, TargetError

ASSIGNMENTS_DIR = Path(__file__).parent / "assignments"
DEFAULT_SEED = 42
TOP_LEVEL = (
    "title",
    "reference",
    "dataset",
    "train_despite_failures",
    "training",
    "target",
    "limits",
    "checks",
)
TRAINING_KEYS = ("max_epochs", "time_limit_s", "seed", "precision")


class AssignmentError(ValueError):
    """An assignment cannot be found or its file is wrong; the message names the file and key."""


@dataclass(frozen=True)
class Training:
    """Limits the grader enforces on every run, the reference's calibration included."""

    max_epochs: int
    time_limit_s: float
    seed: int = DEFAULT_SEED
    precision: str = "float32"  # Keras's dtype policy, for the reference and every submission


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
    path: Path | None = None

    @property
    def possible(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def needs_baseline(self) -> bool:
        return any(check.needs_baseline for check in self.checks)

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
    return parse_assignment(table, path=path)


def parse_assignment(table: dict[str, Any], *, path: Path) -> Assignment:
    """Validate one parsed TOML table into an ``Assignment``."""
    from reference import resolve

    _refuse_unknown(table, TOP_LEVEL, path, "")
    for key in ("title", "reference", "dataset"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise AssignmentError(f"{path}: {key} is required and must be a string.")
    try:
        reference = resolve(table["reference"])
    except KeyError as error:
        raise AssignmentError(f"{path}: {error.args[0]}") from None
    _check_dataset(table["dataset"], path)

    training_table = table.get("training", {})
    if not isinstance(training_table, dict):
        raise AssignmentError(f"{path}: [training] must be a table.")
    _refuse_unknown(training_table, TRAINING_KEYS, path, "training.")
    max_epochs = training_table.get("max_epochs")
    time_limit = training_table.get("time_limit_s")
    seed = training_table.get("seed", DEFAULT_SEED)
    if type(max_epochs) is not int or max_epochs < 1:
        raise AssignmentError(f"{path}: training.max_epochs is required, a whole number of at least 1.")
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float) or time_limit <= 0:
        raise AssignmentError(f"{path}: training.time_limit_s is required, a number of seconds above 0.")
    if type(seed) is not int:
        raise AssignmentError(f"{path}: training.seed must be a whole number.")
    precision = training_table.get("precision", "float32")
    if precision not in PRECISIONS:
        raise AssignmentError(
            f"{path}: training.precision must be one of {', '.join(PRECISIONS)}, not {precision!r}."
        )

    tables = table.get("checks")
    if not isinstance(tables, list) or not tables:
        raise AssignmentError(f"{path}: at least one [[checks]] table is required.")
    checks = []
    for number, check_table in enumerate(tables, 1):
        try:
            checks.append(make_check(check_table))
        except (CheckError, TypeError) as error:
            kind = check_table.get("kind", "?") if isinstance(check_table, dict) else "?"
            raise AssignmentError(f"{path}: check {number} ({kind}): {error}") from None
    kinds = [check.kind for check in checks]
    repeated = sorted({kind for kind in kinds if kinds.count(kind) > 1})
    if repeated:
        raise AssignmentError(f"{path}: each kind of check may appear once; repeated: {', '.join(repeated)}.")
    limits_table = table.get("limits", {})
    if not isinstance(limits_table, dict):
        raise AssignmentError(f"{path}: [limits] must be a table.")
    try:
        limits = Limits.from_table(limits_table)
    except LimitsError as error:
        raise AssignmentError(f"{path}: {error}") from None
    target = None
    if "target" in table:
        if not isinstance(table["target"], dict):
            raise AssignmentError(f"{path}: [target] must be a table.")
        try:
            target = Target.from_table(table["target"], default_seed=seed)
        except TargetError as error:
            raise AssignmentError(f"{path}: {error}") from None
    despite = table.get("train_despite_failures", False)
    if not isinstance(despite, bool):
        raise AssignmentError(f"{path}: train_despite_failures must be true or false.")
    return Assignment(
        name=path.stem,
        title=table["title"],
        reference=reference,
        dataset=table["dataset"],
        training=Training(max_epochs, float(time_limit), seed, precision),
        checks=tuple(checks),
        train_despite_failures=despite,
        limits=limits,
        target=target,
        path=path,
    )


def _refuse_unknown(table: dict[str, Any], allowed: tuple[str, ...], path: Path, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            close = get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else f"; allowed: {', '.join(allowed)}"
            raise AssignmentError(f"{path}: unknown key {prefix}{key}{hint}.")


def _check_dataset(dataset: str, path: Path) -> None:
    if dataset not in DATASETS:
        raise AssignmentError(f"{path}: dataset must be one of {', '.join(DATASETS)}, not {dataset!r}.")
