"""The leaderboard's images: accuracy against parameter count, and training-loss curves.
Drawn with matplotlib's Agg backend into PNG files the page embeds by relative path."""

from __future__ import annotations

import math
from pathlib import Path

from grader.leaderboard.board import Board

MAX_CURVES = 12  # the best-ranked students' curves; more would be unreadable


def _label(name: str) -> str:
    """A display name as matplotlib text: a '$' would start its mathematical notation."""
    return _literal(name[:24])


def _literal(text: str) -> str:
    return text.replace("$", r"\$")


def file_stem(assignment: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in assignment)


def draw(board: Board, folder: Path) -> dict[str, str]:
    """Draw ``board``'s plots into ``folder``; returns {caption: file name}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, str] = {}
    measure = "private" if board.phase == "final" else "public"
    scored = [e for e in board.entries if e.accuracy is not None and e.parameters]
    if scored:
        figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
        for baseline in (False, True):
            group = [e for e in scored if e.baseline == baseline]
            axes.scatter(
                [e.parameters or 0 for e in group],  # all set: scored entries have parameters
                [100 * (e.accuracy or 0) for e in group],
                marker="*" if baseline else "o",
                s=160 if baseline else 40,
                label="reference" if baseline else "submissions",
                color="tab:red" if baseline else "tab:blue",
            )
        for entry in scored:
            axes.annotate(
                _label(entry.name),
                (entry.parameters, 100 * (entry.accuracy or 0)),
                fontsize=7,
                xytext=(4, 3),
                textcoords="offset points",
            )
        axes.set_xscale("log")
        axes.set_xlabel("parameters (log scale)")
        axes.set_ylabel(f"{measure} test accuracy (%)")
        axes.set_title(_literal(board.title), fontsize=10)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
        name = f"{file_stem(board.slug)}-accuracy-vs-parameters.png"
        figure.tight_layout()
        figure.savefig(folder / name)
        plt.close(figure)
        drawn[f"{measure.capitalize()} test accuracy against parameter count"] = name
    curves = [e for e in board.entries if len(e.history) > 0 and "loss" in e.history[0]][:MAX_CURVES]
    if curves:
        figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
        for entry in curves:
            losses = [epoch.get("loss", math.nan) for epoch in entry.history]  # a gap where one is missing
            axes.plot(range(1, len(losses) + 1), losses, marker="o", markersize=3, label=_label(entry.name))
        axes.set_xlabel("epoch")
        axes.set_ylabel("training loss (as the training process reported it)")
        axes.set_title(_literal(board.title), fontsize=10)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, ncol=2)
        name = f"{file_stem(board.slug)}-training-curves.png"
        figure.tight_layout()
        figure.savefig(folder / name)
        plt.close(figure)
        drawn["Training loss per epoch"] = name
    return drawn
