"""Text is text: what the grader did not write itself (a display name, what a student's code
printed, an exception's message, a folder's name) is shown as written in every output, never read
as console markup, and the grade still completes."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from grader.batch.gradebook import summary
from grader.grade import grade, write_outputs
from grader.report import render_grade
from tests.conftest import BACKEND, CLASS_ASSIGNMENT, on_backend

NAME = "[bold]Mallory[/bold] [link=https://example.com]me[/link] $x$"
PRINTED = "[red]loud[/red] [/] [not a tag"
RAISED = "[blink]bad[/blink] shape [None, 10]"


@pytest.fixture(scope="module")
def marked_up(tmp_path_factory, grading_cache):
    """A submission full of bracketed markup, graded once: its outputs and what the terminal showed."""
    root = tmp_path_factory.mktemp("markup")
    folder = root / "[i]folder"
    folder.mkdir()
    (folder / "submission.toml").write_text(
        f'assignment = "conv_32_64_64"\ndisplay_name = {json.dumps(NAME)}\n'
    )
    (folder / "model.py").write_text(
        f"print({PRINTED!r})\n\ndef build_model():\n    raise ValueError({RAISED!r})\n"
    )
    terminal = Console(file=io.StringIO(), width=200, no_color=True)
    result = grade(
        folder, assignment=CLASS_ASSIGNMENT, backend=BACKEND, cache_root=grading_cache, console=terminal
    )
    render_grade(result, terminal)
    out = root / "out" / folder.name
    write_outputs(result, out)
    return result, terminal.file.getvalue(), out  # type: ignore[attr-defined]


def test_the_grade_completes_and_keeps_every_string_as_written(marked_up):
    result, _, _ = marked_up
    assert result.display_name == NAME
    assert result.problem is not None and RAISED in result.problem
    assert PRINTED in result.log
    assert result.score == 0


def test_the_terminal_shows_them_literally(marked_up):
    _, shown, _ = marked_up
    unwrapped = " ".join(shown.split())
    for text in ("[bold]Mallory[/bold]", "[link=https://example.com]me[/link]", "[i]folder", PRINTED, RAISED):
        assert text in unwrapped, text


def test_report_txt_and_results_json_show_them_literally(marked_up):
    _, _, out = marked_up
    report = " ".join((out / "report.txt").read_text().split())
    assert "[bold]Mallory[/bold]" in report and RAISED in report and PRINTED in report
    results = json.loads((out / "results.json").read_text())
    assert RAISED in results["output"] and PRINTED in results["output"]


def test_the_gradebook_summary_shows_the_name_literally(marked_up):
    _, _, out = marked_up
    console = Console(file=io.StringIO(), width=200, no_color=True)
    console.print(summary(out.parent, [out.name]))
    assert "[i]folder" in console.file.getvalue()  # type: ignore[attr-defined]


def test_grader_check_shows_them_literally(marked_up):
    from grader.check import check_submission, render_check

    _, _, out = marked_up
    root = out.parent.parent
    console = Console(file=io.StringIO(), width=200, no_color=True)
    assignment = on_backend(CLASS_ASSIGNMENT, root / "course")
    outcome = check_submission(root / "[i]folder", assignment=assignment, console=console)
    render_check(outcome, console)
    shown = " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]
    for text in ("[i]folder", PRINTED, RAISED):
        assert text in shown, text


@pytest.mark.parametrize(("width", "most_lines"), [(80, 40), (200, 30)])
def test_a_report_reads_at_any_width(graded, width, most_lines):
    """At 80 columns (a pipe, a CI log, Gradescope's console) each check's details sit under it, at
    full width; at 200 they are a table. Either way every message is there, whole."""
    from tests.conftest import SUBMISSIONS

    result = graded(SUBMISSIONS / "alice", assignment=CLASS_ASSIGNMENT)
    console = Console(file=io.StringIO(), width=width, no_color=True)
    render_grade(result, console)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert all(len(line) <= width for line in lines)
    assert len(lines) <= most_lines, "\n".join(lines)
    words = " ".join(" ".join(line.strip("│ ").split()) for line in lines)
    for check in result.checks:
        assert " ".join(check.message.split()) in words or width > 100, check.message
