"""The child's end of the runner protocol: commands in on stdin, events out on a pipe, one JSON
object per line, and the errors a child reports in words its student understands."""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

COMMANDS_FD = 0  # stdin, read unbuffered: a command waiting there is what select() sees


class SubmissionError(Exception):
    """The submission broke the contract; the message is for its author."""


def read_command() -> str | None:
    """The next command from the grader (None at end of input). Read a byte at a time, so no
    second command is ever left in a buffer where select() cannot see it."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(COMMANDS_FD, 1)
        if not byte:
            break
        line += byte
    try:
        command = json.loads(line).get("command") if line.strip() else None
    except (ValueError, AttributeError):
        return None
    return command if isinstance(command, str) else None


class Channel:
    """Events to the grader, one JSON line each."""

    def __init__(self, fd: int) -> None:
        self.stream = os.fdopen(fd, "w", buffering=1, encoding="utf-8")

    def send(self, event: str, **fields: Any) -> None:
        self.stream.write(json.dumps({"event": event, **fields}) + "\n")
        self.stream.flush()


def where(model_file: Path | None) -> str:
    """The submission's own line where the current exception came from, if any: in ``model_file``
    or in any part of its code read since (a notebook's cells, grader/runner/program.py)."""
    if model_file is None:
        return ""
    from grader.runner.program import label

    def named(filename: str | None) -> str | None:
        if not filename:
            return None
        return label(filename) or (model_file.name if Path(filename) == model_file else None)

    error = sys.exc_info()[1]
    if isinstance(error, SyntaxError) and (name := named(error.filename)):
        return f"{name}, line {error.lineno}" + (f": {error.text.strip()}" if error.text else "")
    frames = [(f, name) for f in traceback.extract_tb(sys.exc_info()[2]) if (name := named(f.filename))]
    if not frames:
        return ""
    frame, name = frames[-1]
    return f"{name}, line {frame.lineno}" + (f": {frame.line}" if frame.line else "")
