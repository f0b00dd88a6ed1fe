"""The sandbox's choice and its command line; the corpus in test_hostile.py shows what it holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.runner.sandbox import Sandbox, SandboxError, choose


def test_required_refuses_without_bubblewrap(monkeypatch):
    import grader.runner.sandbox as sandbox

    monkeypatch.setattr(sandbox, "_bubblewrap_problem", lambda: "bwrap is not installed")
    with pytest.raises(SandboxError, match="required but bwrap is not installed"):
        choose("required")
    assert choose("auto") == Sandbox("process", "bwrap is not installed")
    assert choose("off").kind == "process"


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
    assert command[-2:] == ["--", "python"]
    assert Sandbox("process", "off").command(["python"], work=work, readable=[], env={}) == ["python"]
