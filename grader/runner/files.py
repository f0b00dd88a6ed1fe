"""Files crossing the sandbox's boundary, handled so a child cannot aim the grader elsewhere, and
the folders where graders on one machine keep their locks, which no other user may change.

A child can write anything into its scratch folder, including a symbolic link named
``x_train.npy`` that points at the grader's own source, or a ``model.keras`` that points at the
test labels. So the grader never follows a link there: it creates the files it writes afresh
(``O_EXCL | O_NOFOLLOW``), opens the files it reads with ``O_NOFOLLOW``, and checks their size
on the open file before reading.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import numpy as np

CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
READ = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class UnsafeFile(OSError):
    """A file from a child is missing, a link, not a plain file, or too large."""


def write_array(path: Path, array: np.ndarray) -> None:
    """Save ``array`` as a new .npy file at ``path``, replacing whatever the child left there."""
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, CREATE, 0o644), "wb") as stream:
        np.save(stream, array, allow_pickle=False)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file at ``path``, replacing whatever the child left there."""
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, CREATE, 0o644), "wb") as stream:
        stream.write(data)


def _open_plain(path: Path, max_bytes: int) -> int:
    try:
        fd = os.open(path, READ)
    except FileNotFoundError:
        raise UnsafeFile(f"{path.name} is missing") from None
    except OSError as error:  # ELOOP: a symbolic link
        raise UnsafeFile(f"{path.name} is not a plain file ({error.strerror})") from None
    info = os.fstat(fd)
    problem = ""
    if not stat.S_ISREG(info.st_mode):
        problem = f"{path.name} is not a plain file"
    elif info.st_size > max_bytes:
        problem = f"{path.name} is {info.st_size:,} bytes, more than the {max_bytes:,} allowed"
    if problem:
        os.close(fd)
        raise UnsafeFile(problem)
    return fd


def read_array(path: Path, max_bytes: int) -> np.ndarray:
    """Load a .npy file a child wrote, refusing links, pickles and anything over ``max_bytes``."""
    with os.fdopen(_open_plain(path, max_bytes), "rb") as stream:
        return np.load(stream, allow_pickle=False)


def copy_file(source: Path, target: Path, max_bytes: int) -> None:
    """Copy a plain file a child wrote into another folder, refusing links and oversize files."""
    with os.fdopen(_open_plain(source, max_bytes), "rb") as reader:
        target.unlink(missing_ok=True)
        with os.fdopen(os.open(target, CREATE, 0o644), "wb") as writer:
            shutil.copyfileobj(reader, writer)


def own_folder(folder: Path) -> bool:
    """Make ``folder`` (mode 0700) if it is missing; whether it is a folder, not a link, that only
    this user can change. Graders on one machine keep their locks in such folders (which cores
    each grade holds, which users its children run as), often under the world-writable /tmp: one
    another user made first could hold those locks forever, or hold links that aim the grader's
    own files elsewhere."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(found.st_mode) and found.st_uid == os.geteuid() and not found.st_mode & 0o022
