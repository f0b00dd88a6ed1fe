"""What crosses from a child process to the grader, read under limits of size, depth and count.

Every child's answer is one line of JSON (grader/runner/child.py), and a child that runs student
code can write any bytes it likes on that line. Python's ``json`` reads whatever it is given: a
list nested 100,000 deep raises ``RecursionError`` and an integer of a million digits takes
seconds, or ``ValueError`` past 4,300 digits, and a number too large for a float raises
``OverflowError`` wherever it is used. So the grader reads each line here first:

- ``loads`` refuses text over its size, numbers of more than ``MAX_DIGITS`` digits or beyond a
  float's range while ``json`` parses it, and then anything nested deeper than ``MAX_DEPTH`` or
  holding more than ``MAX_ITEMS`` values (``json`` itself stops safely at Python's recursion
  limit, far deeper);
- the readers below (``text``, ``whole``, ``number``, ``notes``, ``progress``, ``scalars``) take one
  field each and give back plain values of bounded size, or raise ``Malformed``.

``Malformed`` is the only exception anything here raises: a message that breaks the protocol is
the submission's failure, reported to its student, never the grader's. This module imports
nothing but the standard library, so every side of the boundary can use it.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_LINE_BYTES = 4 << 20  # one message: a declaration is at most 512 KB of it
MAX_DEPTH = 64  # a declaration nests about 12 deep; a progress event 3
MAX_ITEMS = 250_000  # values in one message, counted by their separators
MAX_DIGITS = 40  # in one number as written: a float64 needs 17 significant digits, an int64 19
MAX_TEXT = 2_000  # characters of one field a student may read (an error's message)
MAX_NOTES = 10  # notes from a submission's process that are kept
MAX_NOTE_CHARS = 500
MAX_LOG_KEYS = 16  # metrics in one epoch's logs
MAX_KEY_CHARS = 64


class Malformed(ValueError):
    """A child's message that breaks the protocol; the message says how, in a student's words."""


def loads(text: str | bytes, *, max_bytes: int = MAX_LINE_BYTES, what: str = "message") -> Any:
    """``text`` parsed as JSON, or ``Malformed`` if it is too long, too deep, too many values or
    holds a number too long or too large. ``NaN`` and ``Infinity`` are read as Python writes them
    (a diverged training reports a NaN loss); readers that need finite numbers say so."""
    if len(text) > max_bytes:
        raise Malformed(f"the {what} is {len(text):,} bytes; at most {max_bytes:,} are read")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed(f"the {what} is not UTF-8 text") from None
    try:
        found = json.loads(text, parse_int=_whole_literal, parse_float=_float_literal)
    except Malformed:
        raise
    except RecursionError:  # json's own parser stops, safely, at Python's recursion limit
        raise Malformed(f"the {what} is nested more than {MAX_DEPTH} deep") from None
    except ValueError as error:
        raise Malformed(f"the {what} is not JSON ({_first_line(error)})") from None
    bounded(found, what)
    return found


def bounded(value: Any, what: str) -> None:
    """Refuse ``value`` if it nests deeper than ``MAX_DEPTH`` or holds more than ``MAX_ITEMS``
    values, walking it without recursion (whatever reads it next may recurse)."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    items = 0
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise Malformed(f"the {what} is nested more than {MAX_DEPTH} deep")
            inner = item.values() if isinstance(item, dict) else item
            items += len(item)
            if items > MAX_ITEMS:
                raise Malformed(f"the {what} holds more than {MAX_ITEMS:,} values")
            pending.extend((child, depth + 1) for child in inner)


def _whole_literal(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_DIGITS:
        raise Malformed(f"a number of {len(literal):,} digits (at most {MAX_DIGITS} are read)")
    return int(literal)


def _float_literal(literal: str) -> float:
    if len(literal) > MAX_DIGITS + 8:
        raise Malformed(f"a number written with {len(literal):,} characters (at most {MAX_DIGITS + 8})")
    value = float(literal)
    if math.isinf(value):
        raise Malformed(f"the number {literal} is beyond a float's range")
    return value


def event(line: bytes) -> dict[str, Any]:
    """One line from a child: an object with a text ``event``."""
    if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
        raise Malformed(f"a message over {MAX_LINE_BYTES:,} bytes")
    message = loads(line)
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        raise Malformed("a message is not an object naming its event")
    return message


def text(value: Any, limit: int = MAX_TEXT, *, what: str = "a field") -> str:
    """``value`` as text of at most ``limit`` characters (longer text is cut, and says so)."""
    if not isinstance(value, str):
        raise Malformed(f"{what} is {type(value).__name__}, not text")
    return value if len(value) <= limit else value[:limit] + f" … ({len(value) - limit:,} characters cut)"


def whole(value: Any, low: int = 0, high: int = 2**53, *, what: str = "a count") -> int:
    """``value`` as an integer from ``low`` to ``high``."""
    if type(value) is not int or not low <= value <= high:
        raise Malformed(f"{what} is {_shown(value)}, not a whole number from {low:,} to {high:,}")
    return value


def number(value: Any, *, what: str = "a number", finite: bool = True) -> float:
    """``value`` (an int or a float) as a float; with ``finite``, never NaN or infinite."""
    if type(value) not in (int, float):
        raise Malformed(f"{what} is {_shown(value)}, not a number")
    found = float(value)  # ints are at most MAX_DIGITS digits: within a float's range
    if finite and not math.isfinite(found):
        raise Malformed(f"{what} is {found}, not a finite number")
    return found


def notes(values: Any, *, what: str = "the notes") -> tuple[tuple[str, ...], int]:
    """The first ``MAX_NOTES`` notes (each cut to ``MAX_NOTE_CHARS``) and how many more were sent."""
    if not isinstance(values, list):
        raise Malformed(f"{what} are not a list")
    kept = tuple(text(note, MAX_NOTE_CHARS, what="a note") for note in values[:MAX_NOTES])
    return kept, max(0, len(values) - MAX_NOTES)


def scalars(values: Any, *, limit: int = 32, what: str = "a record") -> dict[str, Any]:
    """A small object of short keys and plain values (text, numbers, booleans, short lists of
    them): what a child says about itself when it starts."""
    if not isinstance(values, dict):
        raise Malformed(f"{what} is not an object")
    found: dict[str, Any] = {}
    for key, value in list(values.items())[:limit]:
        found[text(key, MAX_KEY_CHARS, what="a key")] = _scalar(value, what=f"{what}'s {key[:32]!r}")
    return found


def _scalar(value: Any, *, what: str, nested: bool = True) -> Any:
    if value is None or type(value) in (bool, int):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return text(value, 200, what=what)
    if nested and isinstance(value, list):
        return [_scalar(item, what=what, nested=False) for item in value[:16]]
    raise Malformed(f"{what} is {type(value).__name__}, not plain data")


def progress(message: dict[str, Any]) -> dict[str, Any]:
    """A ``batch`` or ``epoch`` event with only its known fields, each checked: epoch and step
    counts, a loss, and up to ``MAX_LOG_KEYS`` finite metrics (what a progress bar and the training
    curves read)."""
    found: dict[str, Any] = {"event": message["event"]}
    for key in ("epoch", "epochs", "step", "steps"):
        value = message.get(key)
        if value is not None:
            found[key] = whole(value, 0, 10**9, what=f"the {key}")
    if message.get("loss") is not None:
        found["loss"] = number(message["loss"], what="the loss", finite=False)
    if "logs" in message:
        logs = message["logs"]
        if not isinstance(logs, dict):
            raise Malformed("an epoch's logs are not an object")
        found["logs"] = {
            text(key, MAX_KEY_CHARS, what="a metric's name"): number(
                value, what=f"metric {key[:32]!r}", finite=False
            )
            for key, value in list(logs.items())[:MAX_LOG_KEYS]
        }
    return found


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:40] + "…"


def _first_line(error: BaseException) -> str:
    said = str(error).strip()
    return said.splitlines()[0][:200] if said else type(error).__name__
