"""The live view of a class being graded: a row per submission in progress with its phase,
counts of the rest, and an overall bar with ETA. Finished submissions print one line each above
it, so a log of the run remains when the terminal is not interactive."""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from grader.batch.work import Outcome
from grader.progress import training_bar

MARKS = {"refused": "[yellow]–[/yellow]", "error": "[red]![/red]"}


class ClassView:
    """Thread-safe: workers call ``status``; the scheduling thread calls ``finished``."""

    def __init__(self, console: Console, *, to_grade: int, kept: int, where: str) -> None:
        self.console = console
        self.kept = kept
        self.where = where
        self._lock = threading.Lock()
        self._running: dict[str, tuple[str, float]] = {}
        self._done = 0
        self._queued = to_grade
        self.progress = training_bar(console)  # the same bar as training's: count, elapsed, ETA
        self._task = self.progress.add_task("class", total=to_grade, metrics="")
        self._live = Live(self, console=console, refresh_per_second=4, transient=True)

    def __enter__(self) -> ClassView:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def status(self, name: str, text: str) -> None:
        with self._lock:
            if name not in self._running:
                self._queued -= 1
            started = self._running.get(name, (text, time.monotonic()))[1]
            self._running[name] = (text, started)

    def finished(self, outcome: Outcome, line: str) -> None:
        with self._lock:
            if self._running.pop(outcome.name, None) is None:
                self._queued -= 1
            self._done += 1
        self.progress.advance(self._task)
        mark = MARKS.get(outcome.status) or (
            "[green]✓[/green]" if outcome.grade and outcome.grade.passed else "[red]✗[/red]"
        )
        self.console.print(mark, Text(line), highlight=False)

    def __rich__(self) -> Any:
        with self._lock:
            running = sorted(self._running.items())
            counts = f"{len(running)} grading {self.where} · {self._queued} queued · {self._done} done" + (
                f" · {self.kept} unchanged since the last run" if self.kept else ""
            )
        table = Table(box=None, show_header=bool(running), pad_edge=False)
        for column in ("submission", "doing", "for"):
            table.add_column(column)
        now = time.monotonic()
        for name, (text, started) in running:
            table.add_row(Text(name), Text(text), f"{now - started:.0f} s")
        return Group(table, counts, self.progress)
