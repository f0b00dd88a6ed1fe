"""A zygote kept warm between grades: ``grader warm start`` imports Keras once, and every grade
after it forks its children from that import instead of making its own (2 to 3 s of a grade
alone on the CPU, most of what it spends before training).

It is the zygote of grader/runner/zygote.py, made to outlive one grade. It listens on a socket in
a folder only its own user can change, reachable by that user only (the socket is 0600 and each
caller's credentials are checked), and it runs nothing but its own code: no submission's code,
no data, no labels. Each grade that connects gets a session, a fork of it that serves that grade
exactly as a zygote of its own would (the same requests, the same confined forks) and ends when the
grade's socket closes, however the grade ended; every fork it made dies with it. Its socket's
name holds a key on everything a fork runs (the grader's and the references' code, Python, the
Keras and backend versions, the children's environment), so a grade never uses a kept zygote made
from other code: it starts its own, as it always has. The kept zygote ends when told to
(``grader warm stop``) or when no grade has used it for its idle time.

    python -m grader.runner.kept --socket PATH --backend B --home DIR --idle SECONDS
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.runner.files import own_folder

FOLDER = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"grader-{os.getuid()}-warm"
IDLE_S = 1800.0  # ends after half an hour without a grade
START_S = 120.0  # for it to import Keras
ANSWER_S = 10.0  # for it, or a session of it, to answer
MAX_MESSAGE = 1 << 16
CODE = ("grader", "reference")  # the packages whose code a fork runs
DISTRIBUTIONS = {
    "tensorflow": ("keras", "tensorflow", "tensorflow-cpu", "tf-keras"),
    "jax": ("keras", "jax", "jaxlib"),
    "torch": ("keras", "torch"),
}


class WarmError(RuntimeError):
    """A kept zygote could not be started, reached or stopped."""


@dataclass(frozen=True)
class Kept:
    """One kept zygote, as it describes itself."""

    pid: int
    backend: str
    keras: str
    sessions: int
    idle_s: float
    idle_limit_s: float
    socket: str


def key(backend: str, env: dict[str, str]) -> str:
    """What a kept zygote must share with a grade for the grade to fork from it: the code every
    fork runs, the Python that runs it, the Keras and backend installed, the children's environment."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps([backend, sorted(env.items()), os.path.realpath(sys.executable), sys.version]).encode()
    )
    for name in DISTRIBUTIONS.get(backend, ("keras",)):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            digest.update(f"{name}=={importlib.metadata.version(name)}\n".encode())
    for package in CODE:
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for source in sorted(Path(folder).rglob("*.py")):
                digest.update(str(source.relative_to(folder)).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:20]


def socket_path(backend: str, env: dict[str, str]) -> Path:
    return FOLDER / f"{backend}-{key(backend, env)}.sock"


# -- a grade's side ----------------------------------------------------------------------------
def session(backend: str, env: dict[str, str]) -> tuple[socket.socket, dict[str, Any]] | None:
    """A session of the kept zygote made from this very code for ``backend``: its socket and what
    it said when ready (its Keras home, its pid). None where there is none, or it did not answer."""
    if not FOLDER.is_dir() or not own_folder(FOLDER):
        return None
    channel = _connect(socket_path(backend, env))
    if channel is None:
        return None
    try:
        channel.send(json.dumps({"session": True}).encode())
        ready = _answer(channel)
        if "ready" not in ready:
            raise OSError(str(ready.get("error", ready)))
        channel.settimeout(None)
        return channel, ready
    except (OSError, ValueError):
        channel.close()
        return None


def _connect(path: Path) -> socket.socket | None:
    """A connection to the socket at ``path`` if it is this user's kept zygote's (None otherwise)."""
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    channel.settimeout(ANSWER_S)
    try:
        with _short(path) as address:
            channel.connect(address)
        if _peer_uid(channel) != os.geteuid():
            raise OSError("not this user's")
    except OSError:
        channel.close()
        return None
    return channel


@contextlib.contextmanager
def _short(path: Path) -> Iterator[str]:
    """An address for the socket at ``path`` within the 107 bytes a socket's address may have,
    however deep its folder: the name, through this process's descriptor of the folder."""
    folder = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


def _peer_uid(channel: socket.socket) -> int:
    _pid, uid, _gid = struct.unpack("3i", channel.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return int(uid)


def _answer(channel: socket.socket) -> dict[str, Any]:
    data = channel.recv(MAX_MESSAGE)
    if not data:
        raise OSError("it closed the connection")
    found = json.loads(data)
    if not isinstance(found, dict):
        raise ValueError("not an answer")
    return found


def _ask(path: Path, question: str) -> dict[str, Any] | None:
    channel = _connect(path)
    if channel is None:
        return None
    with channel:
        try:
            channel.send(json.dumps({question: True}).encode())
            return _answer(channel)
        except (OSError, ValueError):
            return None


def running() -> list[Kept]:
    """Every kept zygote of this user that answers; a socket left by one that ended is removed."""
    found = []
    for path in sorted(FOLDER.glob("*.sock")) if FOLDER.is_dir() and own_folder(FOLDER) else []:
        if (described := _described(path)) is not None:
            found.append(described)
        elif not _locked(path):  # its zygote ended without removing it (it was killed)
            path.unlink(missing_ok=True)
    return found


def start(backend: str, env: dict[str, str], *, idle_s: float = IDLE_S) -> Kept:
    """Start a kept zygote for ``backend`` (or find the one already running from this code), and
    wait until it answers."""
    from grader.runner.sandbox import SandboxError
    from grader.runner.zygote import make_home

    if not own_folder(FOLDER):
        raise SandboxError(
            f"{FOLDER} is not a folder that only this user can change, so no zygote is kept there. "
            "Remove it, or set XDG_RUNTIME_DIR to a private folder."
        )
    path = socket_path(backend, env)
    if (found := _described(path)) is not None:
        return found
    home = Path(tempfile.mkdtemp(prefix="grader-warm-"))
    folders = make_home(home)
    log = path.with_suffix(".log")  # kept when it ends, to say why
    argv = [sys.executable, "-m", "grader.runner.kept", "--socket", str(path), "--backend", backend]
    argv += ["--home", str(home), "--idle", str(idle_s)]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**env, **folders},
            cwd=home,
            start_new_session=True,  # it outlives this command
        )
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if (found := _described(path)) is not None:
            threading.Thread(target=process.wait, daemon=True).start()  # reaped if it ends first
            return found
        if process.poll() is not None and not (process.returncode == 0 and _locked(path)):
            said = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            shutil.rmtree(home, ignore_errors=True)
            raise WarmError(f"the kept zygote ended as it started (exit {process.returncode}): {said}")
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    shutil.rmtree(home, ignore_errors=True)
    raise WarmError(f"the kept zygote did not import Keras in {START_S:g} s")


def stop() -> list[Kept]:
    """Stop every kept zygote of this user; the ones stopped. Each stops listening at once; a grade
    that is using one goes on to its end, and the kept zygote ends with the last such grade."""
    stopped = []
    for found in running():
        if _ask(Path(found.socket), "stop") is not None:
            stopped.append(found)
    return stopped


def _described(path: Path) -> Kept | None:
    said = _ask(path, "status")
    if said is None:
        return None
    # one from another version of the grader may say less: it is still listed, and stopped
    unsaid = {
        "pid": 0,
        "backend": "unknown",
        "keras": "unknown",
        "sessions": 0,
        "idle_s": 0.0,
        "idle_limit_s": 0.0,
    }
    return Kept(**{name: said.get(name, default) for name, default in unsaid.items()}, socket=str(path))


def _lock_path(path: Path) -> Path:
    return path.with_suffix(".lock")


def _locked(path: Path) -> bool:
    """Whether a kept zygote holds the lock beside ``path`` (it does for as long as it runs)."""
    try:
        fd = os.open(_lock_path(path), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


# -- the kept zygote's side --------------------------------------------------------------------
def serve(path: Path, backend: str, home: Path, idle_s: float) -> None:
    """Hold the lock beside ``path``, import Keras, listen on ``path``; start a session for each
    grade that connects, answer ``status`` and ``stop``, and end after ``idle_s`` without a session."""
    lock = os.open(_lock_path(path), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        return  # another start of the same zygote got here first: that one serves
    try:
        _serve(path, backend, home, idle_s, lock)
    finally:
        os.close(lock)  # a new start may serve while this one's sessions end


def _serve(path: Path, backend: str, home: Path, idle_s: float, lock: int) -> None:
    from grader.runner import zygote

    zygote.prepare(backend)
    import keras

    own_pids = os.open("/proc/self/ns/pid", os.O_RDONLY)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with _listening(listener, path):
        sessions: set[int] = set()
        last_used = time.monotonic()
        started = time.monotonic()
        while True:
            for pid in list(sessions):
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        sessions.discard(pid)
                        last_used = time.monotonic()
            idle = 0.0 if sessions else time.monotonic() - max(last_used, started)
            if idle >= idle_s:
                return
            if not select.select([listener], [], [], 0.5)[0]:
                continue
            channel, _ = listener.accept()
            with channel:
                try:
                    if _peer_uid(channel) != os.geteuid():
                        continue  # only its own user may use it (the socket's mode says so too)
                    channel.settimeout(ANSWER_S)
                    asked = _answer(channel)
                except (OSError, ValueError):
                    continue
                if asked.get("session"):
                    ready = {"ready": True, "keras_home": str(home / "keras"), "kept": os.getpid()}
                    sessions.add(
                        _session(channel, (listener.fileno(), lock), own_pids, str(home / "root"), ready)
                    )
                    continue
                status = {
                    "pid": os.getpid(),
                    "backend": backend,
                    "keras": keras.__version__,
                    "sessions": len(sessions),
                    "idle_s": round(idle, 1),
                    "idle_limit_s": idle_s,
                }
                with contextlib.suppress(OSError):
                    channel.send(json.dumps(status).encode())
                if asked.get("stop"):
                    return


@contextlib.contextmanager
def _listening(listener: socket.socket, path: Path) -> Iterator[None]:
    """Listen on ``path``, which appears only once the zygote is ready, and is gone when it ends."""
    unready = path.with_suffix(f".{os.getpid()}")
    unready.unlink(missing_ok=True)
    with _short(unready) as address:
        listener.bind(address)
    os.chmod(unready, 0o600)
    listener.listen(16)
    os.replace(unready, path)
    inode = os.stat(path).st_ino
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == inode:
                path.unlink()
        listener.close()


def _session(
    channel: socket.socket, closed: tuple[int, int], own_pids: int, root: str, ready: dict[str, Any]
) -> int:
    """Fork a session serving the grade at the other end of ``channel`` as its own zygote would;
    ``closed``: the listening socket and the lock, which are the kept zygote's alone."""
    from grader.runner import zygote

    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            for fd in closed:
                os.close(fd)
            channel.settimeout(None)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            zygote.serve_forks(channel, own_pids, root, ready)
        except BaseException as error:  # the grade sees its socket close, and starts children afresh
            with contextlib.suppress(OSError):
                os.write(2, f"grader: a kept zygote's session failed: {error}\n".encode())
            code = 1
        os._exit(code)
    return pid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.runner.kept")
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--backend", required=True)
    parser.add_argument("--home", type=Path, required=True, help="its own folder, removed when it ends")
    parser.add_argument("--idle", type=float, default=IDLE_S, help="seconds without a grade before it ends")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # ends as told, removing its socket
    try:
        serve(args.socket, args.backend, args.home, args.idle)
    finally:
        # Grades using it go on to their end: their forks are made in its folder (a second
        # SIGTERM ends it at once).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with contextlib.suppress(ChildProcessError):
            while True:
                os.wait()
        shutil.rmtree(args.home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
