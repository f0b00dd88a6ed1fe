"""The leaderboard site: ``index.html`` (sortable, offline: no script or style from elsewhere),
``leaderboard.json``, ``leaderboard.md`` and ``plots/*.png``."""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path

from grader.atomic import write_text_atomic
from grader.leaderboard.board import Board, Entry
from grader.leaderboard.plots import draw

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0; }}
th, td {{ padding: .35rem .6rem; border-bottom: 1px solid #ddd; text-align: right; }}
th:nth-child(2), td:nth-child(2) {{ text-align: left; }}
th {{ cursor: pointer; user-select: none; background: #f4f4f4; }}
th[aria-sort="ascending"]::after {{ content: " ▲"; }}
th[aria-sort="descending"]::after {{ content: " ▼"; }}
tr.baseline td {{ font-style: italic; color: #555; background: #fff8e6; }}
.phase {{ padding: .5rem .8rem; background: #eef4ff; border-left: 4px solid #3b6fd8; }}
figure {{ display: inline-block; margin: .5rem; }} img {{ max-width: 100%; border: 1px solid #ddd; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p class="phase">{phase}</p>
{sections}
<p><small>Generated {generated}. Ranked by test accuracy, then fewer parameters, then shorter
training. Click a column heading to sort by it.</small></p>
<script>
document.querySelectorAll("table.board").forEach(function (table) {{
  table.querySelectorAll("th").forEach(function (th, column) {{
    th.addEventListener("click", function () {{
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (other) {{ other.removeAttribute("aria-sort"); }});
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {{
        var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
        var nx = parseFloat(x), ny = parseFloat(y);
        var order = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
        if (x === "" && y !== "") return 1;
        if (y === "" && x !== "") return -1;
        return ascending ? order : -order;
      }});
      rows.forEach(function (row) {{ body.appendChild(row); }});
    }});
  }});
}});
</script>
</body>
</html>
"""


def write_site(
    boards: list[Board], out: Path, *, title: str, deadline: datetime | None, now: datetime
) -> Path:
    """Write the site for ``boards`` into ``out``; returns the path of ``index.html``."""
    out.mkdir(parents=True, exist_ok=True)
    plots = {board.slug: draw(board, out / "plots") for board in boards}
    phase = boards[0].phase if boards else "public"
    found = {
        "title": title,
        "phase": phase,
        "deadline": deadline.isoformat() if deadline else None,
        "generated": now.isoformat(timespec="seconds"),
        "boards": [board.to_dict() for board in boards],
    }
    write_text_atomic(out / "leaderboard.json", json.dumps(found, indent=2) + "\n")
    write_text_atomic(out / "leaderboard.md", _markdown(boards, title, _phase_text(phase, deadline)))
    page = PAGE.format(
        title=html.escape(title),
        phase=html.escape(_phase_text(phase, deadline)),
        sections="\n".join(_section(board, plots[board.slug]) for board in boards)
        or "<p>No graded submissions yet.</p>",
        generated=html.escape(now.isoformat(timespec="seconds")),
    )
    index = out / "index.html"
    write_text_atomic(index, page)
    return index


def _phase_text(phase: str, deadline: datetime | None) -> str:
    if phase == "final":
        return (
            f"Final standings: ranked on the private part of the test set (deadline "
            f"{deadline.isoformat() if deadline else ''} has passed); the public accuracy is shown beside it."
        )
    until = f" until the deadline, {deadline.isoformat()}" if deadline else ""
    return (
        f"Public leaderboard: accuracy on the public part of the test set (30% of it){until}. "
        "The private part decides the final ranking."
    )


def _columns(board: Board) -> list[str]:
    columns = ["Rank", "Name"]
    columns += ["Private accuracy", "Public accuracy"] if board.phase == "final" else ["Public accuracy"]
    return [*columns, "Parameters", "Training cost (x reference)", "Score"]


def _values(entry: Entry, board: Board) -> list[tuple[str, str]]:
    """(shown, sort value) per column."""

    def percent(value: float | None) -> tuple[str, str]:
        return ("—", "") if value is None else (f"{value:.2%}", f"{value:.6f}")

    rank = ("baseline", "") if entry.baseline else (str(entry.rank or "—"), str(entry.rank or ""))
    accuracies = (
        [percent(entry.private_accuracy), percent(entry.public_accuracy)]
        if board.phase == "final"
        else [percent(entry.public_accuracy)]
    )
    parameters = ("—", "") if entry.parameters is None else (f"{entry.parameters:,}", str(entry.parameters))
    cost = entry.train_cost
    noise = f" ±{entry.train_noise:.0%}" if entry.train_noise else ""
    seconds = ("—", "") if cost is None else (f"{cost:.2f}{noise}", f"{cost:.4f}")
    score = (
        ("—", "") if entry.score is None else (f"{entry.score:g} / {entry.possible:g}", f"{entry.score:g}")
    )
    return [rank, (entry.name, entry.name.lower()), *accuracies, parameters, seconds, score]


def _section(board: Board, plots: dict[str, str]) -> str:
    head = "".join(f'<th scope="col">{html.escape(column)}</th>' for column in _columns(board))
    rows = []
    for entry in board.entries:
        cells = "".join(
            f'<td data-value="{html.escape(value, quote=True)}">{html.escape(shown)}</td>'
            for shown, value in _values(entry, board)
        )
        kind = ' class="baseline"' if entry.baseline else ""
        rows.append(f"<tr{kind}>{cells}</tr>")
    figures = "".join(
        f'<figure><img src="plots/{html.escape(name, quote=True)}" alt="{html.escape(caption, quote=True)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, name in plots.items()
    )
    return (
        f'<section id="{html.escape(board.slug, quote=True)}">'
        f"<h2>{html.escape(board.title)}</h2>"
        f'<table class="board"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f"{figures}</section>"
    )


def _markdown(boards: list[Board], title: str, phase: str) -> str:
    lines = [f"# {_md(title)}", "", phase, ""]
    for board in boards:
        columns = _columns(board)
        lines += [f"## {_md(board.title)}", "", "| " + " | ".join(columns) + " |"]
        lines.append("|" + "|".join("---" for _ in columns) + "|")
        for entry in board.entries:
            lines.append("| " + " | ".join(_md(shown) for shown, _ in _values(entry, board)) + " |")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell: no column breaks, markup or HTML."""
    for char in "\\|*_`[]<>#":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())
