"""Every setting an assignment file can hold, declared once, and the one helper that reads them.

    [training]   max_epochs, time_limit_s, seed, precision, cores, backend, trainer
    [limits]     memory_mb, processes, cpu_s, file_mb, disk_mb, output_mb, startup_s, build_s, predict_s
    [target]     accuracy, validation_fraction, seeds
    [submissions] per_day, counts (Gradescope's autograder only)
    [[checks]]   points, and each kind's own keys (declared the same way in grader/checks.py)

Each key is a dataclass field made with ``setting()``: its type, its range and one line saying
what it does. ``from_table`` reads a parsed TOML table through those declarations, so every
mistake gets the same kind of message ("limits.memory_mb must be a whole number above 0, not 0."),
a misspelt key gets a "did you mean" hint, and a test holds the guide's tables (docs/) to them. The
assignment loader and the runner both read these classes, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, TypeVar

from grader.backends import BACKENDS, DEFAULT

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

MB = 1 << 20
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
TRAINERS = ("grader", "submission")
DEFAULT_SEED = 42
MAX_SEEDS = 10

Settings = TypeVar("Settings", bound="DataclassInstance")


class SettingsError(ValueError):
    """A table in an assignment file is wrong; the message names the key."""


@dataclass(frozen=True)
class Rule:
    """What one key accepts: a type (``int``, ``float``, ``str``, ``bool`` or ``tuple`` of whole
    numbers), a range, choices, and the words a message uses for it."""

    kind: type
    doc: str
    minimum: float | None = None  # inclusive bounds
    maximum: float | None = None
    above: float | None = None  # exclusive bounds
    below: float | None = None
    choices: tuple[str, ...] = ()
    length: tuple[int, int] = (1, 64)  # for lists: fewest and most items
    distinct: bool = False
    words: str = ""  # overrides the generated description

    def describe(self) -> str:
        """The rule as a message says it: "a whole number of at least 1"."""
        if self.words:
            return self.words
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        noun = {int: "a whole number", float: "a number", str: "text"}.get(self.kind, "")
        if self.kind is tuple:
            least, most = self.length
            noun = f"a list of {least} to {most} {'different ' if self.distinct else ''}whole numbers"
        return f"{noun}{self._range()}"

    def _range(self) -> str:
        low = f"above {self.above:g}" if self.above is not None else ""
        if self.minimum is not None:
            low = f"from {self.minimum:g}" if self.maximum is not None else f"of at least {self.minimum:g}"
        high = ""
        if self.maximum is not None:
            high = f"to {self.maximum:g}" if self.minimum is not None else f"at most {self.maximum:g}"
        elif self.below is not None:
            high = f"below {self.below:g}"
        if low and high and not low.startswith("from"):
            return f" {low} and {high}"
        return " " + " ".join(part for part in (low, high) if part) if low or high else ""

    def accepts(self, value: Any) -> Any:
        """``value`` as the setting holds it (ints become floats for a float key, lists tuples);
        raises ``ValueError`` when the rule refuses it."""
        if self.kind is tuple:
            least, most = self.length
            if not isinstance(value, list | tuple) or not least <= len(value) <= most:
                raise ValueError
            items = tuple(self._number(item, int) for item in value)
            if self.distinct and len(set(items)) != len(items):
                raise ValueError
            return items
        if self.kind is bool or self.kind is str:
            if type(value) is not self.kind or (self.choices and value not in self.choices):
                raise ValueError
            return value
        return self._number(value, self.kind)

    def _number(self, value: Any, kind: type) -> Any:
        if isinstance(value, bool) or not isinstance(value, int if kind is int else int | float):
            raise ValueError
        if (
            (self.minimum is not None and value < self.minimum)
            or (self.maximum is not None and value > self.maximum)
            or (self.above is not None and value <= self.above)
            or (self.below is not None and value >= self.below)
        ):
            raise ValueError
        return kind(value)


def setting(default: Any = MISSING, *, kind: type, doc: str, **rule: Any) -> Any:
    """A dataclass field that an assignment file may set; without ``default`` it is required."""
    return field(default=default, metadata={"rule": Rule(kind, doc, **rule)})


def rules(cls: type) -> dict[str, Rule]:
    """The keys ``cls`` declares with ``setting()``, in order, with their rules."""
    return {item.name: item.metadata["rule"] for item in fields(cls) if "rule" in item.metadata}


def defaults(cls: type) -> dict[str, Any]:
    """Each declared key's default (required keys left out)."""
    return {
        item.name: item.default
        for item in fields(cls)
        if "rule" in item.metadata and item.default is not MISSING
    }


def refuse_unknown(table: Mapping[str, Any], allowed: list[str] | tuple[str, ...], prefix: str = "") -> None:
    """Refuse the first key of ``table`` not in ``allowed``, suggesting the closest one."""
    for key in table:
        if key not in allowed:
            close = get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else f"; allowed: {', '.join(allowed)}"
            raise SettingsError(f"unknown key {prefix}{key}{hint}.")


def from_table(
    cls: type[Settings], table: Any, *, prefix: str = "", given: Mapping[str, Any] | None = None
) -> Settings:
    """``cls`` built from a parsed TOML ``table`` through its declared rules; ``given`` supplies
    defaults that depend on other tables (a target's seeds default to the training seed)."""
    if not isinstance(table, Mapping):
        raise SettingsError(f"[{prefix.rstrip('.')}] must be a table.")
    declared = rules(cls)
    refuse_unknown(table, list(declared), prefix)
    values: dict[str, Any] = {}
    required = {item.name for item in fields(cls) if item.default is MISSING and "rule" in item.metadata}
    for key, rule in declared.items():
        if key in table:
            try:
                values[key] = rule.accepts(table[key])
            except ValueError:
                raise SettingsError(f"{prefix}{key} must be {rule.describe()}, not {table[key]!r}.") from None
        elif given and key in given:
            values[key] = given[key]
        elif key in required:
            raise SettingsError(f"{prefix}{key} is required: {rule.describe()}.")
    return cls(**values)  # a rule across keys is the class's own (__post_init__ raises SettingsError)


@dataclass(frozen=True)
class Training:
    """How every run trains, the reference's calibration included."""

    max_epochs: int = setting(
        kind=int, minimum=1, doc="caps the epochs of the submission and the reference alike"
    )
    time_limit_s: float = setting(kind=float, above=0, doc="training is stopped past this many seconds")
    seed: int = setting(DEFAULT_SEED, kind=int, doc="Keras's random seed for every run")
    precision: str = setting(
        "float32", kind=str, choices=PRECISIONS, doc="Keras's dtype policy for every layer built"
    )
    cores: int = setting(
        1, kind=int, minimum=1, doc="CPU cores each grade trains on, whatever --jobs is (one thread per core)"
    )
    backend: str = setting(
        DEFAULT,
        kind=str,
        choices=BACKENDS,
        doc="the Keras backend every run trains on (Keras 3 for jax and torch)",
    )
    trainer: str = setting(
        "grader",
        kind=str,
        choices=TRAINERS,
        doc="who trains: the grader (it rebuilds the declared model with fresh weights and trains it "
        "where no submission code runs; built-in Keras only), or the submission's own code (custom "
        "code allowed; what it hands over is its word)",
    )


@dataclass(frozen=True)
class Limits:
    """Resource and wall-time limits for every child; the defaults suit the tutorial models."""

    memory_mb: int = setting(
        4096, kind=int, above=0, doc="resident memory of all the child's processes together"
    )
    gpu_memory_mb: int = setting(
        1024, kind=int, above=0, doc="GPU memory each of its processes may use, where it trains on a GPU"
    )
    processes: int = setting(32, kind=int, above=0, doc="processes alive at once (threads not counted)")
    cpu_s: int = setting(3600, kind=int, above=0, doc="CPU time of any one child process in one grade")
    file_mb: int = setting(
        1024, kind=int, above=0, doc="size of any one file it writes, and of the saved model"
    )
    disk_mb: int = setting(4096, kind=int, above=0, doc="all it writes to disk, stopped while it writes")
    output_mb: int = setting(16, kind=int, above=0, doc="what it prints")
    startup_s: float = setting(
        180.0, kind=float, above=0, doc="wall time to start Python, Keras and its backend"
    )
    build_s: float = setting(180.0, kind=float, above=0, doc="wall time for build_model()")
    predict_s: float = setting(300.0, kind=float, above=0, doc="wall time to predict on the test images")


@dataclass(frozen=True)
class Target:
    """Time to accuracy: train until ``accuracy`` on the held-out ``validation_fraction``, once per seed."""

    accuracy: float = setting(
        kind=float,
        above=0,
        maximum=1,
        words="a fraction above 0 and at most 1 (0.97 for 97%)",
        doc="the accuracy to reach on the held-out split",
    )
    validation_fraction: float = setting(
        0.1,
        kind=float,
        above=0,
        below=0.5,
        words="a fraction above 0 and below 0.5",
        doc="the part of the training data held out to measure it, the same images for every run",
    )
    seeds: tuple[int, ...] = setting(
        (DEFAULT_SEED,),
        kind=tuple,
        length=(1, MAX_SEEDS),
        distinct=True,
        doc="one training run per seed (default: the training seed)",
    )


@dataclass(frozen=True)
class Submissions:
    """How many submissions Gradescope's autograder grades, and which one counts."""

    per_day: int | None = setting(
        None, kind=int, minimum=1, doc="graded at most this many in any 24 hours (default: no limit)"
    )
    counts: str = setting(
        "last", kind=str, choices=("last", "best"), doc="whose score stands: the last graded, or the best"
    )
