"""A zygote: one process with Keras imported, from which a class forks each submission's builder,
and a grade of its own all three of its children (builder, trainer, pace-setter), each confined
as below, whether or not it runs submission code.

A builder runs submission code, so it can never be kept for a second student; but starting it
is most of what a grade costs beyond training (2.2 s of CPU on TensorFlow, nearly all of it
``import tensorflow``, against 13 s of training for the tutorial model). A zygote imports Keras
and the builder's code once, runs nothing else (no submission code, no data, no labels), and
forks a builder for each student. Each fork confines itself before it runs anything
(grader/runner/confine.py): it becomes PID 1 of a PID namespace of its own and builds exactly the
view bubblewrap would give a fresh builder (``grader.runner.sandbox.view``), with its own mount,
network, IPC, UTS and cgroup namespaces, then forks the child, which drops to a user with no
account and no capabilities; PID 1 becomes a small reaper that exits with the child's status,
as bubblewrap's own init does. A fork is a copy: nothing it does reaches the zygote or any later
fork, and it cannot see or signal any other process.

Forking needs the grader to run as root (it owns the namespaces it makes) and is used only
where bubblewrap would run the builder, on the CPU (a fork after a GPU runtime has started is
not safe). Anywhere else, and whenever the zygote cannot start or confine a probe fork, children
start afresh as they always have. ``Zygote`` is the grader's end; ``serve`` runs in the zygote.

    python -m grader.runner.zygote --socket-fd FD --backend B --root DIR
"""

from __future__ import annotations

import argparse
import array
import contextlib
import glob
import importlib
import json
import os
import platform
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader.runner import confine, kept
from grader.runner.sandbox import (
    Mount,
    claim_user,
    closed_to_others,
    give,
    release_user,
    runtime_paths,
    view,
)
from grader.settings import Limits

START_S = 120.0  # for the zygote to import Keras
SPAWN_S = 30.0  # for one fork to be made
MAX_REQUEST = 1 << 20
REAP_EVERY_S = 0.02
REAPER = """import os, sys
child = int(sys.argv[1])
while True:
    pid, status = os.wait()
    if pid == child:
        sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
"""


class ZygoteError(RuntimeError):
    """The zygote could not start or fork; the child starts afresh instead."""


class ForkRefused(ZygoteError):
    """The zygote answered that it could not fork this child."""


def make_home(home: Path) -> dict[str, str]:
    """Make a zygote's own folders in ``home`` (``root``: where each fork's root is mounted);
    the environment that points it at them."""
    for name in ("root", "home", "keras", "tmp"):
        (home / name).mkdir()
    return {
        "HOME": str(home / "home"),
        "TMPDIR": str(home / "tmp"),
        "KERAS_HOME": str(home / "keras"),
        "MPLCONFIGDIR": str(home / "home"),
    }


def problem(sandbox_kind: str) -> str | None:
    """Why children cannot be forked here (None when they can)."""
    if sandbox_kind != "bubblewrap":
        return "children are forked only where bubblewrap would run them"
    if os.geteuid() != 0:
        return "forking a confined child needs the grader to run as root"
    if platform.machine() not in confine.PIVOT_ROOT:
        return f"no pivot_root for {platform.machine()}"
    if glob.glob("/dev/nvidia*"):
        return "a GPU runtime must not be forked"
    for path in runtime_paths():
        if found := closed_to_others(path):
            return f"a child's user could not start Python: {found}"
    return None


class Forked:
    """A child forked by the zygote, as the grader's Runner sees a child process: its pid (PID 1
    of its namespace, as the grader sees it), its commands' pipe and its exit code."""

    def __init__(self, pid: int, stdin: Any) -> None:
        self.pid = pid
        self.stdin = stdin
        self.returncode: int | None = None
        self.lost = False  # killed because its zygote ended: the grader's failure, not the student's
        self._ended = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired("forked child", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def _end(self, code: int) -> None:
        self.returncode = code
        self._ended.set()


class Zygote:
    """The grader's end of one zygote: started on first use, stopped by ``close``."""

    def __init__(self, backend: str, env: dict[str, str], *, cpus: frozenset[int] | None = None) -> None:
        self.backend = backend
        self._env = env
        self._cpus = cpus  # where it imports Keras (anywhere if None)
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._replies: list[dict[str, Any]] = []
        self._replied = threading.Condition()
        self._forked: dict[int, Forked] = {}
        self.broken: str | None = None
        self.forks = 0
        self.start_s: float | None = None  # how long it took to import Keras, once started
        self.kept: int | None = None  # the pid of the kept zygote this one is a session of
        self._started = False

    def _start(self) -> None:
        started = time.monotonic()
        self._started = True
        if (session := kept.session(self.backend, self._env)) is not None:
            self._socket, ready = session
            self.keras_home, self.kept = str(ready["keras_home"]), int(ready["kept"])
            threading.Thread(target=self._listen, daemon=True).start()
            self.start_s = time.monotonic() - started
            return
        self._scratch = tempfile.TemporaryDirectory(prefix="grader-zygote-")
        home = Path(self._scratch.name)
        env = {**self._env, **make_home(home)}
        self.keras_home = env["KERAS_HOME"]
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = tempfile.TemporaryFile(prefix="grader-zygote-output-")  # noqa: SIM115 - closed in close()
        argv = [sys.executable, "-m", "grader.runner.zygote", "--socket-fd", str(theirs.fileno())]
        argv += ["--backend", self.backend, "--root", str(home / "root")]
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=home,
            pass_fds=(theirs.fileno(),),
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if (cpus := self._cpus) else None,
            # No parent-death signal: the kernel sends it when the thread that started the zygote
            # ends, which is not when the grader does. The zygote ends when its socket closes (the
            # grader ended, however it ended), and every fork dies with it.
            start_new_session=True,
        )
        theirs.close()
        self._socket = ours
        threading.Thread(target=self._listen, daemon=True).start()
        ready = self._reply(START_S)
        if "ready" not in ready:
            raise ZygoteError(f"the zygote did not start: {ready.get('error', ready)}")
        self.start_s = time.monotonic() - started

    def available(self) -> bool:
        """Whether it can fork children: started and its probe fork confined (at the first call)."""
        with self._lock:
            return self._available()

    def _available(self) -> bool:
        if not self._started and not self.broken:
            try:
                self._start()
                self._probe()
            except (OSError, ZygoteError) as error:
                self._break(error)
        return not self.broken

    def _break(self, error: Exception) -> None:
        """No more forks: every child from now on starts afresh. Where the zygote answered that it
        could not fork, the forks it made before go on, reported as they end (it is stopped by
        ``close``). Otherwise it is stopped now, with every fork it made: an answer that came late
        would be taken for the next request's, and a request it took late would start a child
        no grade waits for."""
        self.broken = f"children start afresh: {error}"
        if not isinstance(error, ForkRefused):
            self._stop()

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        work: Path,
        readable: Sequence[Path],
        limits: Limits,
        cpus: frozenset[int] | None,
        uid: int,
        fds: tuple[int, int],
    ) -> Forked:
        """Fork a child running ``python -m grader.runner.child *argv`` (its messages on file
        descriptor 3) as ``uid``, confined to the view of ``work`` and ``readable``; ``fds`` are its
        output and its messages' write end. Its commands go to the ``stdin`` of what it returns."""
        with self._lock:
            if not self._available():
                raise ZygoteError(str(self.broken))
            try:
                request = self._request(argv, env, work, readable, limits, cpus, uid)
                forked = self._fork(request, fds)
            except (OSError, ZygoteError) as error:
                self._break(error)
                raise ZygoteError(str(self.broken)) from error
            self.forks += 1
            return forked

    def _request(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        work: Path,
        readable: Sequence[Path],
        limits: Limits,
        cpus: frozenset[int] | None,
        uid: int,
    ) -> dict[str, Any]:
        (work / ".keras").mkdir(exist_ok=True)
        # Keras read its home from the zygote's environment when imported: there, in each fork's
        # view, is the submission's own (writable, in its scratch).
        mounts = [*view(work, readable), Mount("rw", self.keras_home, str(work / ".keras"))]
        return {
            "argv": list(argv),
            "env": env,
            "work": str(work),
            "mounts": [[m.kind, m.target, m.source] for m in mounts],
            "limits": asdict(limits),
            "cpus": sorted(cpus or ()),
            "uid": uid,
        }

    def _fork(self, request: dict[str, Any], fds: tuple[int, int]) -> Forked:
        assert self._socket is not None
        stdin_read, stdin_write = os.pipe()
        try:
            payload = json.dumps({"spawn": request}).encode()
            rights = array.array("i", [stdin_read, *fds])
            self._socket.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])
        finally:
            os.close(stdin_read)
        reply = self._reply(SPAWN_S)
        if "pid" not in reply:
            os.close(stdin_write)
            raise ForkRefused(f"the zygote could not fork: {reply.get('error', reply)}")
        forked = Forked(int(reply["pid"]), os.fdopen(stdin_write, "wb"))
        with self._replied:
            self._forked[forked.pid] = forked
            early = [r for r in self._replies if r.get("exited") == forked.pid]
            for ended in early:
                self._replies.remove(ended)
                forked._end(int(ended["code"]))
        return forked

    def _probe(self) -> None:
        """One fork confined and dropped to a user, checked from inside; the zygote forks nothing
        for a student unless this worked."""
        uid = claim_user()
        try:
            code, said = self._probe_as(uid)
        finally:
            release_user(uid)
        if code != 0 or said != "confined":
            raise ZygoteError(f"a probe fork could not be confined (exit {code}: {said[:300]})")

    def _probe_as(self, uid: int) -> tuple[int, str]:
        with tempfile.TemporaryDirectory(prefix="grader-zygote-probe-") as scratch:
            work = Path(scratch) / "work"
            (work / "tmp").mkdir(parents=True)
            give(work, uid)
            read, write = os.pipe()
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                request = self._request([], {}, work, runtime_paths(), Limits(), None, uid)
                request["probe"] = True
                forked = self._fork(request, (null, write))
                os.close(write)
                write = -1
                code = forked.wait(SPAWN_S)
                return code, os.read(read, 4096).decode(errors="replace")
            finally:
                for fd in (read, write, null):
                    if fd >= 0:
                        os.close(fd)

    def _reply(self, timeout: float) -> dict[str, Any]:
        """The zygote's answer to the last request (news of a fork that ended is not one)."""

        def answers() -> list[dict[str, Any]]:
            return [reply for reply in self._replies if "exited" not in reply]

        with self._replied:
            if not self._replied.wait_for(answers, timeout):
                raise ZygoteError(f"the zygote did not answer in {timeout:g} s")
            found = answers()[0]
            self._replies.remove(found)
            return found

    def _listen(self) -> None:
        assert self._socket is not None
        while True:
            try:
                data = self._socket.recv(MAX_REQUEST)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            with self._replied:
                if "exited" in message and message["exited"] in self._forked:
                    self._forked.pop(message["exited"])._end(int(message["code"]))
                else:
                    self._replies.append(message)
                    self._replied.notify_all()
        with self._replied:  # the zygote is gone, and with it every fork (they die with it)
            for forked in self._forked.values():
                with contextlib.suppress(ProcessLookupError):  # now, not when the kernel gets to it
                    os.kill(forked.pid, signal.SIGKILL)
                forked.lost = True
                forked._end(-signal.SIGKILL)
            self._forked.clear()
            self._replies.append({"error": "the zygote ended"})
            self._replied.notify_all()

    def _stop(self) -> None:
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        if self._socket is not None:  # a kept zygote's session ends when it sees its socket close
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
            self._socket.close()

    def close(self) -> None:
        with self._lock:
            if self._started:
                self._stop()
                if self._process is not None:
                    self._log.close()
                    self._scratch.cleanup()
                    self._process = None
                self._started = False


# -- the zygote's side -------------------------------------------------------------------------
def serve(channel: socket.socket, backend: str, root: str) -> None:
    """Import Keras and the child's code, then fork a confined child for each request until the grader
    closes the socket; report each fork's pid, and its exit code once it ends."""
    prepare(backend)
    serve_forks(channel, os.open("/proc/self/ns/pid", os.O_RDONLY), root, {"ready": True})


def prepare(backend: str) -> None:
    """What a zygote holds: Keras on ``backend`` and the child's code imported, nothing else run."""
    from grader.runner import child, lazy  # noqa: F401 - what every fork runs

    lazy.defer()
    importlib.import_module(backend)
    import keras  # noqa: F401 - what every fork would otherwise import for itself


def serve_forks(channel: socket.socket, own_pids: int, root: str, ready: dict[str, Any]) -> None:
    """Say ``ready``, then fork a confined child for each request until the grader closes
    ``channel``; report each fork's pid, and its exit code once it ends. ``own_pids``: this
    process's PID namespace, which each fork leaves for a namespace of its own."""
    from grader.runner import child

    channel.send(json.dumps(ready).encode())
    forks: set[int] = set()
    while True:
        readable, _, _ = select.select([channel], [], [], REAP_EVERY_S)
        for pid in list(forks):
            with contextlib.suppress(ChildProcessError):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    forks.discard(pid)
                    code = os.waitstatus_to_exitcode(status)
                    channel.send(json.dumps({"exited": pid, "code": code}).encode())
        if not readable:
            continue
        if not channel.recv(1, socket.MSG_PEEK):
            return  # the grader is done
        try:
            pid = _fork(channel, own_pids, root, child.main)
        except Exception as error:  # told to the grader, which starts the child afresh
            channel.send(json.dumps({"error": f"{type(error).__name__}: {error}"}).encode())
            continue
        forks.add(pid)
        channel.send(json.dumps({"pid": pid}).encode())


def _fork(channel: socket.socket, own_pids: int, root: str, main: Any) -> int:
    """Fork the next child. The fork, not the zygote, reads the request and its file descriptors:
    nothing of any submission (its paths, its names, its pipes) is ever in the zygote, so no later
    fork can find it in the memory it is copied from."""
    sys.stdout.flush()
    sys.stderr.flush()
    taken_read, taken_write = os.pipe()
    confine.unshare(confine.CLONE_NEWPID)  # the next child is PID 1 of a namespace of its own
    try:
        pid = os.fork()
        if pid == 0:
            os.close(taken_read)
            _first(channel, taken_write, root, main)
    finally:
        confine.setns(own_pids, confine.CLONE_NEWPID)  # and the one after gets another
        os.close(taken_write)
    with os.fdopen(taken_read, "rb") as taken:
        ready, _, _ = select.select([taken], [], [], SPAWN_S)
        said = taken.read(1) if ready else b""
    if said != b"1":  # the request is still waiting: drop it, and the fork with it
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with contextlib.suppress(BlockingIOError):  # unless the fork took it before it ended
            _, ancillary, _, _ = channel.recvmsg(MAX_REQUEST, socket.CMSG_SPACE(4 * 4), socket.MSG_DONTWAIT)
            for fd in _descriptors(ancillary):
                os.close(fd)
        raise ZygoteError("a fork did not take its request")
    return pid


def _descriptors(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    found = array.array("i")
    for _level, _kind, raw in ancillary:
        found.frombytes(raw[: len(raw) - len(raw) % found.itemsize])
    return list(found)


def _first(channel: socket.socket, taken: int, root: str, main: Any) -> None:
    """PID 1 of the fork's namespace: take the request, confine, fork the child, then reap until
    it ends."""
    code = 127
    try:
        confine.die_with_parent()
        os.setsid()
        data, ancillary, _, _ = channel.recvmsg(MAX_REQUEST, socket.CMSG_SPACE(4 * 4))
        os.write(taken, b"1")
        request = json.loads(data)["spawn"]
        fds = _descriptors(ancillary)
        stdin, output, messages = fds
        _close_all_but([0, 1, 2, *fds])  # 0 to 2: the zygote's own (its log), until the child's
        confine.unshare(
            confine.CLONE_NEWNS
            | confine.CLONE_NEWNET
            | confine.CLONE_NEWIPC
            | confine.CLONE_NEWUTS
            | confine.CLONE_NEWCGROUP
        )
        from grader.runner.sandbox import limit_resources

        limit_resources(Limits(**request["limits"]), frozenset(request["cpus"]) or None)()
        confine.build_root(root, [Mount(kind, target, source) for kind, target, source in request["mounts"]])
        uid = int(request["uid"])
        if request.get("probe"):
            confine.drop_to(uid)
            os.write(messages, _probe_inside(request["work"]).encode())
            os._exit(0)
        forked = os.fork()
        if forked == 0:
            _child(request, (stdin, output, messages), uid, main)
        confine.drop_to(uid)
        confine.die_with_parent()  # again: a new user clears it. PID 1 gone, its namespace goes too
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        _close_all_but([0, 1, 2])
        os.execve(sys.executable, [sys.executable, "-I", "-S", "-c", REAPER, str(forked)], {})
    except BaseException as error:  # a fork that is not confined runs nothing
        with contextlib.suppress(OSError):
            os.write(2, f"grader: a forked child could not be confined: {error}\n".encode())
    os._exit(code)


def _probe_inside(work: str) -> str:
    """What a child would need, tried in a probe fork: "confined", or what is wrong."""
    with open("/dev/null", "r+b") as null:
        null.write(b"-")
    scratch = Path(work) / "tmp" / "probe"
    scratch.write_text("written")
    scratch.unlink()
    for place in ("/", "/usr", "/proc/sys"):
        if os.access(place, os.W_OK):
            return f"{place} is writable"
    if os.getpid() != 1 or len([name for name in os.listdir("/proc") if name.isdigit()]) != 1:
        return "other processes are visible"
    return "confined"


def _child(request: dict[str, Any], fds: tuple[int, int, int], uid: int, main: Any) -> None:
    """The child: a session of its own, its pipes on 0 to 3, then the child's main as ``uid``."""
    code = 127
    try:
        os.setsid()
        confine.die_with_parent()
        stdin, output, messages = fds
        for fd, target in ((stdin, 0), (output, 1), (output, 2), (messages, 3)):
            os.dup2(fd, target)
        _close_all_but([0, 1, 2, 3])
        confine.drop_to(uid)
        os.chdir(request["work"])
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # found again from TMPDIR, which is this child's
        argv = ["--messages-fd", "3", *request["argv"]]
        sys.argv = [
            str(Path(main.__code__.co_filename)),
            *argv,
        ]  # as ``python -m grader.runner.child`` has it
        code = main(argv)
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    except BaseException as error:  # said on its output, as a fresh child's traceback would be
        with contextlib.suppress(OSError):
            os.write(2, f"grader: the forked child failed: {type(error).__name__}: {error}\n".encode())
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(code)


def _close_all_but(keep: Sequence[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.runner.zygote")
    parser.add_argument("--socket-fd", type=int, required=True)
    parser.add_argument("--backend", required=True)
    parser.add_argument("--root", required=True, help="an empty folder: each fork's root is mounted there")
    args = parser.parse_args(argv)
    channel = socket.socket(fileno=args.socket_fd)
    try:
        serve(channel, args.backend, args.root)
    except Exception as error:  # the grader reads it and starts children afresh
        with contextlib.suppress(OSError):
            channel.send(json.dumps({"error": f"{type(error).__name__}: {error}"}).encode())
        raise
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
