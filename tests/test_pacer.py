"""The pace-setter: it yields its grade's core even when another process has just changed an
autogroup's priority (Linux refuses a second change within 0.1 s, machine-wide), and every window
it measures holds a step, however soon the stop comes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.runner.files import write_array
from grader.runner.supervisor import Runner, Subject
from grader.settings import Training
from grader.timing import PaceMark, measure
from tests.conftest import BACKEND

TRAINING = Training(max_epochs=1, time_limit_s=300.0, backend=BACKEND, trainer="grader")
AUTOGROUP = Path("/proc/self/autogroup")
NOBODY = 65534


@pytest.mark.skipif(not AUTOGROUP.exists(), reason="this kernel has no autogroups")
def test_the_pace_setter_lowers_its_autogroup_right_after_another_change():
    code = textwrap.dedent(
        """
        import time
        from pathlib import Path
        from grader.runner.roles import pacer

        autogroup = Path("/proc/self/autogroup")
        autogroup.write_text("3")  # as another pace-setter would, a moment before
        started = time.monotonic()
        try:
            autogroup.write_text("4")
            print("second change: taken")
        except BlockingIOError:
            print("second change: refused")
        pacer._yield_cores(pacer.PACE_NICE)
        print("after:", autogroup.read_text().split()[-1], round(time.monotonic() - started, 2))
        """
    )
    # In a session of its own, so only that session's autogroup changes, not this test's; and
    # unprivileged, as every child of a grade is (root may change it at any time).
    unprivileged = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if os.getuid() == 0 else {}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        cwd="/",
        **unprivileged,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert lines["second change"] == "refused"  # what two pace-setters starting together meet
    nice, seconds = lines["after"].split()
    assert nice == "10"
    assert float(seconds) < 1.0


def test_a_stop_that_comes_at_once_still_finds_a_paced_step(tmp_path, sample):
    """A training that "ends" the moment it starts (a forged message, under trainer = "submission")
    stops the pace-setter at once. Here the stop is already waiting when the pace-setter becomes
    warm and says it is pacing; the window it then measures must still hold a step, or the clock
    has nothing to measure and the grade fails as the grader's error (it did, in one CI run)."""
    child = Runner(Subject.declaration(), recipe="conv_32_64_64", training=TRAINING, work=tmp_path / "pacer")
    with child:
        write_array(child.work / "x_pace.npy", sample.x_train[:256])
        write_array(child.work / "y_pace.npy", sample.y_train[:256])
        child._send("pace")
        child._send("stop")
        start = PaceMark.from_event(child._await("pace", "pacing", 120.0, "starting to pace", ""))
        end = PaceMark.from_event(child._await("pace", "paced", 120.0, "pacing", ""))
    assert end.steps > start.steps
    assert measure(1.0, 1.0, start, end).pace_steps == end.steps - start.steps
