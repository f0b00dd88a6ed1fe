"""The kernel calls that confine a builder forked from a zygote (grader/runner/zygote.py).

Bubblewrap cannot wrap a process that is already running, so a fork does for itself what
bubblewrap does for a new one: namespaces of its own (mount, PID, network, IPC, UTS, cgroup), a
fresh root holding only the sandbox's view (``grader.runner.sandbox.view``, the very list
bubblewrap builds from), read-only but for the submission's scratch, a /proc of its own PID
namespace, a minimal /dev; then it drops to a user with no account, with no capabilities and no
way to gain any (``no_new_privs``). Each step either works or raises: a fork that cannot be
confined never runs submission code.
"""

from __future__ import annotations

import ctypes
import os
import platform
from collections.abc import Sequence
from pathlib import Path

from grader.runner.sandbox import Mount

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}  # the syscall's number; glibc has no wrapper
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")  # what bubblewrap's --dev holds
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1"}
DEV_LINKS |= {"stderr": "/proc/self/fd/2"}

_libc = ctypes.CDLL(None, use_errno=True)


class ConfineError(OSError):
    """A step of confinement failed: the fork must not run anything."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise ConfineError(errno, f"{what}: {os.strerror(errno)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, flags: int) -> None:
    _check(_libc.setns(fd, flags), "setns")


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    encoded = [None if text is None else text.encode() for text in (source, target, kind, data)]
    _check(
        _libc.mount(encoded[0], encoded[1], encoded[2], ctypes.c_ulong(flags), encoded[3]), f"mount {target}"
    )


def die_with_parent() -> None:
    prctl(PR_SET_PDEATHSIG, 9)


def _mounts() -> dict[bytes, str]:
    """This namespace's mounts, by ID: where each is (/proc/self/mountinfo, escapes decoded)."""
    with open("/proc/self/mountinfo", "rb") as table:
        rows = [line.split() for line in table]
    return {row[0]: row[4].decode("unicode_escape") for row in rows}  # \\040 for a space


def _bind(source: str, target: str, *, writable: bool, device: bool = False) -> None:
    before = _mounts()
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if device else MS_NODEV) | (0 if writable else MS_RDONLY)
    for key, point in _mounts().items():  # the bind and every mount it brought along, read-only too
        if key not in before:
            mount(None, point, None, flags)


def _make(path: str, *, like: str = "") -> None:
    """A mount point at ``path``: a folder, or an empty file where ``like`` is a file."""
    if os.path.isdir(like or path) or not like:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.lexists(path):
            with open(path, "wb"):
                pass


def build_root(root: str, mounts: Sequence[Mount]) -> None:
    """In a new mount namespace, make ``root`` (an empty folder) the root of a view holding only
    ``mounts``, and move into it; the old root is detached. Called as root, before any drop."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here reaches the grader's namespace
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for step in mounts:
        inside = root + step.target
        if step.kind in ("ro", "ro-try", "rw", "device"):
            if not os.path.exists(step.source):
                if step.kind == "ro-try":
                    continue
                raise ConfineError(2, f"{step.source} is missing")
            _make(inside, like=step.source)
            _bind(step.source, inside, writable=step.kind != "ro", device=step.kind == "device")
        elif step.kind == "tmpfs":
            _make(inside)
            mount("tmpfs", inside, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
        elif step.kind == "symlink":
            os.makedirs(os.path.dirname(inside), exist_ok=True)
            os.symlink(step.source, inside)
        elif step.kind == "proc":
            _make(inside)
            mount("proc", inside, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        elif step.kind == "dev":
            _make(inside)
            mount("tmpfs", inside, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755")
            for name in DEVICES:
                _make(f"{inside}/{name}", like=f"/dev/{name}")
                _bind(f"/dev/{name}", f"{inside}/{name}", writable=True, device=True)
            for name, target in DEV_LINKS.items():
                os.symlink(target, f"{inside}/{name}")
            os.mkdir(f"{inside}/shm")
        else:
            raise ConfineError(22, f"unknown mount {step.kind}")
    os.mkdir(f"{root}/.old")
    _check(
        _libc.syscall(PIVOT_ROOT[platform.machine()], root.encode(), f"{root}/.old".encode()), "pivot_root"
    )
    os.chdir("/")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount the old root")
    os.rmdir("/.old")
    mount(None, "/dev", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC)  # the nodes are mounts
    mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)  # the view's own folders


def drop_to(uid: int) -> None:
    """Become ``uid`` for good: no groups, no capabilities (bounding and ambient sets emptied too),
    and ``no_new_privs``, so no set-user-ID program can give any back. Checked, not assumed."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        prctl(PR_CAPBSET_DROP, capability)
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    # Changing user left this process undumpable, so its /proc files stayed root's: a fork, which
    # never execs, could not lower its own autogroup's priority (a pace-setter then took half of
    # the core it paces). An exec'd child, as bubblewrap starts one, owns them: so does this one.
    prctl(PR_SET_DUMPABLE, 1)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    held = [name for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb") if int(status[name], 16)]
    if held or set(os.getresuid()) != {uid} or set(os.getresgid()) != {uid} or os.getgroups():
        raise ConfineError(1, f"privileges were not dropped ({', '.join(held) or 'user'})")
