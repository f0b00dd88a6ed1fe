"""Watch a child's whole process tree: memory, processes, output, disk writes and its cores.

The kernel cannot enforce these for us everywhere: ``RLIMIT_AS`` breaks TensorFlow (it reserves
far more address space than it uses), ``RLIMIT_NPROC`` does not bind root, which is what a
sandboxed child is outside its namespace, ``RLIMIT_FSIZE`` limits one file but not their total,
and a CPU affinity mask is a request any process may widen. So the grader polls ``/proc`` on its
own clock, keeps the peaks, and stops the child the moment one limit is passed, saying which.
The same walk gives the tree's CPU time, which the training clock (grader/timing.py) reads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from grader.settings import MB, Limits

POLL_S = 0.1
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
HELPERS = frozenset({b"bwrap"})  # the sandbox's own processes are not the submission's


@dataclass(frozen=True)
class Usage:
    """What a process tree holds, has used and has written at one instant."""

    memory_bytes: int = 0
    processes: int = 0
    cpu_seconds: float = 0.0  # of every process alive in it and every one it has reaped
    written_bytes: int = 0  # to disk, by the same count
    cores: frozenset[int] = frozenset()  # every core any of its processes may run on


def _table(
    uid: int | None = None,
) -> tuple[dict[int, list[int]], dict[int, tuple[bytes, bytes, int, int]], list[int]]:
    """Every process's children, and its name, state, resident pages and CPU ticks; and the
    processes running as ``uid``."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[bytes, bytes, int, int]] = {}
    owned: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                raw = stat.read()
            if uid is not None and entry.stat().st_uid == uid:
                owned.append(int(entry.name))
        except OSError:
            continue  # it ended while we looked
        head, _, tail = raw.rpartition(b")")
        fields = tail.split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        stats[pid] = (head.partition(b"(")[2], fields[0], int(fields[21]), ticks)
    return children, stats, owned


def _reach(root: int, children: dict[int, list[int]], owned: list[int]) -> list[int]:
    """``root``, the processes running as the child's own user (the fallback's: one that left the
    tree, in a session of its own and adopted by init, is still the child's), and their descendants."""
    found: dict[int, None] = {}
    pending = [root, *owned]
    while pending:
        pid = pending.pop()
        if pid not in found:
            found[pid] = None
            pending.extend(children.get(pid, ()))
    return list(found)


def tree(root: int, uid: int | None = None) -> list[int]:
    """``root`` and every process descended from it (or running as ``uid``), as they are now."""
    children, _, owned = _table(uid)
    return _reach(root, children, owned)


def _threads(pid: int | str) -> list[int]:
    """The threads of process ``pid`` ("self": this one); none if it has ended."""
    try:
        return [int(thread) for thread in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def pin_threads(cores: frozenset[int], pids: list[int] | None = None) -> None:
    """Every thread of ``pids`` (of this process where None) onto ``cores``. An affinity mask
    belongs to a thread, and one made later inherits its maker's, so a process that started on
    more cores moves onto fewer only when each of its threads does."""
    for pid in pids if pids is not None else ["self"]:
        for thread in _threads(pid):
            try:
                os.sched_setaffinity(thread, cores)
            except ProcessLookupError:
                continue  # it ended while we looked


def usage(root: int, uid: int | None = None, *, root_is_init: bool = False) -> Usage:
    """Resident memory, live processes (sandbox helpers aside), CPU time, bytes written to disk and
    allowed cores of ``root`` and all its descendants (and of every process running as ``uid``);
    with ``root_is_init``, ``root`` is the sandbox's reaper, not one of the submission's processes.
    A process's reaped children are counted in its own totals (``cutime``, ``/proc/PID/io``), so
    summing the live tree counts everything once."""
    children, stats, owned = _table(uid)
    memory = processes = ticks = written = 0
    cores: set[int] = set()
    for pid in _reach(root, children, owned):
        if pid in stats:
            name, state, rss, used = stats[pid]
            memory += rss * PAGE_BYTES
            ticks += used
            processes += name not in HELPERS and state != b"Z" and not (root_is_init and pid == root)
            if state != b"Z":
                written += _written(pid)
                cores |= _allowed_cores(pid)
    return Usage(memory, processes, ticks / TICKS, written, frozenset(cores))


def _written(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/io", "rb") as io:
            for line in io:
                if line.startswith(b"write_bytes:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _allowed_cores(pid: int) -> set[int]:
    """The cores any thread of ``pid`` may run on: a mask belongs to a thread, and a thread may
    widen its own, so the main thread's alone (``/proc/PID/status``) would not see it."""
    cores: set[int] = set()
    for thread in _threads(pid):
        try:
            cores |= os.sched_getaffinity(thread)
        except OSError:
            continue  # it ended while we looked
    return cores


class Watchdog:
    """Polls one child's tree until stopped; calls ``on_trip`` once when a limit is passed.
    ``cores`` are the cores the child was pinned to; widening its affinity beyond them trips too.
    ``uid`` is the fallback's user for this child: its every process counts, in the tree or not."""

    def __init__(
        self,
        pid: int,
        limits: Limits,
        output_fd: int,
        on_trip: Callable[[], None],
        cores: frozenset[int] | None = None,
        uid: int | None = None,
        root_is_init: bool = False,
    ) -> None:
        self.pid = pid
        self.uid = uid
        self.root_is_init = root_is_init  # a forked builder's PID 1 (grader/runner/zygote.py)
        self.limits = limits
        self.output_fd = output_fd
        self.on_trip = on_trip
        self.cores = cores
        self.tripped: str | None = None  # why it stopped the child, for the student
        self.tripped_limit = ""  # the assignment key of that limit
        self.peak = Usage()
        self.last = Usage()
        self.base = Usage()  # the tree's totals when its current grade began (a kept child serves several)
        self.fresh_memory_bytes: int | None = None  # a kept child's memory when it was new and idle
        self.left_over_bytes = 0  # memory its earlier grades left it holding (not this grade's)
        self._stop = threading.Event()
        self._watching = threading.Event()  # cleared while a kept child waits, idle, for its next grade
        self._watching.set()
        self._thread = threading.Thread(target=self._watch, name=f"watchdog-{pid}", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def pause(self) -> None:
        """Stop looking until ``resume``: for a kept child between grades, which runs no submission
        code and waits for a command, so there is nothing to catch; each look reads all of /proc,
        and a class keeps several such children per core."""
        self._watching.clear()

    def resume(self) -> None:
        """Look again, counting from now (``rebase``)."""
        self.rebase()
        self._watching.set()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            if self._watching.is_set() and self.poll():
                return

    def usage_now(self) -> Usage:
        return usage(self.pid, self.uid, root_is_init=self.root_is_init)

    def rebase(self) -> None:
        """Count from now: a kept child's next grade is held to the limits on its own use alone
        (CPU time, disk writes, and memory less what earlier grades left it holding, which
        ``WarmChildren`` keeps small), and its peaks are its own."""
        self.base = usage(self.pid, self.uid, root_is_init=self.root_is_init)
        self.peak = Usage()
        fresh = self.fresh_memory_bytes
        self.left_over_bytes = max(0, self.base.memory_bytes - fresh) if fresh is not None else 0

    @property
    def peak_memory_bytes(self) -> int:
        """The most memory the tree held in this grade, less what earlier grades left it holding."""
        return max(0, self.peak.memory_bytes - self.left_over_bytes)

    def poll(self) -> bool:
        """Look at the tree once now, stopping the child if it is past a limit; True once tripped.

        The supervisor also calls this when the child reports a failure, so a limit passed just
        before (a swarm started, then an exception) is named rather than lost between two polls.
        """
        if self.tripped:
            return True
        now = usage(self.pid, self.uid, root_is_init=self.root_is_init)
        if now.processes:
            self.last = now
        self.peak = Usage(
            max(self.peak.memory_bytes, now.memory_bytes),
            max(self.peak.processes, now.processes),
            max(self.peak.cpu_seconds, now.cpu_seconds),
            max(self.peak.written_bytes, now.written_bytes),
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
        memory = now.memory_bytes - self.left_over_bytes
        if memory > limits.memory_mb * MB:
            used = f"used {memory / MB:,.0f} MB of memory"
            return "limits.memory_mb", f"{used}; the limit is {limits.memory_mb:,} MB (limits.memory_mb)"
        if now.processes > limits.processes:
            ran = f"ran {now.processes} processes at once"
            return "limits.processes", f"{ran}; the limit is {limits.processes} (limits.processes)"
        cpu = now.cpu_seconds - self.base.cpu_seconds
        if cpu > limits.cpu_s:  # the kernel's limit counts from a child's start, this from its grade's
            spent = f"used {cpu:,.0f} s of CPU time"
            return "limits.cpu_s", f"{spent}; the limit is {limits.cpu_s:,} s (limits.cpu_s)"
        written = now.written_bytes - self.base.written_bytes
        if written > limits.disk_mb * MB:
            wrote = f"wrote {written / MB:,.0f} MB to disk"
            return "limits.disk_mb", f"{wrote}; the limit is {limits.disk_mb:,} MB in all (limits.disk_mb)"
        if self.cores is not None and now.cores - self.cores:
            return "training.cores", (
                f"moved onto cores it was not given ({_cores(now.cores)}; it runs on {_cores(self.cores)}), "
                "which would take them from other grades (training.cores)"
            )
        try:
            printed = os.fstat(self.output_fd).st_size
        except OSError:
            printed = 0
        if printed > limits.output_mb * MB:
            said = f"printed {printed / MB:,.0f} MB of output"
            return "limits.output_mb", f"{said}; the limit is {limits.output_mb:,} MB (limits.output_mb)"
        return None


def _cores(cores: frozenset[int]) -> str:
    return ", ".join(str(core) for core in sorted(cores))
