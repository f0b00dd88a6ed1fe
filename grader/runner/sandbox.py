"""The sandbox around a runner child: bubblewrap where it works, plain process isolation elsewhere.

Under bubblewrap the child gets no network, its own PID namespace (nothing outlives it), a
read-only view of only what it needs (system libraries, the Python installation, the grader's
own code, the submission's copy) and one writable folder, its scratch, which is also HOME and
TMPDIR. The grader's data, caches, results and every other submission are simply not there.
Where bubblewrap cannot run, ``auto`` falls back to a child with a scrubbed environment and
resource limits and says so; ``required`` refuses to grade.
"""

from __future__ import annotations

import functools
import glob
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.apt import apt_install
from grader.settings import MB, Limits

MODES = ("auto", "required", "off")
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group")
HIDDEN_DIRS = ("/usr/share/datasets",)  # Debian's datasets, test labels included, live under /usr
SANDBOX_UID = 1000
MAX_OPEN_FILES = 1024
CPU_GRACE_S = 5  # SIGXCPU at the limit, SIGKILL this much later


class SandboxError(RuntimeError):
    """The sandbox was required but cannot run here."""


@dataclass(frozen=True)
class Sandbox:
    """How children are isolated: ``bubblewrap``, or ``process`` (with ``reason`` saying why)."""

    kind: Literal["bubblewrap", "process"]
    reason: str = ""

    def describe(self) -> str:
        if self.kind == "bubblewrap":
            return "bubblewrap (no network, private PID namespace, read-only view, private scratch)"
        return f"process isolation only ({self.reason})"

    def command(
        self, argv: Sequence[str], *, work: Path, readable: Sequence[Path], env: dict[str, str]
    ) -> list[str]:
        """``argv`` wrapped for this sandbox; ``work`` is the only writable folder."""
        if self.kind == "process":
            return list(argv)
        wrapped = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
        wrapped += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
        for folder in SYSTEM_DIRS:
            wrapped += ["--ro-bind-try", folder, folder]
        for file in SYSTEM_FILES:
            wrapped += ["--ro-bind-try", file, file]
        for folder in HIDDEN_DIRS:
            if Path(folder).is_dir():
                wrapped += ["--tmpfs", folder]
        scratch = str(work / "tmp")  # on disk, not RAM, where every byte written counts (limits.disk_mb)
        wrapped += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--bind",
            scratch,
            "/tmp",
            "--bind",
            scratch,
            "/dev/shm",
        ]
        for device in sorted(glob.glob("/dev/nvidia*")):  # a GPU, where the machine has one
            wrapped += ["--dev-bind", device, device]
        paths = [Path(p).resolve() for p in readable]
        inside = [p for p in paths if p.is_relative_to(work.resolve())]
        for path in dict.fromkeys(
            str(p) for p in paths if p not in inside
        ):  # after /tmp: a venv may be there
            wrapped += ["--ro-bind", path, path]
        wrapped += ["--bind", str(work), str(work)]
        for path in inside:  # read-only islands in the scratch, such as the submission's copy
            wrapped += ["--ro-bind", str(path), str(path)]
        wrapped += ["--chdir", str(work), "--clearenv"]
        for key, value in env.items():
            wrapped += ["--setenv", key, value]
        return [*wrapped, "--", *argv]


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


def choose(mode: str = "auto") -> Sandbox:
    """The sandbox for ``mode``: ``auto`` (bubblewrap if it runs), ``required`` or ``off``."""
    if mode not in MODES:
        raise SandboxError(f"--sandbox must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "off":
        return Sandbox("process", "the sandbox was turned off")
    problem = _bubblewrap_problem()
    if problem is None:
        return Sandbox("bubblewrap")
    if mode == "required":
        raise SandboxError(f"the sandbox is required but {problem}; grading refused.")
    return Sandbox("process", problem)


def install_bubblewrap() -> str:
    """Install Debian's bubblewrap with apt-get when it is missing (needs root); say what happened."""
    if shutil.which("bwrap"):
        return f"bubblewrap is installed ({shutil.which('bwrap')})"
    problem = apt_install("bubblewrap")
    if problem:
        raise SandboxError(f"bwrap is missing and {problem}; install bubblewrap by hand.")
    _bubblewrap_problem.cache_clear()
    return f"bubblewrap installed ({shutil.which('bwrap')})"


def limit_resources(limits: Limits, cpus: frozenset[int] | None = None) -> Callable[[], None]:
    """A ``preexec_fn`` setting the kernel's limits every child gets, sandboxed or not (memory,
    process counts, disk writes and cores are the watchdog's: see ``grader.runner.watchdog``),
    and pinning it to ``cpus`` (the grade's own cores)."""
    file_bytes = limits.file_mb * MB

    def apply() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (MAX_OPEN_FILES, MAX_OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + CPU_GRACE_S))

    return apply
