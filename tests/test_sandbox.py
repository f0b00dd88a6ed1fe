"""The sandbox's choice and its command line; the corpus in test_hostile.py shows what it holds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.runner.sandbox import (
    FALLBACK_UID,
    Sandbox,
    SandboxError,
    choose,
    closed_to_others,
    links_on_the_way,
)


def test_required_refuses_without_bubblewrap(monkeypatch):
    import grader.runner.sandbox as sandbox

    monkeypatch.setattr(sandbox, "_bubblewrap_problem", lambda: "bwrap is not installed")
    with pytest.raises(SandboxError, match="required but bwrap is not installed"):
        choose("required")
    monkeypatch.setattr(sandbox, "runtime_paths", lambda: [])
    monkeypatch.setattr(sandbox, "_network_problem", lambda: None)
    as_root = os.geteuid() == 0  # root's children drop to a user with no account
    assert choose("auto") == Sandbox(
        "process", "bwrap is not installed", unprivileged=as_root, network_open=not as_root
    )
    assert choose("off").kind == "process"


def test_under_root_the_fallback_needs_a_python_every_user_can_read(monkeypatch, tmp_path):
    import grader.runner.sandbox as sandbox

    private = tmp_path / "python"
    private.mkdir(mode=0o700)
    monkeypatch.setattr(sandbox, "runtime_paths", lambda: [private])
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    with pytest.raises(SandboxError, match="runs as an unprivileged user, and it cannot start Python here"):
        choose("off")
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)  # not root: the grader's own user
    assert choose("off") == Sandbox("process", "the sandbox was turned off")


@pytest.fixture
def open_tmp():
    """A folder every user can pass through, as /tmp is (pytest's own tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="grader-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_closed_to_others_names_the_folder_in_the_way(open_tmp):
    tmp_path = open_tmp
    shut = tmp_path / "shut"
    (shut / "open").mkdir(parents=True)
    (shut / "open" / "labels.npy").write_bytes(b"x")
    for path, mode in (
        (tmp_path, 0o755),
        (shut, 0o700),
        (shut / "open", 0o755),
        (shut / "open" / "labels.npy", 0o644),
    ):
        path.chmod(mode)
    if closed_to_others(tmp_path):
        pytest.skip(f"this test's folder is itself closed: {closed_to_others(tmp_path)}")
    assert closed_to_others(shut / "open" / "labels.npy") == f"{shut} is closed to other users"
    shut.chmod(0o711)  # passable, not listable
    assert closed_to_others(shut / "open" / "labels.npy") == ""
    assert closed_to_others(shut) == f"{shut} is not readable by other users"
    assert closed_to_others(shut, read=False) == ""
    (shut / "open" / "labels.npy").chmod(0o600)
    assert closed_to_others(shut / "open" / "labels.npy").endswith(
        "labels.npy is not readable by other users"
    )


@pytest.fixture
def users(tmp_path, monkeypatch):
    """A few users of this test's own to claim, and a folder of its own for the claims: the suite's
    other workers grade beside it and claim the real ones."""
    import grader.runner.sandbox as sandbox

    def few(first: int, count: int) -> range:
        monkeypatch.setattr(sandbox, "USERS", range(first, first + count))
        return sandbox.USERS

    monkeypatch.setattr(sandbox, "USER_LOCKS", (tmp_path / "users",))
    return few


def test_each_child_of_the_fallback_has_a_user_of_its_own(users):
    users(70000, 4)
    fallback = Sandbox("process", "test", unprivileged=True)
    first, second, third = (fallback.claim_uid() for _ in range(3))
    try:
        assert len({first, second, third}) == 3 and min(first, second, third) >= 70000
        assert Sandbox("bubblewrap").claim_uid() is None
    finally:
        for uid in (first, second, third):
            Sandbox.release_uid(uid)
    assert fallback.claim_uid() == first  # released, so free again
    Sandbox.release_uid(first)


CLAIM_AND_HOLD = """
import sys
from pathlib import Path
import grader.runner.sandbox as sandbox
sandbox.USERS = range(int(sys.argv[1]), int(sys.argv[2]))
sandbox.USER_LOCKS = (Path(sys.argv[3]),)
print(sandbox.claim_user(), flush=True)
sys.stdin.read()
"""


def test_two_graders_on_one_machine_never_share_a_user_and_a_dead_one_holds_none(users):
    """The watchdog counts, and a stopped child's sweep kills, every process of a child's user: a
    user shared by two graders (two classes at once) let one kill the other's builders."""
    import grader.runner.sandbox as sandbox

    claimed = users(70010, 2)
    script = [sys.executable, "-c", CLAIM_AND_HOLD, str(claimed.start), str(claimed.stop)]
    other = subprocess.Popen(
        [*script, str(sandbox.USER_LOCKS[0])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert other.stdout is not None
        theirs = int(other.stdout.readline())
        ours = sandbox.claim_user()
        assert {theirs, ours} == set(claimed)
        with pytest.raises(SandboxError, match=r"all 2 users .* are taken .* grade fewer at once \(--jobs\)"):
            sandbox.claim_user()
    finally:
        other.kill()
        other.wait()
    assert sandbox.claim_user() == theirs  # the kernel let go of a killed grader's claim
    for uid in (ours, theirs):
        sandbox.release_user(uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="running a process as another user needs root")
def test_a_user_some_process_still_runs_as_is_passed_over(users):
    """A child left running by a grader that was killed keeps its user: no new child shares it."""
    import grader.runner.sandbox as sandbox

    first, second = users(70020, 2)
    left = subprocess.Popen(["sleep", "60"], user=first, group=first)
    try:
        uid = sandbox.claim_user()
        assert uid == second
        sandbox.release_user(uid)
    finally:
        left.kill()
        left.wait()
    uid = sandbox.claim_user()
    assert uid == first
    sandbox.release_user(uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a folder to another user needs root")
def test_the_fallback_child_owns_its_scratch_but_not_the_submission(open_tmp):
    tmp_path = open_tmp
    root = tmp_path / "grade"
    (root / "run" / "submission").mkdir(parents=True)
    (root / "run" / "tmp").mkdir()
    (root / "run" / "submission" / "model.py").write_text("x = 1")
    (root / "run" / "submission" / "model.py").chmod(0o600)
    root.chmod(0o700)  # as the grade's TemporaryDirectory is
    Sandbox("process", "test", unprivileged=True).hand_over(root / "run", FALLBACK_UID)
    assert (root / "run").stat().st_uid == (root / "run" / "tmp").stat().st_uid == FALLBACK_UID
    submitted = root / "run" / "submission" / "model.py"
    assert submitted.stat().st_uid == 0 and submitted.stat().st_mode & 0o777 == 0o644
    assert (root / "run" / "submission").stat().st_uid == 0
    assert root.stat().st_mode & 0o777 == 0o701  # passable by the child, not listable


def test_an_unknown_mode_is_refused():
    with pytest.raises(SandboxError, match="must be one of auto, required, off"):
        choose("sometimes")


def test_the_scratch_is_the_only_writable_place(tmp_path):
    work = tmp_path / "work"
    command = Sandbox("bubblewrap").command(
        ["python"], work=work, readable=[Path("/opt/venv")], env={"A": "1"}
    )
    binds = [tuple(command[i + 1 : i + 3]) for i, arg in enumerate(command) if arg == "--bind"]
    scratch = str(work / "tmp")  # /tmp and /dev/shm are the scratch on disk: every byte written counts
    assert binds == [(scratch, "/tmp"), (scratch, "/dev/shm"), (str(work), str(work))]
    assert command[command.index("/opt/venv") - 1 : command.index("/opt/venv") + 2] == [
        "--ro-bind",
        "/opt/venv",
        "/opt/venv",
    ]
    assert "--unshare-all" in command and "--die-with-parent" in command and "--clearenv" in command
    if Path("/usr/share/datasets").is_dir():  # hidden even when Python lives in /usr (Debian's)
        usr = Sandbox("bubblewrap").command(["python"], work=work, readable=[Path("/usr")], env={})
        assert usr.index("/usr/share/datasets") > max(i for i, arg in enumerate(usr) if arg == "/usr")
    assert command[-2:] == ["--", "python"]
    assert Sandbox("process", "off").command(["python"], work=work, readable=[], env={}) == ["python"]


def _alternative() -> Path | None:
    """A program under /usr/bin that is a link through /etc/alternatives (Debian's awk, cc, ...)."""
    for name in ("awk", "editor", "cc", "pager"):
        program = Path("/usr/bin") / name
        if program.is_symlink() and os.readlink(program).startswith("/etc/alternatives/"):
            return program
    return None


def test_links_through_etc_alternatives_resolve_inside_bubblewrap(tmp_path):
    """CUDA's toolkit is found through /usr/local/cuda -> /etc/alternatives/cuda on Debian and
    Ubuntu: a chain that must not break inside the sandbox (XLA then finds no ptxas)."""
    sandbox = choose("auto")
    program = _alternative()
    if sandbox.kind != "bubblewrap" or program is None:
        pytest.skip("needs bubblewrap and a program linked through /etc/alternatives")
    (tmp_path / "tmp").mkdir()
    inside = sandbox.command(["/bin/sh", "-c", f"readlink -f {program}"], work=tmp_path, readable=[], env={})
    found = subprocess.run(inside, capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert found == str(program.resolve()) and Path(found) != program


def test_a_python_reached_through_links_starts_inside_bubblewrap(open_tmp):
    """A virtual environment made from uv's own Python: venv/bin/python names
    cpython-3.11-…/bin/python3.11, and cpython-3.11-… is a link to cpython-3.11.7-…, which is what
    the sandbox binds. The links outside what it binds are made again inside."""
    sandbox = choose("auto")
    if sandbox.kind != "bubblewrap":
        pytest.skip("needs bubblewrap")
    pythons = open_tmp / "python"
    (pythons / "cpython-3.11.7" / "bin").mkdir(parents=True)
    program = pythons / "cpython-3.11.7" / "bin" / "python3.11"
    program.write_text("#!/bin/sh\necho started\n")
    program.chmod(0o755)
    (pythons / "cpython-3.11").symlink_to("cpython-3.11.7")
    (open_tmp / "venv" / "bin").mkdir(parents=True)
    python = open_tmp / "venv" / "bin" / "python"
    python.symlink_to(pythons / "cpython-3.11" / "bin" / "python3.11")
    assert links_on_the_way(python) == [python, pythons / "cpython-3.11"]
    work = open_tmp / "work"
    (work / "tmp").mkdir(parents=True)
    readable = [python, open_tmp / "venv", pythons / "cpython-3.11.7"]  # as runtime_paths() has them
    inside = sandbox.command([str(python)], work=work, readable=readable, env={})
    started = subprocess.run(inside, capture_output=True, text=True, timeout=60, check=False)
    assert started.stdout == "started\n", started.stderr
    assert inside.count("--symlink") == 1  # venv/bin/python is there already, in the venv's bind


def test_claims_are_kept_only_where_no_one_else_can_change_them(users, tmp_path, monkeypatch):
    """A folder another user could write (or a link to one) would let a submission's user release
    or forge claims: it is passed over for the next, and with none left the grade says why."""
    import grader.runner.sandbox as sandbox

    users(70030, 2)
    open_to_all = tmp_path / "open"
    open_to_all.mkdir(mode=0o777)
    open_to_all.chmod(0o777)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    kept = tmp_path / "kept"
    monkeypatch.setattr(sandbox, "USER_LOCKS", (open_to_all, link, kept))
    uid = sandbox.claim_user()
    assert (kept / str(uid)).exists() and not list(open_to_all.iterdir())
    sandbox.release_user(uid)
    monkeypatch.setattr(sandbox, "USER_LOCKS", (open_to_all, link))
    with pytest.raises(SandboxError, match="no folder to keep the claims on children's users in"):
        sandbox.claim_user()
