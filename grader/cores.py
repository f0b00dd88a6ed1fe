"""Which cores a grade trains on: always ``training.cores`` of them, whatever ``--jobs`` is.

A grade's figures depend on how many cores it trains on (TensorFlow's float sums follow its
thread count, and a batch-128 model gains more from a second core than a batch-32 one), so
the count is part of the assignment, not of the schedule. A class deals the machine's cores out
into shares of that size, one per grade at a time; every child of a grade is pinned to its
share, and the watchdog stops one that widens its affinity onto another grade's cores. Graders
started separately on one machine (two terminals, parallel test workers) each hold their cores
with a lock file, so they spread over the machine instead of piling onto its first core.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from grader.runner.files import own_folder
from grader.runner.sandbox import SandboxError
from grader.runner.supervisor import Cancellation

WAIT_S = 0.2
LOCKS = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"grader-{os.getuid()}-cores"


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


def cpu_shares(jobs: int, cores: int = 1, *, packed: bool = False) -> list[frozenset[int]]:
    """One share of ``cores`` cores per grade running at once. On the CPU, at most as many as the
    machine holds: a grade trains on its cores alone. ``packed`` (the grades train on a GPU, and
    their cores mostly wait on it) deals all ``jobs`` out, several grades to a share in turn."""
    found = available_cores()
    if len(found) < cores:
        grade_cores(cores)  # raises, saying how many there are
    blocks = [frozenset(found[i * cores : (i + 1) * cores]) for i in range(len(found) // cores)]
    jobs = max(1, jobs if packed else min(jobs, len(blocks)))
    return [blocks[i % len(blocks)] for i in range(jobs)]


@contextlib.contextmanager
def held_cores(
    count: int,
    given: frozenset[int] | None,
    *,
    cancellation: Cancellation | None = None,
    locks: Path = LOCKS,
) -> Iterator[frozenset[int]]:
    """``count`` cores from ``given`` (or all available) that no other grade on this machine holds,
    held until the block ends; waits while every group of them is held elsewhere (raising
    ``Cancelled`` if ``cancellation`` interrupts the wait)."""
    cores = sorted(given) if given is not None else available_cores()
    grade_cores(count, given)  # enough of them, or say how many there are
    groups = [frozenset(cores[i : i + count]) for i in range(0, len(cores) - count + 1, count)]
    _check_folder(locks)
    while True:
        for group in groups:
            with contextlib.ExitStack() as held:
                if not all(_take(core, held, locks) for core in sorted(group)):
                    continue
                yield group
                return
        (cancellation or Cancellation()).pause(WAIT_S)


def _check_folder(locks: Path) -> None:
    if not own_folder(locks):
        raise SandboxError(
            f"{locks} holds the locks on which cores each grade trains on, and must be a folder only "
            f"this user ({os.geteuid()}) can change; it is not (another user may have made it). "
            "Remove it, or set XDG_RUNTIME_DIR to a private folder."
        )


def _take(core: int, held: contextlib.ExitStack, locks: Path) -> bool:
    """Lock ``core`` for as long as ``held`` lasts, unless another grade holds it."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    handle = os.fdopen(os.open(locks / f"core-{core}.lock", flags, 0o600), "r+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return False
    held.enter_context(handle)
    return True


class Lent:
    """Cores no grade holds, lent to one grade's children while they start Python and Keras.

    A grade trains on its own cores, but starting its children (a Keras import each, several
    seconds of CPU) need not wait in line on them while others stand idle: a grade alone on the
    machine takes every core it finds free, its children start on them, and each child moves onto
    the grade's own cores before it says it is ready, before any backend thread pool exists, so
    the threads a grade trains with and its figures are the same either way. The locks go back as
    soon as the last child that borrowed them is ready, so a grade started meanwhile waits seconds
    at most, and training never shares a core."""

    def __init__(self, own: frozenset[int], *, locks: Path = LOCKS) -> None:
        self._held = contextlib.ExitStack()
        self._users = 0
        self._lock = threading.Lock()
        _check_folder(locks)
        free = [core for core in available_cores() if core not in own and _take(core, self._held, locks)]
        self.cores = frozenset(free)

    def borrow(self) -> frozenset[int]:
        """The cores a child may also start on (none once they have gone back)."""
        with self._lock:
            if not self.cores:
                return frozenset()
            self._users += 1
            return self.cores

    def give_back(self) -> None:
        """One borrowing child is on its own cores now; the last one returns the locks."""
        with self._lock:
            self._users -= 1
            if self._users <= 0:
                self.release()

    def release(self) -> None:
        self.cores = frozenset()
        self._held.close()

    def __enter__(self) -> Lent:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.release()
