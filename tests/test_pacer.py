"""The pace-setter: it yields its grade's core even when another process has just changed an
autogroup's priority (Linux refuses a second change within 0.1 s, machine-wide), and every window
it measures holds a step, however soon the stop comes."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.cores import Lent, available_cores
from grader.runner import child
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
    pacer = Runner(Subject.declaration(), recipe="conv_32_64_64", training=TRAINING, work=tmp_path / "pacer")
    with pacer:
        write_array(pacer.work / "x_pace.npy", sample.x_train[:256])
        write_array(pacer.work / "y_pace.npy", sample.y_train[:256])
        pacer._send("pace")
        pacer._send("stop")
        start = PaceMark.from_event(pacer._await("pace", "pacing", 120.0, "starting to pace", ""))
        end = PaceMark.from_event(pacer._await("pace", "paced", 120.0, "pacing", ""))
    assert end.steps > start.steps
    assert measure(1.0, 1.0, start, end).pace_steps == end.steps - start.steps


def test_a_pace_setter_lent_a_core_traces_there_and_paces_on_its_own(tmp_path, sample):
    """The grade's pace-setter traces the reference before it says it is ready, on a core lent for
    start-up while the grade's own core builds the model, and then paces on the grade's core only."""
    cores = available_cores()
    if len(cores) < 2:
        pytest.skip("needs two cores")
    own = frozenset(cores[:1])
    with Lent(own, locks=tmp_path / "locks") as lent:
        lent_cores = sorted(lent.cores)
        assert lent_cores
        pacer = Runner(
            Subject.saved_model(), "conv_32_64_64", TRAINING, tmp_path / "p", cpus=own, lent=lent, paces=True
        )
        with pacer:  # started, and waited for until ready
            assert pacer.ready["pace_warmed_on"] == lent_cores[:1]
            assert lent.cores == frozenset()  # given back once it was ready
            assert pacer.usage().cores == own
            start = pacer.pace(sample.x_train[:256], sample.y_train[:256])
            end = pacer.stop_pacing()
    assert end.steps > start.steps


@pytest.mark.parametrize(
    ("pace", "affinity", "warm_on"),
    [
        (True, {0, 1, 2, 3}, {2, 3}),  # as many lent cores as the grade has
        (True, {0, 1, 2}, {0, 1}),  # too few lent: on its own
        (False, {0, 1, 2, 3}, {0, 1}),  # not the pace-setter: on its own
    ],
)
def test_a_pace_setter_warms_on_as_many_cores_as_its_grade_has(monkeypatch, pace, affinity, warm_on):
    """A backend sizes its thread pools by the cores it starts on, so the pace-setter's must not
    depend on whether a core was lent."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(affinity))
    args = argparse.Namespace(cores=frozenset({0, 1}), pace=pace)
    assert child._warm_cores(args) == frozenset(warm_on)
