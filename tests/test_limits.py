"""The ``[limits]`` table: defaults, overrides and refusals that name the key."""

from __future__ import annotations

import re

import pytest

from grader.assignment import AssignmentError, load_assignment
from grader.settings import Limits, SettingsError, from_table


def test_defaults_and_overrides():
    assert from_table(Limits, {}, prefix="limits.") == Limits()
    limits = from_table(Limits, {"memory_mb": 2048, "build_s": 30}, prefix="limits.")
    assert (limits.memory_mb, limits.build_s, limits.processes) == (2048, 30.0, Limits().processes)
    assert isinstance(limits.build_s, float) and limits.disk_mb == 4096


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"memory": 1}, "unknown key limits.memory (did you mean limits.memory_mb?)"),
        ({"wallclock": 1}, "unknown key limits.wallclock; allowed: memory_mb, gpu_memory_mb, processes"),
        ({"memory_mb": 0}, "limits.memory_mb must be a whole number above 0, not 0"),
        ({"processes": 2.5}, "limits.processes must be a whole number above 0, not 2.5"),
        ({"cpu_s": True}, "limits.cpu_s must be a whole number above 0, not True"),
        ({"build_s": -1}, "limits.build_s must be a number above 0, not -1"),
    ],
)
def test_mistakes_are_refused_with_the_key(table, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        from_table(Limits, table, prefix="limits.")


def test_an_assignment_carries_its_limits(tmp_path):
    spec = (load_assignment("conv_32_64_64").path or tmp_path).read_text()
    good = tmp_path / "good.toml"
    good.write_text(spec + "\n[limits]\nmemory_mb = 1000\n")
    assert load_assignment(good).limits == Limits(memory_mb=1000)
    assert load_assignment("conv_32_64_64").limits == Limits()
    bad = tmp_path / "bad.toml"
    bad.write_text(spec + "\n[limits]\nmemory_mb = -5\n")
    with pytest.raises(AssignmentError, match=r"bad\.toml: limits\.memory_mb must be a whole number"):
        load_assignment(bad)
