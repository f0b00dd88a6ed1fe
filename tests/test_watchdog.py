"""The watchdog on real process trees: counting, measuring, and stopping at a limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

import pytest

from grader.runner.watchdog import Usage, Watchdog, usage
from grader.settings import Limits


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


def test_cpu_time_and_disk_writes_count_the_whole_tree_reaped_children_too(tmp_path):
    """A child that wrote 20 MB and burned CPU, then exited, still counts in its parent's figures."""
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', \"open('{tmp_path}/big', 'wb').write(b'x' * (20 << 20)); "
        '[0 for _ in range(3_000_000)]"])\n'
        "time.sleep(30)"
    )
    process = spawn(code)
    try:
        deadline = time.monotonic() + 30
        time.sleep(0.5)
        while usage(process.pid).processes > 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the child has written, burned its CPU and been reaped
        now = usage(process.pid)
        assert now.processes == 1 and now.written_bytes >= 20 << 20 and now.cpu_seconds > 0.05
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_writing_too_much_to_disk_trips_the_limit_while_it_writes(tmp_path):
    with tempfile.TemporaryFile() as output:
        code = f"import time\nwith open('{tmp_path}/fill', 'wb') as f:\n    for _ in range(400): f.write(b'x' * (1 << 20)); f.flush(); time.sleep(0.01)\ntime.sleep(30)"
        dog = watch(spawn(code), Limits(disk_mb=50), output.fileno())
    assert (
        dog.tripped_limit == "limits.disk_mb" and "the limit is 50 MB in all (limits.disk_mb)" in dog.tripped
    )
    assert (tmp_path / "fill").stat().st_size < 200 << 20  # stopped long before it finished


def test_a_child_that_widens_its_cores_is_stopped():
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return  # one core: nothing to widen onto
    code = f"import os, time\ntime.sleep(0.3)\nos.sched_setaffinity(0, {set(cores)})\ntime.sleep(30)"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        start_new_session=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {cores[0]}),
    )
    with tempfile.TemporaryFile() as output:
        dog = Watchdog(
            process.pid,
            Limits(),
            output.fileno(),
            lambda: os.killpg(process.pid, signal.SIGKILL),
            frozenset({cores[0]}),
        )
        dog.start()
        process.wait(timeout=60)
        dog.stop()
    assert dog.tripped_limit == "training.cores" and "moved onto cores it was not given" in dog.tripped


def test_a_kept_child_is_held_to_its_limits_on_each_grades_use_alone():
    """CPU time and disk writes count from the grade's start (``rebase``): a child kept warm for a
    class is stopped at limits.cpu_s of one grade's use, not of every grade it served."""
    with tempfile.TemporaryFile() as output:
        dog = Watchdog(os.getpid(), Limits(cpu_s=10, disk_mb=1), output.fileno(), lambda: None)
        dog.base = Usage(cpu_seconds=100.0, written_bytes=50 << 20)
        assert dog.check(Usage(cpu_seconds=109.0, written_bytes=50 << 20, processes=1)) is None
        key, why = dog.check(Usage(cpu_seconds=111.0, processes=1, written_bytes=50 << 20)) or ("", "")
        assert key == "limits.cpu_s" and why == "used 11 s of CPU time; the limit is 10 s (limits.cpu_s)"
        key, _ = dog.check(Usage(cpu_seconds=101.0, processes=1, written_bytes=52 << 20)) or ("", "")
        assert key == "limits.disk_mb"
        dog.rebase()  # this process's own totals now: well within both
        assert dog.check(dog.usage_now()) is None and dog.peak == Usage()


def test_a_kept_child_is_not_charged_for_memory_its_earlier_grades_left_it():
    with tempfile.TemporaryFile() as output:
        dog = Watchdog(os.getpid(), Limits(memory_mb=100), output.fileno(), lambda: None)
        held = usage(os.getpid()).memory_bytes
        dog.fresh_memory_bytes = held - (30 << 20)  # as if it had held 30 MB less when new
        dog.rebase()
        assert dog.left_over_bytes == pytest.approx(30 << 20, abs=8 << 20)
        now = Usage(memory_bytes=dog.left_over_bytes + (99 << 20), processes=1)
        assert dog.check(now) is None
        key, why = dog.check(replace(now, memory_bytes=now.memory_bytes + (2 << 20))) or ("", "")
        assert key == "limits.memory_mb" and why.startswith("used 101 MB of memory")


def test_a_paused_watchdog_reads_nothing_until_resumed(monkeypatch):
    """A kept child waiting between grades is not watched (it runs no submission code, and each
    look reads all of /proc); lent again, it is watched from then on."""
    import grader.runner.watchdog as watchdog

    looks: list[int] = []
    real = watchdog.usage
    monkeypatch.setattr(
        watchdog, "usage", lambda root, uid=None, **how: looks.append(root) or real(root, uid, **how)
    )
    process = spawn("import time\ntime.sleep(30)")
    stopped: list[bool] = []
    with tempfile.TemporaryFile() as output:
        dog = Watchdog(process.pid, Limits(processes=3), output.fileno(), lambda: stopped.append(True))
        try:
            dog.pause()
            dog.start()
            time.sleep(5 * watchdog.POLL_S)
            assert looks == []  # five polls' time, and not one look
            dog.resume()
            deadline = time.monotonic() + 10
            while len(looks) < 3 and time.monotonic() < deadline:
                time.sleep(watchdog.POLL_S)
            assert len(looks) >= 3  # the rebase, and the polls after it
        finally:
            dog.stop()
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert stopped == []
