"""Watch a child's whole process tree for memory, process count and output size.

The kernel cannot enforce these for us everywhere: ``RLIMIT_AS`` breaks TensorFlow (it reserves
far more address space than it uses), and ``RLIMIT_NPROC`` does not bind root, which is what a
sandboxed child is outside its namespace. So the grader polls ``/proc`` on its own clock, keeps
the peaks, and stops the child the moment one limit is passed, saying which.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from grader.runner.limits import MB, Limits

POLL_S = 0.1
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
HELPERS = frozenset({b"bwrap"})  # the sandbox's own processes are not the submission's


@dataclass(frozen=True)
class Usage:
    """What a process tree holds at one instant."""

    memory_bytes: int = 0
    processes: int = 0


def usage(root: int) -> Usage:
    """Resident memory and live processes of ``root`` and all its descendants (sandbox helpers aside)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[bytes, bytes, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                raw = stat.read()
        except OSError:
            continue  # it ended while we looked
        head, _, tail = raw.rpartition(b")")
        fields = tail.split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        stats[pid] = (head.partition(b"(")[2], fields[0], int(fields[21]))
    memory = processes = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        if pid in stats:
            name, state, rss = stats[pid]
            memory += rss * PAGE_BYTES
            processes += name not in HELPERS and state != b"Z"
        pending.extend(children.get(pid, ()))
    return Usage(memory, processes)


class Watchdog:
    """Polls one child's tree until stopped; calls ``on_trip`` once when a limit is passed."""

    def __init__(self, pid: int, limits: Limits, output_fd: int, on_trip: Callable[[], None]) -> None:
        self.pid = pid
        self.limits = limits
        self.output_fd = output_fd
        self.on_trip = on_trip
        self.tripped: str | None = None  # why it stopped the child, for the student
        self.tripped_limit = ""  # the assignment key of that limit
        self.peak = Usage()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"watchdog-{pid}", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            if self.poll():
                return

    def poll(self) -> bool:
        """Look at the tree once now, stopping the child if it is past a limit; True once tripped.

        The supervisor also calls this when the child reports a failure, so a limit passed just
        before (a swarm started, then an exception) is named rather than lost between two polls.
        """
        if self.tripped:
            return True
        now = usage(self.pid)
        self.peak = Usage(
            max(self.peak.memory_bytes, now.memory_bytes), max(self.peak.processes, now.processes)
        )
        found = self.check(now)
        if found:
            self.tripped_limit, self.tripped = found
            self.on_trip()
        return found is not None

    def check(self, now: Usage) -> tuple[str, str] | None:
        """The assignment key of the limit the child has passed and why it must stop (naming the
        limit and its value); None while it is within them."""
        limits = self.limits
        if now.memory_bytes > limits.memory_mb * MB:
            used = f"used {now.memory_bytes / MB:,.0f} MB of memory"
            return "limits.memory_mb", f"{used}; the limit is {limits.memory_mb:,} MB (limits.memory_mb)"
        if now.processes > limits.processes:
            ran = f"ran {now.processes} processes at once"
            return "limits.processes", f"{ran}; the limit is {limits.processes} (limits.processes)"
        try:
            printed = os.fstat(self.output_fd).st_size
        except OSError:
            printed = 0
        if printed > limits.output_mb * MB:
            said = f"printed {printed / MB:,.0f} MB of output"
            return "limits.output_mb", f"{said}; the limit is {limits.output_mb:,} MB (limits.output_mb)"
        return None
