"""Warm children: a class keeps the grader's trusted children started between grades.

A grade under ``trainer = "grader"`` starts three children: the builder (the submission's code),
the trainer and the pace-setter. The last two run no submission code, so they need not be new
for every student: a class keeps them, per core share, Keras imported and the pace-setter traced,
and lends them to one grade after another, while each submission's builder still starts fresh and
exits after building. This saves two of every grade's three Keras start-ups; the third, the
builder's, is forked from the class's zygote where it can be (grader/runner/zygote.py).

A kept child must grade exactly as a fresh one would. The trainer rebuilds every model after
``clear_session`` with the grade's seed, so its weights and accuracy are a fresh trainer's
(tests/test_warm.py compares them bit for bit); ``Runner.renew`` empties its scratch, its log and
the counts its limits are checked against, so a grade is held to its limits on its own use and
sees nothing of the grade before. A child is kept only if it is idle and well; it is replaced
after ``RECYCLE_AFTER`` grades, ``limits.cpu_s`` of CPU time or ``LEFT_OVER_MB`` more memory
than it held new, whichever comes first, and at most ``KEPT_PER_SHARE`` wait per core share
(the trainers of other seeds, for time to accuracy).
Submission code never runs in a kept child: ``lend`` refuses a builder.
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
import threading
from collections.abc import Hashable
from dataclasses import replace
from pathlib import Path

from grader.runner.sandbox import Sandbox
from grader.runner.supervisor import PhaseFailed, Runner, base_env
from grader.runner.zygote import Zygote, problem
from grader.settings import MB

RECYCLE_AFTER = 16  # grades a kept child serves before a fresh one takes its place
LEFT_OVER_MB = 512  # memory a kept child may hold beyond what it held new (the allocators' caches)
KEPT_PER_SHARE = 4  # idle children kept per core share: a trainer and a pace-setter, and two more seeds'


class WarmChildren:
    """Idle trusted children, by what they were started for; ``close`` stops them all."""

    def __init__(self) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="grader-warm-")
        self._idle: list[tuple[Hashable, Runner]] = []  # the longest idle first
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self.started = 0  # new children lent (each started when its grade first needs it)
        self.lent = 0  # grades served by a child kept from an earlier one
        self._zygotes: dict[str, Zygote] = {}

    def zygote(self, backend: str, sandbox: Sandbox) -> Zygote | None:
        """The class's zygote for ``backend``, to fork its builders from (grader/runner/zygote.py),
        or None where builders cannot be forked here; it starts with the first builder."""
        if problem(sandbox.kind) is not None:
            return None
        with self._lock:
            if backend not in self._zygotes:
                self._zygotes[backend] = Zygote(backend, base_env(backend))
            return self._zygotes[backend]

    def lend(self, runner: Runner) -> Runner:
        """A child configured as ``runner`` is (not started itself): an idle one kept from an earlier
        grade, renewed, or else a copy of ``runner`` in this pool's scratch, started when the grade
        first needs it (a grade that stops before training starts no pace-setter). The grade gives
        it back with ``Runner.done``."""
        if runner.subject.model_file is not None or runner.subject.reference is not None:
            raise ValueError("only children that run no submission code are kept warm")
        key = _key(runner)
        with self._lock:
            found = next((i for i in reversed(range(len(self._idle))) if self._idle[i][0] == key), None)
            kept = self._idle.pop(found)[1] if found is not None else None
            self.lent += kept is not None
            self.started += kept is None
        if kept is not None:
            kept.resume()
            return kept
        work = Path(self._scratch.name) / f"{next(self._numbers)}-{runner.work.name}"
        return replace(runner, work=work, kept=True, release=self._give_back, timings={}, ready={})

    def _give_back(self, runner: Runner) -> None:
        """Keep ``runner`` for the next grade if it is well, else stop it."""
        runner.grades += 1
        if runner.started and not runner.ready:  # started and never used (its grade ended early)
            with contextlib.suppress(PhaseFailed):
                runner.wait_ready()
        if not self._keeps(runner):
            runner.stop()
            return
        runner.renew()
        with self._lock:
            self._idle.append((_key(runner), runner))
            share = [entry for entry in self._idle if entry[1].cpus == runner.cpus]
            doomed = share[: max(0, len(share) - KEPT_PER_SHARE)]
            for entry in doomed:
                self._idle.remove(entry)
        for _, extra in doomed:
            extra.stop()

    @staticmethod
    def _keeps(runner: Runner) -> bool:
        """Idle and well, far from its kernel's CPU limit, and holding little more memory than when
        it was new: its next grade is held to the memory limit less what it holds beyond that, so
        a grade near the limit fares within ``LEFT_OVER_MB`` of how it would in a new child."""
        if runner.grades >= RECYCLE_AFTER or not runner.idle:
            return False
        now, fresh = runner.usage(), runner.fresh_memory_bytes
        return now.cpu_seconds < runner.limits.cpu_s and now.memory_bytes - fresh < LEFT_OVER_MB * MB

    def close(self) -> None:
        """Stop every idle child and remove their scratch (children still lent stop with their grade)."""
        with self._lock:
            idle = [runner for _, runner in self._idle]
            self._idle.clear()
        for runner in idle:
            runner.stop()
        for zygote in self._zygotes.values():
            zygote.close()
        self._scratch.cleanup()

    def __enter__(self) -> WarmChildren:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _key(runner: Runner) -> Hashable:
    """What a child was started with: a kept one serves only grades that would start it the same way."""
    return (
        runner.subject,
        runner.recipe,
        runner.training,
        runner.limits,
        runner.cpus,
        runner.target,
        runner.sandbox.describe(),
        runner.cancellation,
    )
