"""The compatibility table: checks as rows, TensorFlow versions (and Keras 3 backends) as columns, a mark and a reason
per cell; rendered for the terminal (rich), as JSON and as Markdown for a course page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

from grader.backends import TITLES

Mark = Literal["passed", "failed", "not run", "warning", "info", "error"]
SYMBOLS: dict[str, str] = {
    "passed": "✓",
    "failed": "✗",
    "not run": "–",
    "warning": "⚠",
    "info": "·",
    "error": "✗",
}
COLOURS = {
    "passed": "green",
    "failed": "red",
    "not run": "yellow",
    "warning": "yellow",
    "info": "",
    "error": "red",
}


@dataclass(frozen=True)
class Cell:
    """One check on one version: its mark, a short figure (points, a value) and why it failed."""

    mark: Mark
    text: str = ""
    reason: str = ""

    def line(self) -> str:
        parts = [SYMBOLS[self.mark], self.text]
        line = " ".join(part for part in parts if part)
        return f"{line}: {self.reason}" if self.reason else line


@dataclass(frozen=True)
class Column:
    """One TensorFlow version, or Keras 3 on another backend, as it was installed and graded."""

    version: str  # the column as asked for: a TensorFlow version ("2.15") or a backend ("jax")
    tensorflow: str = ""
    keras: str = ""
    device: str = ""
    score: float | None = None
    possible: float | None = None
    error: str = ""  # the grader could not grade on this version at all
    backend: str = "tensorflow"
    backend_version: str = ""

    def heading(self) -> str:
        keras = f" · Keras {self.keras}" if self.keras else ""
        if self.backend != "tensorflow":
            return f"{TITLES.get(self.backend, self.backend)} {self.backend_version or ''}".rstrip() + keras
        return f"TF {self.tensorflow or self.version}{keras}"

    @property
    def name(self) -> str:
        """The column in a sentence: "TF 2.15" or "JAX"."""
        return (
            f"TF {self.version}" if self.backend == "tensorflow" else TITLES.get(self.backend, self.backend)
        )

    def total(self) -> str:
        if self.error:
            return "✗ error"
        if self.score is None or self.possible is None:
            return ""
        return f"{self.score:g} / {self.possible:g}"


@dataclass
class CompatTable:
    """What ``grader compat`` found for one subject across the matrix."""

    subject: str
    title: str
    columns: list[Column] = field(default_factory=list)
    rows: dict[str, dict[str, Cell]] = field(default_factory=dict)  # row -> version -> cell

    def add(self, row: str, version: str, cell: Cell) -> None:
        self.rows.setdefault(row, {})[version] = cell

    def cell(self, row: str, version: str) -> Cell | None:
        return self.rows.get(row, {}).get(version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "title": self.title,
            "columns": [asdict(column) for column in self.columns],
            "rows": [
                {"check": row, "cells": {version: asdict(cell) for version, cell in cells.items()}}
                for row, cells in self.rows.items()
            ],
        }

    def to_markdown(self) -> str:
        head = ["Check", *(column.heading() for column in self.columns)]
        lines = [f"## {self.title}", "", f"`{self.subject}`", ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.rows:
            cells = [_md(self.cell(row, column.version)) for column in self.columns]
            lines.append(f"| {row} | " + " | ".join(cells) + " |")
        if any(column.total() for column in self.columns):
            lines.append("| **Score** | " + " | ".join(f"**{c.total()}**" for c in self.columns) + " |")
        lines += [
            "",
            "Devices: " + "; ".join(f"{c.name} on {c.device or 'unknown'}" for c in self.columns),
        ]
        errors = [f"{c.name}: {c.error}" for c in self.columns if c.error]
        if errors:
            lines += ["", "Could not grade: " + "; ".join(errors)]
        return "\n".join(lines) + "\n"

    def render(self, console: Console) -> None:
        table = Table(title=self.title, show_lines=True, expand=True)
        table.add_column("Check", no_wrap=True)
        for column in self.columns:
            table.add_column(column.heading(), ratio=1)
        for row in self.rows:
            table.add_row(row, *(_rich(self.cell(row, column.version)) for column in self.columns))
        if any(column.total() for column in self.columns):
            table.add_row(
                "[bold]Score[/bold]", *(f"[bold]{column.total()}[/bold]" for column in self.columns)
            )
        console.print(table)
        for column in self.columns:
            problem = f" [red]could not grade: {column.error}[/red]" if column.error else ""
            console.print(f"  {column.name}: {column.device or 'device unknown'}{problem}")


def _md(cell: Cell | None) -> str:
    return cell.line().replace("|", "\\|") if cell else ""


def _rich(cell: Cell | None) -> str:
    if cell is None:
        return ""
    colour = COLOURS[cell.mark]
    mark = f"[{colour}]{SYMBOLS[cell.mark]}[/{colour}]" if colour else SYMBOLS[cell.mark]
    text = f"{mark} {cell.text}".rstrip()
    return f"{text}\n[dim]{cell.reason}[/dim]" if cell.reason else text
