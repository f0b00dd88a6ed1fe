"""The watchdog on real process trees: counting, measuring, and stopping at a limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

from grader.runner.limits import Limits
from grader.runner.watchdog import Watchdog, usage


def spawn(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def watch(process: subprocess.Popen[bytes], limits: Limits, output_fd: int) -> Watchdog:
    dog = Watchdog(process.pid, limits, output_fd, lambda: os.killpg(process.pid, signal.SIGKILL)).start()
    process.wait(timeout=60)
    dog.stop()
    return dog


def test_usage_counts_a_tree_and_its_memory():
    process = spawn(
        "import subprocess, time\nfor _ in range(3): subprocess.Popen(['sleep', '30'])\ntime.sleep(30)"
    )
    try:
        deadline = time.monotonic() + 10
        while usage(process.pid).processes < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        now = usage(process.pid)
        assert now.processes == 4
        assert now.memory_bytes > 5 << 20
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert usage(process.pid).processes == 0


def test_too_many_processes_trip_the_limit():
    with tempfile.TemporaryFile() as output:
        code = "import subprocess, time\nfor _ in range(6): subprocess.Popen(['sleep', '30'])\ntime.sleep(30)"
        dog = watch(spawn(code), Limits(processes=3), output.fileno())
    assert dog.tripped is not None and dog.tripped.endswith("the limit is 3 (limits.processes)")


def test_too_much_memory_trips_the_limit():
    with tempfile.TemporaryFile() as output:
        dog = watch(
            spawn("import time\nx = b'1' * (400 << 20)\ntime.sleep(30)"),
            Limits(memory_mb=200),
            output.fileno(),
        )
    assert dog.tripped is not None and "of memory; the limit is 200 MB (limits.memory_mb)" in dog.tripped
    assert dog.peak.memory_bytes > 200 << 20


def test_too_much_output_trips_the_limit():
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time\nsys.stdout.write('x' * (3 << 20))\nsys.stdout.flush()\ntime.sleep(30)",
            ],
            stdout=output,
            start_new_session=True,
        )
        dog = watch(process, Limits(output_mb=1), output.fileno())
    assert dog.tripped == "printed 3 MB of output; the limit is 1 MB (limits.output_mb)"


def test_a_child_within_its_limits_is_left_alone():
    with tempfile.TemporaryFile() as output:
        dog = watch(spawn("import time\ntime.sleep(0.5)"), Limits(), output.fileno())
    assert dog.tripped is None and dog.peak.processes == 1


def test_poll_names_a_limit_passed_between_two_polls():
    """A child that starts a swarm and reports at once is caught by the supervisor's own poll."""
    process = spawn(
        "import subprocess, time\nfor _ in range(6): subprocess.Popen(['sleep', '30'])\ntime.sleep(30)"
    )
    stopped = []
    with tempfile.TemporaryFile() as output:
        dog = Watchdog(process.pid, Limits(processes=3), output.fileno(), lambda: stopped.append(True))
        try:
            deadline = time.monotonic() + 10
            while not dog.poll() and time.monotonic() < deadline:  # no thread started: only our polls
                time.sleep(0.05)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert dog.tripped_limit == "limits.processes" and stopped == [True]
    assert dog.poll() and stopped == [True]  # once tripped, it stays tripped and stops only once
