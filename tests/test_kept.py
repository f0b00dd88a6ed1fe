"""A zygote kept warm between grades (``grader warm``): a grade forks its children from it and
grades exactly as with a zygote of its own; its forks can neither see nor reach it; only its own
user can use it; a grade killed mid-build leaves nothing while it serves on; a grade from other
code never uses it; and it ends when told to or when idle.

Real children on real submissions; the grader runs as root wherever children are forked, so these
skip elsewhere.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from rich.console import Console

from grader.cli import main
from grader.runner import kept
from grader.runner.sandbox import SandboxError, choose
from grader.runner.supervisor import PhaseFailed, Runner, _alive, base_env
from grader.runner.watchdog import tree
from grader.runner.zygote import Forked, Zygote, problem
from tests.conftest import BACKEND, CLASS_ASSIGNMENT, SUBMISSIONS
from tests.test_zygote import builder, gone, grader_in_a_build

SNOOP = """
import json, os, socket, stat
seen = {"processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), "uid": os.getuid()}
try:
    reach = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    reach.connect(open(os.path.join(os.path.dirname(__file__), "socket.txt")).read())
    seen["reached"] = "connected"
except OSError as error:
    seen["reached"] = type(error).__name__
seen["sockets"] = []
for top in ("/tmp", "/run", "/root", "/home", "/var", "/dev"):
    for folder, _, names in os.walk(top):
        for name in names:
            try:
                if stat.S_ISSOCK(os.lstat(os.path.join(folder, name)).st_mode):
                    seen["sockets"].append(os.path.join(folder, name))
            except OSError:
                pass
seen["keras_home"] = sorted(os.listdir(os.environ["KERAS_HOME"])) if "KERAS_HOME" in os.environ else None
print("SEEN " + json.dumps(seen))

def build_model():
    raise RuntimeError("only looking")
"""
CONNECT = """
import json, socket, sys
channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
channel.settimeout(10)
try:
    channel.connect(sys.argv[1])
    channel.send(json.dumps({"session": True}).encode())
    print("answered" if channel.recv(65536) else "closed")
except OSError as error:
    print(type(error).__name__)
"""


def settled(pid: int, within_s: float = 10.0) -> bool:
    """The kept zygote ``pid`` serves no grade and has no process under it but itself."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if tree(pid) == [pid] and [k.sessions for k in kept.running()] == [0]:
            return True
        time.sleep(0.1)
    return False


def test_a_grade_forks_its_children_from_the_kept_zygote_and_grades_exactly_as_without_it(
    kept_zygote, grading_cache, monkeypatch
):
    from grader.grade import grade

    forked: dict[str, int | None] = {}
    start = Runner.start

    def recording(self):
        started = start(self)
        if self.work.name in ("run", "train", "verify"):  # the grade's own (not the calibration's)
            assert isinstance(self._process, Forked) and self.zygote is not None
            forked[self.work.name] = self.zygote.kept
        return started

    monkeypatch.setattr(Runner, "start", recording)
    quiet = Console(file=io.StringIO())
    kwargs = {
        "assignment": CLASS_ASSIGNMENT,
        "backend": BACKEND,
        "cache_root": grading_cache,
        "console": quiet,
    }
    warm = grade(SUBMISSIONS / "alice", **kwargs)
    assert forked == {"run": kept_zygote.pid, "train": kept_zygote.pid, "verify": kept_zygote.pid}
    assert settled(kept_zygote.pid)  # the grade's session ended, and every fork with it
    with monkeypatch.context() as elsewhere:
        elsewhere.setattr(kept, "FOLDER", kept.FOLDER.parent / "none-kept-here")
        own = grade(SUBMISSIONS / "alice", **kwargs)
    assert forked == {"run": None, "train": None, "verify": None}  # forked from a zygote of its own
    assert warm.score == own.score == warm.possible, (warm.problem, own.problem)
    assert warm.metrics.accuracy == own.metrics.accuracy


def test_forks_of_a_kept_zygote_see_neither_it_nor_its_socket(kept_zygote, tmp_path):
    folder = tmp_path / "snoop"
    folder.mkdir()
    (folder / "model.py").write_text(SNOOP)
    (folder / "socket.txt").write_text(kept_zygote.socket)
    zygote = Zygote(BACKEND, base_env(BACKEND))
    seen = []
    try:
        for name in ("first", "second"):
            with builder(folder, tmp_path / name, zygote) as child:
                assert isinstance(child._process, Forked) and zygote.kept == kept_zygote.pid
                with pytest.raises(PhaseFailed, match="only looking"):
                    child.build()
                seen.append(json.loads(child.log_tail().split("SEEN ", 1)[1].splitlines()[0]))
    finally:
        zygote.close()
    for found in seen:
        assert found["processes"] == [1, 2] and found["uid"] != 0
        assert found["reached"] == "FileNotFoundError"  # its folder is not in the fork's view
        assert found["sockets"] == []
        assert found["keras_home"] == []  # its own, empty: not the kept zygote's
    assert settled(kept_zygote.pid)


def test_the_kept_zygote_answers_its_own_user_only(kept_zygote):
    """Another user is kept out by the socket's mode and, were that opened, by the zygote itself,
    which checks each caller's credentials."""
    path = Path(kept_zygote.socket)
    info = path.stat()
    assert info.st_uid == os.geteuid() and info.st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o022 == 0

    def as_nobody() -> str:
        said = subprocess.run(
            ["/usr/bin/python3", "-I", "-S", "-c", CONNECT, str(path)],
            user=65534,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return said.stdout.strip() or said.stderr

    assert as_nobody() == "PermissionError"
    folder_mode = path.parent.stat().st_mode & 0o777
    try:
        path.parent.chmod(0o755)
        path.chmod(0o666)
        # it connected, and the zygote hung up without a word (before or after it was asked)
        assert as_nobody() in ("closed", "ConnectionResetError", "BrokenPipeError")
    finally:
        path.chmod(0o600)
        path.parent.chmod(folder_mode)
    assert [k.pid for k in kept.running()] == [kept_zygote.pid]


def test_a_grade_killed_mid_build_leaves_no_fork_and_the_kept_zygote_serves_on(kept_zygote, tmp_path):
    grader, zygote_pid, fork_pid = grader_in_a_build(tmp_path, kept.FOLDER)
    assert zygote_pid == kept_zygote.pid
    started = tree(fork_pid)
    assert len(started) == 2  # PID 1 of its namespace, and the builder
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    assert gone(started)
    assert settled(kept_zygote.pid)
    zygote = Zygote(BACKEND, base_env(BACKEND))
    try:
        assert zygote.available() and zygote.kept == kept_zygote.pid
    finally:
        zygote.close()


def test_a_kept_zygote_made_from_other_code_is_never_used(kept_zygote, tmp_path, monkeypatch):
    env = base_env(BACKEND)
    package = tmp_path / "code" / "probe_package"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("ANSWER = 1\n")
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.setattr(kept, "CODE", ("probe_package",))
    before = kept.key(BACKEND, env)
    (package / "__init__.py").write_text("ANSWER = 2\n")
    assert kept.key(BACKEND, env) != before
    assert kept.key(BACKEND, {**env, "EXTRA": "1"}) != kept.key(BACKEND, env)
    monkeypatch.undo()

    real = kept.key
    monkeypatch.setattr(kept, "key", lambda backend, env: real(backend, env) + "-changed")
    zygote = Zygote(BACKEND, env)
    try:
        assert zygote.available(), zygote.broken
        assert zygote.kept is None and zygote._process is not None  # a zygote of its own
    finally:
        zygote.close()


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Kept zygotes in a folder of the test's own; whatever the test leaves there is stopped."""
    monkeypatch.setattr(kept, "FOLDER", tmp_path / "kept")
    yield kept.FOLDER
    kept.stop()


def test_grader_warm_starts_lists_and_stops_and_an_idle_one_ends_by_itself(
    elsewhere, tmp_path, monkeypatch, capsys
):
    if (reason := problem(choose("auto").kind)) is not None:
        pytest.skip(reason)
    assert main(["warm"]) == 0
    assert "No zygote is kept warm" in capsys.readouterr().out
    assert main(["warm", "start", "--backend", BACKEND, "--idle", "0.05"]) == 0  # three seconds
    assert f"Kept warm: {BACKEND}" in capsys.readouterr().out
    (found,) = kept.running()
    deadline = time.monotonic() + 60
    while _alive(found.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(found.pid) and kept.running() == []
    assert not Path(found.socket).exists()

    assert main(["warm", "start", "--backend", BACKEND]) == 0
    (again,) = kept.running()
    assert again.idle_limit_s == 1800
    capsys.readouterr()
    with monkeypatch.context() as upgraded:  # as after an upgrade or an edit of the grader's code
        real = kept.key
        upgraded.setattr(kept, "key", lambda backend, env: real(backend, env) + "-changed")
        assert main(["warm"]) == 0
        said = " ".join(capsys.readouterr().out.split())  # as wrapped to the terminal's width
        assert "Made from other code or versions: no grade from this one uses it." in said
    zygote = Zygote(BACKEND, base_env(BACKEND))
    try:
        assert zygote.available() and zygote.kept == again.pid
        assert main(["warm", "stop"]) == 0
        assert "Stopped 1 kept zygote." in capsys.readouterr().out
        assert kept.running() == [] and not Path(again.socket).exists()
        # a grade that was using it goes on to its end, and the kept zygote ends after it
        with builder(SUBMISSIONS / "alice", tmp_path / "work", zygote) as child:
            assert isinstance(child._process, Forked)
            assert child.build().facts.total_params > 0
        assert _alive(again.pid)
    finally:
        zygote.close()
    assert gone([again.pid])


def test_grader_warm_start_says_why_where_no_zygote_can_be_kept(elsewhere, monkeypatch, capsys):
    import grader.runner.zygote

    monkeypatch.setattr(grader.runner.zygote, "problem", lambda kind: "forking a confined child needs root")
    assert main(["warm", "start"]) == 1
    said = " ".join(capsys.readouterr().out.split())
    assert "No zygote can be kept here: forking a confined child needs root." in said
    assert kept.running() == []


def test_no_zygote_is_kept_or_used_where_another_user_could_change_its_folder(kept_zygote):
    """Another user who could change the folder could put a socket of their own where a grade
    looks for the kept zygote: such a folder is refused by ``grader warm start`` and by every grade."""
    folder = kept.FOLDER
    mode = folder.stat().st_mode & 0o777
    try:
        folder.chmod(0o777)
        with pytest.raises(SandboxError, match="is not a folder that only this user can change"):
            kept.start(BACKEND, base_env(BACKEND))
        zygote = Zygote(BACKEND, base_env(BACKEND))
        try:
            assert zygote.available(), zygote.broken
            assert zygote.kept is None and zygote._process is not None  # a zygote of its own
        finally:
            zygote.close()
    finally:
        folder.chmod(mode)
    assert [k.pid for k in kept.running()] == [kept_zygote.pid]
