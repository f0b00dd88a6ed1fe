"""The pace-setter's priority: it yields its grade's core even when another process has just
changed an autogroup's priority (Linux refuses a second change within 0.1 s, machine-wide)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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
