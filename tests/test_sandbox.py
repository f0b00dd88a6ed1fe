"""Hostile submissions under the bubblewrap sandbox: each fails its own checks and harms nothing."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from grader.runner.sandbox import Sandbox, SandboxError, choose

HOSTILE = Path(__file__).parent / "hostile"


@pytest.fixture(scope="module", autouse=True)
def bubblewrap():
    sandbox = choose("auto")
    if sandbox.kind != "bubblewrap":
        pytest.fail(f"these tests need the sandbox: {sandbox.reason} (run `grader sandbox --install`)")
    return sandbox


def hostile(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(HOSTILE / name, folder)
    (folder / "submission.toml").write_text('assignment = "conv_32_64_64"\n')
    return folder


def test_the_test_labels_are_not_visible(graded, tmp_path):
    grade = graded(hostile(tmp_path, "peek_at_labels"))
    assert "nothing found" in grade.log and "LEAK" not in grade.log
    assert grade.environment["sandbox"].startswith("bubblewrap")


def test_writes_outside_the_scratch_are_refused(graded, tmp_path):
    folder = hostile(tmp_path, "write_outside")
    grade = graded(folder)
    assert "WROTE" not in grade.log and grade.log.count("refused") == 2
    assert not Path("/tmp/hostile-target/results.json").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["model.py", "submission.toml"]


def test_no_network_not_even_loopback(graded, tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(20)
    connections = []

    def accept():
        with contextlib.suppress(OSError):
            connections.append(listener.accept())

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    folder = hostile(tmp_path, "phone_home")
    (folder / "port.txt").write_text(str(listener.getsockname()[1]))
    grade = graded(folder)
    listener.close()
    thread.join()
    assert connections == []
    assert "CONNECTED" not in grade.log and grade.log.count("refused") == 2


def test_no_process_outlives_its_child(graded, tmp_path):
    grade = graded(hostile(tmp_path, "leave_a_process"))
    assert grade.problem.startswith("The model did not build")
    survivors = subprocess.run(["pgrep", "-f", "sleep 317"], capture_output=True, text=True).stdout
    assert survivors == ""


def test_required_refuses_without_bubblewrap(monkeypatch):
    import grader.runner.sandbox as sandbox

    monkeypatch.setattr(sandbox, "_bubblewrap_problem", lambda: "bwrap is not installed")
    with pytest.raises(SandboxError, match="required but bwrap is not installed"):
        choose("required")
    assert choose("auto") == Sandbox("process", "bwrap is not installed")
