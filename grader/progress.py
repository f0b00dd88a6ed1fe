"""A rich progress display for Keras training: one bar per epoch with its ETA, a line per epoch."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def format_logs(logs: dict[str, Any]) -> str:
    return "  ".join(f"{key} {value:.4f}" for key, value in logs.items() if isinstance(value, int | float))


def training_bar(console: Console) -> Progress:
    """The bar both progress displays draw: description, steps, metrics, elapsed time and ETA."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def rich_progress(console: Console | None = None) -> Any:
    """A Keras callback that draws training progress with rich (Keras is imported here, lazily)."""
    import keras

    class RichProgress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.console = console or Console()
            self.progress = training_bar(self.console)
            self.task: Any = None

        def on_train_begin(self, logs: dict | None = None) -> None:
            self.progress.start()

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            total = self.params.get("steps") or None
            description = f"epoch {epoch + 1}/{self.params.get('epochs', '?')}"
            self.task = self.progress.add_task(description, total=total, metrics="")

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            metrics = f"loss {logs['loss']:.4f}" if logs and "loss" in logs else ""
            self.progress.update(self.task, completed=batch + 1, metrics=metrics)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            elapsed = self.progress.tasks[-1].elapsed or 0.0
            self.progress.remove_task(self.task)
            self.console.print(f"epoch {epoch + 1:>3}  {elapsed:6.1f} s  {format_logs(logs or {})}")

        def on_train_end(self, logs: dict | None = None) -> None:
            self.progress.stop()

    return RichProgress()
