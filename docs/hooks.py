"""MkDocs hook: the reference pages written from the code at build time, so they cannot drift
from it. A page asks for one with a marker: ``<!-- generated: cli -->``, ``settings``,
``checks`` or ``changelog``."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
MARKER = re.compile(r"<!-- generated: (\w+) -->")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return MARKER.sub(lambda found: GENERATORS[found.group(1)](), markdown)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def cli() -> str:
    from grader.cli import _parser

    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    lines = [f"`grader [--version] COMMAND ...`: {len(commands.choices)} commands.", ""]
    for name, sub in commands.choices.items():
        lines += [f"## `grader {name}`", "", _cell(helps.get(name) or ""), ""]
        if sub.description:
            lines += [sub.description, ""]
        lines += ["| argument | what | default |", "|---|---|---|"]
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            names = ", ".join(action.option_strings) or (action.metavar or action.dest)
            if action.nargs in ("*", "+") and not action.option_strings:
                names += " ..."
            default = "" if action.default in (None, False, argparse.SUPPRESS) else f"`{action.default}`"
            if action.choices and not isinstance(action, argparse._SubParsersAction):
                default = (default + " " if default else "") + "(" + ", ".join(map(str, action.choices)) + ")"
            lines.append(f"| `{_cell(names)}` | {_cell(action.help or '')} | {_cell(default)} |")
        lines.append("")
    return "\n".join(lines)


def _table(title: str, cls: type) -> list[str]:
    from grader.settings import defaults, rules

    found = defaults(cls)
    lines = [f"## {title}", "", "| key | accepts | default | what |", "|---|---|---|---|"]
    for key, rule in rules(cls).items():
        default = "required" if key not in found else "" if found[key] is None else f"`{found[key]}`"
        lines.append(f"| `{key}` | {_cell(rule.describe())} | {_cell(default)} | {_cell(rule.doc)} |")
    return [*lines, ""]


def settings() -> str:
    from grader.settings import Limits, Submissions, Target, Training

    lines: list[str] = []
    for title, cls in (
        ("[training]", Training),
        ("[limits]", Limits),
        ("[target]", Target),
        ("[submissions]", Submissions),
    ):
        lines += _table(title, cls)
    return "\n".join(lines)


def checks() -> str:
    from grader.checks import KINDS, Check

    lines = _table("Every check", Check)
    for kind, cls in KINDS.items():
        lines += [f'## `kind = "{kind}"`: {cls.name}', "", _rst(inspect.cleandoc(cls.__doc__ or "")), ""]
        own = [line for line in _table("", cls)[2:] if not line.startswith(("| `points`", "| `visibility`"))]
        if len(own) > 3:  # a header, its rule, a row, the blank line
            lines += own
    return "\n".join(lines)


def _rst(text: str) -> str:
    """A docstring's reStructuredText literals as Markdown's."""
    return text.replace("``", "`")


def changelog() -> str:
    return (ROOT / "CHANGELOG.md").read_text()


GENERATORS = {"cli": cli, "settings": settings, "checks": checks, "changelog": changelog}
