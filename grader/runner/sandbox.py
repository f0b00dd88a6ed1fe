"""The sandbox around a runner child: bubblewrap where it works, plain process isolation elsewhere.

Under bubblewrap the child gets no network, its own PID namespace (nothing outlives it), a
read-only view of only what it needs (system libraries, the Python installation, the grader's
own code, the submission's copy) and one writable folder, its scratch, which is also HOME and
TMPDIR. The grader's data, caches, results and every other submission are simply not there.
Where bubblewrap cannot run, ``auto`` falls back to a child with a scrubbed environment and
resource limits and says so; ``required`` refuses to grade. A grader running as root (as in a
Gradescope container) never runs a child as root: the fallback runs it as a user with no account
and no files (``FALLBACK_UID`` and up), which can read neither the grader's data and caches nor
the results, in a network namespace of its own where the kernel allows one.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import glob
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.apt import apt_install
from grader.runner.files import own_folder
from grader.settings import MB, Limits

MODES = ("auto", "required", "off")
# /etc/alternatives: links under /usr lead through it (Debian's update-alternatives), CUDA's among
# them (/usr/local/cuda -> /etc/alternatives/cuda -> /usr/local/cuda-13.0, where XLA finds ptxas)
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc/alternatives")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group")
HIDDEN_DIRS = ("/usr/share/datasets",)  # Debian's datasets, test labels included, live under /usr
SANDBOX_UID = 1000
FALLBACK_UID = 64000  # users with no account, one for each child alive on this machine
USERS = range(FALLBACK_UID, 65534)  # up to nobody (65534)
# Root's own: one lock for each user a child of any grader on this machine holds, the grader's
# claim; the first of these folders that can be made, or is there already as root's alone
USER_LOCKS = (Path("/run/grader-users"), Path("/tmp/grader-users"))
CLONE_NEWNET = 0x40000000
MAX_OPEN_FILES = 1024
CPU_GRACE_S = 5  # SIGXCPU at the limit, SIGKILL this much later


class SandboxError(RuntimeError):
    """The sandbox was required but cannot run here."""


@dataclass(frozen=True)
class Sandbox:
    """How children are isolated: ``bubblewrap``, or ``process`` (with ``reason`` saying why)."""

    kind: Literal["bubblewrap", "process"]
    reason: str = ""
    unprivileged: bool = False  # the process fallback under root: a user of its own (claim_user)
    network_open: bool = True  # the process fallback could not give the child a network of its own

    def describe(self) -> str:
        if self.kind == "bubblewrap":
            return "bubblewrap (no network, private PID namespace, read-only view, private scratch)"
        if self.unprivileged:
            network = "network open" if self.network_open else "no network"
            return f"process isolation as an unprivileged user, {network} ({self.reason})"
        return f"process isolation only ({self.reason})"

    def claim_uid(self) -> int | None:
        """The user a new child runs as, its own until ``release_uid``; None to keep the grader's
        (and bubblewrap's)."""
        return claim_user() if self.unprivileged else None

    @staticmethod
    def release_uid(uid: int | None) -> None:
        if uid is not None:
            release_user(uid)

    def hand_over(self, work: Path, uid: int) -> None:
        """Give the fallback's child ``work`` (it writes there) and let it read what it is handed;
        the grade's scratch root around ``work`` is opened to passing through, never to listing."""
        work.parent.chmod(work.parent.stat().st_mode | 0o001)
        if problem := closed_to_others(work, read=False):
            raise SandboxError(f"the child's scratch is out of its reach: {problem}")
        give(work, uid)

    def command(
        self, argv: Sequence[str], *, work: Path, readable: Sequence[Path], env: dict[str, str]
    ) -> list[str]:
        """``argv`` wrapped for this sandbox; ``work`` is the only writable folder."""
        if self.kind == "process":
            return list(argv)
        wrapped = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
        wrapped += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
        for mount in view(work, readable):
            wrapped += [BWRAP_OPTIONS[mount.kind], *((mount.source,) if mount.source else ()), mount.target]
        wrapped += ["--chdir", str(work), "--clearenv"]
        for key, value in env.items():
            wrapped += ["--setenv", key, value]
        return [*wrapped, "--", *argv]


def give(work: Path, uid: int) -> None:
    """Make ``uid`` the owner of what is in ``work``, but for the submission's copy, which it may
    only read (a forked builder reaches ``work`` through its own view, not the grader's folders)."""
    os.chown(work, uid, uid)
    for path in work.iterdir():
        inside = [path, *(path.rglob("*") if path.is_dir() and not path.is_symlink() else ())]
        for inner in inside:
            if path.name != "submission":
                os.chown(inner, uid, uid, follow_symlinks=False)
            elif not inner.is_symlink():  # read, never written: the grader's copy stays the grader's
                inner.chmod(inner.stat().st_mode | (0o555 if inner.is_dir() else 0o444))


@dataclass(frozen=True)
class Mount:
    """One step of building a child's view of the files: ``kind`` is one of ``BWRAP_OPTIONS``."""

    kind: str
    target: str
    source: str = ""


BWRAP_OPTIONS = {
    "ro": "--ro-bind",
    "ro-try": "--ro-bind-try",  # skipped where the source does not exist
    "rw": "--bind",
    "device": "--dev-bind",
    "tmpfs": "--tmpfs",
    "symlink": "--symlink",  # source: what the link holds
    "proc": "--proc",
    "dev": "--dev",
}


def view(work: Path, readable: Sequence[Path]) -> list[Mount]:
    """What a sandboxed child sees, in the order it is built: read-only system folders and
    ``readable``, ``work`` writable (its ``tmp`` also as /tmp and /dev/shm), read-only islands inside
    ``work`` (the submission's copy), nothing else. Bubblewrap (``Sandbox.command``) and a builder
    forked from a zygote (grader/runner/zygote.py) both build exactly this."""
    mounts = [Mount("ro-try", folder, folder) for folder in (*SYSTEM_DIRS, *SYSTEM_FILES)]
    scratch = str(work / "tmp")  # on disk, not RAM, where every byte written counts (limits.disk_mb)
    mounts += [Mount("proc", "/proc"), Mount("dev", "/dev"), Mount("rw", "/tmp", scratch)]
    mounts += [Mount("rw", "/dev/shm", scratch)]
    mounts += [Mount("device", device, device) for device in sorted(glob.glob("/dev/nvidia*"))]  # a GPU
    paths = [Path(p).resolve() for p in readable]
    inside = [p for p in paths if p.is_relative_to(work.resolve())]
    for path in dict.fromkeys(str(p) for p in paths if p not in inside):  # after /tmp: a venv may be there
        mounts.append(Mount("ro", path, path))
    bound = [Path(folder) for folder in SYSTEM_DIRS] + paths
    for link in dict.fromkeys(link for path in readable for link in links_on_the_way(Path(path))):
        if not any(link.is_relative_to(folder) for folder in bound):  # made again where it was
            mounts.append(Mount("symlink", str(link), os.readlink(link)))
    for folder in HIDDEN_DIRS:  # after every bind: a Python in /usr binds all of /usr again
        if Path(folder).is_dir():
            mounts.append(Mount("tmpfs", folder))
    mounts.append(Mount("rw", str(work), str(work)))
    mounts += [Mount("ro", str(island), str(island)) for island in inside]  # the submission's copy
    return mounts


def claim_user() -> int:
    """A user with no account that no other child on this machine runs as, its own until
    ``Sandbox.release_uid``. Users are claimed across processes, not only within this one: the
    watchdog counts, and a stopped child's sweep kills, every process running as a child's user, so
    two graders on one machine (two classes, or a class beside ``grader check``) must never share
    one. A claim is a lock the kernel lets go of when the grader ends, however it ends; a user some
    process still runs as (left by a grader that was killed) is passed over."""
    claims = _claims_folder()
    with _uids_lock:
        running = _users_running()
        for uid in USERS:
            if uid in _uids_held or uid in running:
                continue
            lock = os.open(claims / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lock)  # another grader's child runs as it
                continue
            _uids_held[uid] = lock
            return uid
    raise SandboxError(
        f"all {len(USERS):,} users a child may run as ({USERS.start} to {USERS.stop - 1}) are taken by "
        "children of graders on this machine; grade fewer at once (--jobs)"
    )


def _claims_folder() -> Path:
    """Where every grader on this machine keeps its claims: a folder only this user can change."""
    for folder in USER_LOCKS:
        if own_folder(folder):
            return folder
    raise SandboxError(
        "no folder to keep the claims on children's users in: "
        + " or ".join(str(folder) for folder in USER_LOCKS)
        + " must be a folder only the grader's user can change"
    )


def release_user(uid: int) -> None:
    """Another child may run as ``uid`` once no process does (``claim_user``)."""
    with _uids_lock:
        lock = _uids_held.pop(uid, None)
    if lock is not None:
        os.close(lock)  # and with it the claim


def _users_running() -> set[int]:
    """The users some process on this machine runs as now (its real, effective or saved user)."""
    found: set[int] = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry.name}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"Uid:"):
                        found.update(int(uid) for uid in line.split()[1:4])
                        break
    return found


_uids_held: dict[int, int] = {}  # this grader's claims: each user's lock

_uids_lock = threading.Lock()


@functools.cache
def _bubblewrap_problem() -> str | None:
    """None when bubblewrap runs here; otherwise why not (checked once per process)."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux; this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (Debian: apt-get install bubblewrap)"
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as work:
        (Path(work) / "tmp").mkdir()
        probe = Sandbox("bubblewrap").command(["/bin/true"], work=Path(work), readable=[], env={})
        try:
            result = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bwrap could not start ({error})"
    if result.returncode != 0:
        return f"bwrap cannot create its namespaces here ({result.stderr.strip()[:200]})"
    return None


def closed_to_others(path: Path, *, read: bool = True) -> str:
    """Why a user with no account cannot reach ``path`` (a folder on the way it cannot pass
    through; with ``read``, ``path`` itself it cannot read), or "" when it can."""
    path = path.resolve()
    for folder in reversed(path.parents):
        if not folder.stat().st_mode & 0o001:
            return f"{folder} is closed to other users"
    needed = 0o005 if path.is_dir() else 0o004
    if read and path.stat().st_mode & needed != needed:
        return f"{path} is not readable by other users"
    return ""


def links_on_the_way(path: Path) -> list[Path]:
    """Every symbolic link met on the way from ``path`` to what it names. The sandbox binds what
    a path resolves to, so a link outside what it binds is made again there: a virtual
    environment made from uv's Python names ``cpython-3.11-linux-x86_64-gnu/bin/python3.11``, a
    link to the ``cpython-3.11.7-…`` folder, and without it the child's Python cannot start."""
    links: list[Path] = []
    current = Path(os.path.abspath(path))
    for _ in range(40):  # as the kernel does, give up on a loop
        link = next((p for p in [*reversed(current.parents), current] if p.is_symlink()), None)
        if link is None:
            break
        links.append(link)
        current = Path(os.path.normpath(link.parent / os.readlink(link) / current.relative_to(link)))
    return links


def runtime_paths() -> list[Path]:
    """What every child needs to read: the Python installation and the grader's own packages."""
    import grader
    import reference

    return [
        Path(sys.executable),
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(grader.__file__).parent,
        Path(reference.__file__).parent,
    ]


def _fallback(reason: str) -> Sandbox:
    """Process isolation; under root, as an unprivileged user that must be able to run Python."""
    if os.geteuid() != 0:
        return Sandbox("process", reason)
    for path in runtime_paths():
        if problem := closed_to_others(path):
            raise SandboxError(
                f"without bubblewrap ({reason}) a child runs as an unprivileged user, and it cannot "
                f"start Python here: {problem}. Install the grader in a Python every user can read "
                "(such as /usr/bin/python3 with a virtual environment outside /root), or bubblewrap."
            )
    return Sandbox("process", reason, unprivileged=True, network_open=_network_problem() is not None)


def choose(mode: str = "auto") -> Sandbox:
    """The sandbox for ``mode``: ``auto`` (bubblewrap if it runs), ``required`` or ``off``."""
    if mode not in MODES:
        raise SandboxError(f"--sandbox must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "off":
        return _fallback("the sandbox was turned off")
    problem = _bubblewrap_problem()
    if problem is None:
        return Sandbox("bubblewrap")
    if mode == "required":
        raise SandboxError(f"the sandbox is required but {problem}; grading refused.")
    return _fallback(problem)


def _unshare_network() -> None:
    """Move the calling process into a network namespace of its own (only a loopback, down)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")


@functools.cache
def _network_problem() -> str | None:
    """None when a child can get a network namespace of its own without bubblewrap (root with
    CAP_SYS_ADMIN); otherwise why not."""
    try:
        subprocess.run(["/bin/true"], preexec_fn=_unshare_network, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        return f"no network namespace ({error})"
    return None


def install_bubblewrap() -> str:
    """Install Debian's bubblewrap with apt-get when it is missing (needs root); say what happened."""
    if shutil.which("bwrap"):
        return f"bubblewrap is installed ({shutil.which('bwrap')})"
    problem = apt_install("bubblewrap")
    if problem:
        raise SandboxError(f"bwrap is missing and {problem}; install bubblewrap by hand.")
    _bubblewrap_problem.cache_clear()
    return f"bubblewrap installed ({shutil.which('bwrap')})"


def limit_resources(
    limits: Limits,
    cpus: frozenset[int] | None = None,
    *,
    sandbox: Sandbox | None = None,
    uid: int | None = None,
) -> Callable[[], None]:
    """A ``preexec_fn`` setting the kernel's limits every child gets, sandboxed or not (memory,
    process counts, disk writes and cores are the watchdog's: see ``grader.runner.watchdog``),
    pinning it to ``cpus`` (the grade's own cores) and, in the fallback under root, cutting its
    network where it can and dropping to its unprivileged ``uid``."""
    cut_network = sandbox is not None and sandbox.unprivileged and not sandbox.network_open
    file_bytes = limits.file_mb * MB

    def apply() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (MAX_OPEN_FILES, MAX_OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + CPU_GRACE_S))
        if cut_network:
            _unshare_network()
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)

    return apply
