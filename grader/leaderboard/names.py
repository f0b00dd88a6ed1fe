"""The names a public board shows: each student's chosen ``display_name``, or a pseudonym no one
can reverse without the class's key; two students who chose the same name are told apart.

A pseudonym is an HMAC of the submission's folder name (often the student's own name or login)
under a random key kept beside the class's results (``.pseudonym-key``, readable by its owner
only), so someone holding the roster cannot hash every name and match; yet the same student keeps
the same pseudonym on every board published from those results.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from grader.results import Grade

KEY_FILE = ".pseudonym-key"
PSEUDONYM_DIGITS = 8
SUFFIX_DIGITS = 4


def pseudonym_key(results_dir: Path) -> bytes:
    """The class's key: read from ``results_dir``, or made there once (mode 0600)."""
    path = Path(results_dir) / KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise ValueError(f"{path} is not a pseudonym key: delete it to make a new one.") from None
        return key.encode()
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key.encode()


def tag(key: bytes, submission: str, digits: int) -> str:
    return hmac.new(key, submission.encode(), hashlib.sha256).hexdigest()[:digits]


def public_names(grades: list[Grade], key: bytes) -> list[str]:
    """One name per grade, in order: the chosen name, with a tag where two chose the same one, or
    ``anonymous`` and a tag of the folder's name."""
    chosen = [
        _normal(grade.display_name) if grade.chose_name and grade.display_name else None for grade in grades
    ]
    names = []
    for grade, normal in zip(grades, chosen, strict=True):
        if normal is None:
            names.append(f"anonymous {tag(key, grade.submission, PSEUDONYM_DIGITS)}")
        elif chosen.count(normal) > 1:
            names.append(f"{grade.display_name} #{tag(key, grade.submission, SUFFIX_DIGITS)}")
        else:
            names.append(grade.display_name)
    return names


def _normal(name: str) -> str:
    return " ".join(name.casefold().split())
