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
    """The submission's own line where the current exception came from, if any."""
    if model_file is None:
        return ""
    error = sys.exc_info()[1]
    if isinstance(error, SyntaxError) and error.filename and Path(error.filename) == model_file:
        return f"{model_file.name}, line {error.lineno}" + (f": {error.text.strip()}" if error.text else "")
    frames = [f for f in traceback.extract_tb(sys.exc_info()[2]) if Path(f.filename) == model_file]
    if not frames:
        return ""
    frame = frames[-1]
    return f"{model_file.name}, line {frame.lineno}" + (f": {frame.line}" if frame.line else "")
