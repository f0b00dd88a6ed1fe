"""The limits every runner child lives under, from an assignment's ``[limits]`` table.

    [limits]
    memory_mb = 4096     # resident memory of all the child's processes together
    processes = 32       # processes alive at once (threads not counted)
    cpu_s = 3600         # CPU time of any one process
    file_mb = 1024       # size of any one file it writes
    output_mb = 16       # what it prints
    startup_s = 180      # wall time to start Python and TensorFlow
    build_s = 180        # wall time for build_model()
    predict_s = 300      # wall time to predict on the test images

Training's wall time is ``[training] time_limit_s``. Every limit that trips names itself and
its value in the student's message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

MB = 1 << 20


class LimitsError(ValueError):
    """A ``[limits]`` table is wrong; the message names the key."""


@dataclass(frozen=True)
class Limits:
    """Resource and wall-time limits for one child; the defaults suit the tutorial models."""

    memory_mb: int = 4096
    processes: int = 32
    cpu_s: int = 3600
    file_mb: int = 1024
    output_mb: int = 16
    startup_s: float = 180.0
    build_s: float = 180.0
    predict_s: float = 300.0

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> Limits:
        """Validate a parsed ``[limits]`` table; missing keys keep their defaults."""
        known = {field.name: field for field in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in known:
                raise LimitsError(f"unknown key limits.{key}; allowed: {', '.join(known)}.")
            whole = known[key].type == "int"
            if isinstance(value, bool) or not isinstance(value, int if whole else int | float) or value <= 0:
                kind = "a whole number" if whole else "a number"
                raise LimitsError(f"limits.{key} must be {kind} above 0, not {value!r}.")
            values[key] = value if whole else float(value)
        return cls(**values)
