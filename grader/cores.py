"""Which cores a grade trains on: always ``training.cores`` of them, whatever ``--jobs`` is.

A grade's figures depend on how many cores it trains on (TensorFlow's float sums follow its
thread count, and a batch-128 model gains more from a second core than a batch-32 one), so
the count is part of the assignment, not of the schedule. A class deals the machine's cores out
into shares of that size, one per grade at a time; every child of a grade is pinned to its
share, and the watchdog stops one that widens its affinity onto another grade's cores.
"""

from __future__ import annotations

import os


class CoresError(ValueError):
    """The machine has fewer cores than the assignment's ``training.cores``."""


def available_cores() -> list[int]:
    """The cores this process may run on."""
    return sorted(os.sched_getaffinity(0))


def grade_cores(count: int, given: frozenset[int] | None = None) -> frozenset[int]:
    """``count`` cores for one grade, from ``given`` (a class's share) or from all available."""
    cores = sorted(given) if given is not None else available_cores()
    if len(cores) < count:
        plural = "s are" if len(cores) != 1 else " is"
        raise CoresError(
            f"training.cores is {count}, but only {len(cores)} core{plural} available to this grade."
        )
    return frozenset(cores[:count])


def cpu_shares(jobs: int, cores: int = 1) -> list[frozenset[int]]:
    """One share of ``cores`` cores per grade running at once; at most as many as the machine holds."""
    found = available_cores()
    if len(found) < cores:
        grade_cores(cores)  # raises, saying how many there are
    jobs = max(1, min(jobs, len(found) // cores))
    return [frozenset(found[i * cores : (i + 1) * cores]) for i in range(jobs)]
