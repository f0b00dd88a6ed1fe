"""The terminal report: one row per check with points and a message for the student, the
environment the grade ran in, where the time went, and a live progress bar while a child trains.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.backends import describe as describe_backend
from grader.progress import training_bar
from grader.results import SAID_TITLE, SAID_WARNING, Grade, Moment

MARKS = {
    "passed": "[green]✓ passed[/green]",
    "failed": "[red]✗ failed[/red]",
    "not run": "[yellow]– not run[/yellow]",
}
PHASES = (
    ("startup", "Python and Keras start-up"),
    ("build", "build"),
    ("rebuild", "rebuild by the grader"),
    ("train", "training"),
    ("predict", "evaluation"),
    ("calibration", "reference calibration"),
)
REPORT_WIDTH = 100
WIDE = 100  # from here on the checks are a table with a column for their details


def describe_environment(environment: dict[str, Any]) -> str:
    parts = [
        describe_backend(environment),
        f"Python {environment.get('python', '?')}",
        environment.get("device") or ("GPU" if "GPU" in environment.get("devices", ()) else "CPU"),
    ]
    if environment.get("precision", "float32") != "float32":
        parts.append(f"precision {environment['precision']}")
    if environment.get("peak_memory_mb"):
        parts.append(f"peak memory {environment['peak_memory_mb']:,} MB")
    if environment.get("data_source"):
        parts.append(f"data: {environment['data_source']}")
    return " · ".join(parts)


def describe_timings(timings: dict[str, float]) -> str:
    parts = [f"{words} {timings[key]:.1f} s" for key, words in PHASES if key in timings]
    if "total" in timings:
        parts.append(f"total {timings['total']:.1f} s")
    return " · ".join(parts)


WHEN_SHOWN = {
    "after_due_date": "shown to students after the due date",
    "after_published": "shown to students once grades are published",
    "hidden": "never shown to students",
}


def render_grade(grade: Grade, console: Console, *, moment: Moment | None = None) -> None:
    """The grade as a table. With ``moment``, only what a student sees then (``report.txt``);
    without, everything, each check a student does not see yet marked (the instructor's view).
    Below ``WIDE`` columns (a pipe, a CI log, Gradescope's console) each check's details go on
    the lines under it rather than into a narrow column."""
    checks = grade.checks if moment is None else grade.shown(moment)
    rows = [
        (
            Text(
                check.name
                + (f" ({when})" if (when := WHEN_SHOWN.get(check.visibility)) and moment is None else "")
            ),
            f"{check.score:g} / {check.max_score:g}",
            MARKS[check.status],
            Text(check.message),
        )
        for check in checks
    ]
    colour = "green" if grade.passed else "red"
    lines: list[Any] = [_wide(rows) if console.width >= WIDE else _narrow(rows)]
    if moment is not None and len(grade.shown(moment)) < len(grade.checks):
        lines.append(Text(grade.student_summary(moment)))
    if grade.problem:
        lines.append(Text(grade.problem, style="red"))
    lines.extend(Text(f"Note: {note}", style="yellow") for note in grade.notes)
    if grade.said:
        lines.append(
            Panel(Text("\n".join((SAID_WARNING, *grade.said_lines()))), title=SAID_TITLE, title_align="left")
        )
    if grade.log:
        lines.append(Panel(Text(grade.log), title="last lines your code printed", title_align="left"))
    if grade.trained_by:
        lines.append(Text(f"Trained by: {grade.trained_by}", style="dim"))
    lines.append(Text(f"Environment: {describe_environment(grade.environment)}", style="dim"))
    if grade.timings:
        lines.append(Text(f"Time: {describe_timings(grade.timings)}", style="dim"))
    console.print(
        Panel(
            Group(*lines),
            title=f"[bold]{escape(grade.display_name)}[/bold] — {escape(grade.title)}",
            subtitle=(
                f"[bold {colour}]{grade.score:g} / {grade.possible:g} points[/bold {colour}]"
                if moment is None or len(grade.shown(moment)) == len(grade.checks)
                else None
            ),
            title_align="left",
        )
    )


def _wide(rows: list[tuple[Text, str, str, Text]]) -> Table:
    table = Table(expand=True, show_lines=True)
    table.add_column("Check", no_wrap=True, max_width=32)
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    table.add_column("Details", ratio=1)
    for row in rows:
        table.add_row(*row)
    return table


def _narrow(rows: list[tuple[Text, str, str, Text]]) -> Group:
    """A line per check (result, name, points), its details indented beneath."""
    blocks: list[Any] = []
    for name, points, mark, details in rows:
        head = Table.grid(expand=True, padding=(0, 1))
        head.add_column(no_wrap=True, width=10)
        head.add_column(ratio=1)
        head.add_column(justify="right", no_wrap=True)
        head.add_row(mark, Text(name.plain, style="bold"), points)
        blocks += [head, Padding(details, (0, 0, 0, 11))]
    return Group(*blocks)


def report_text(grade: Grade) -> str:
    """The report as plain text for ``report.txt``: what the student sees before the due date."""
    console = Console(file=io.StringIO(), width=REPORT_WIDTH, no_color=True, highlight=False)
    render_grade(grade, console, moment="now")
    return console.file.getvalue()  # type: ignore[attr-defined]


class TrainingDisplay:
    """A progress bar with ETA fed by the runner's ``batch`` and ``epoch`` events."""

    def __init__(self, console: Console, label: str) -> None:
        self.console = console
        self.label = label
        self.progress = training_bar(console)
        self.task: Any = None
        self.epoch = 0

    def __enter__(self) -> TrainingDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: dict[str, Any]) -> None:
        epoch, epochs = _int(event.get("epoch")), _int(event.get("epochs"))
        if event.get("event") == "epoch":
            logs = event["logs"] if isinstance(event.get("logs"), dict) else {}
            metrics = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if isinstance(v, int | float))[:120]
            self.console.print(
                f"  {self.label} epoch {epoch}/{epochs}  {metrics}", highlight=False, markup=False
            )
            return
        steps = _int(event.get("steps")) or None
        if epoch != self.epoch or self.task is None:
            if self.task is not None:
                self.progress.remove_task(self.task)
            self.epoch = epoch
            self.task = self.progress.add_task(
                f"{self.label} epoch {epoch}/{epochs}", total=steps, metrics=""
            )
        loss = event.get("loss")
        self.progress.update(
            self.task,
            completed=_int(event.get("step")),
            metrics=f"loss {loss:.4f}" if isinstance(loss, int | float) else "",
        )


def _int(value: Any) -> int:
    return value if type(value) is int else 0
