"""What the sandbox costs: grading alice under bubblewrap against the plain child process.

    nox -s bench -- -k sandbox

Both are measured in one run, interleaved round by round so that drift hits both alike, with
the reference's calibration cached beforehand. The ratio of medians is the figure to read.
"""

from __future__ import annotations

import io
import statistics
from pathlib import Path

import pytest
from rich.console import Console

from benchmarks.conftest import BACKEND
from grader.grade import grade
from grader.runner.sandbox import choose

ALICE = Path(__file__).parent.parent / "submissions" / "alice"
ROUNDS = 3
MODES = {"bubblewrap": "required", "plain": "off"}


def test_sandbox_overhead(benchmark, tmp_path_factory):
    if choose("auto").kind != "bubblewrap":
        pytest.fail("bubblewrap cannot run here, so there is no overhead to measure")
    cache = tmp_path_factory.mktemp("cache")
    quiet = Console(file=io.StringIO())
    grade(ALICE, backend=BACKEND, cache_root=cache, console=quiet)  # calibrate once; warm the file cache
    timings: dict[str, list[dict[str, float]]] = {name: [] for name in MODES}

    def one_round() -> None:
        for name, mode in MODES.items():
            result = grade(ALICE, backend=BACKEND, cache_root=cache, console=quiet, sandbox=mode)
            assert result.score == result.possible, result.problem
            timings[name].append(result.timings)

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)

    def median(name: str, phase: str) -> float:
        return statistics.median(t[phase] for t in timings[name])

    info: dict[str, object] = {}
    for phase in ("total", "startup", "train", "predict"):
        sandboxed, plain = median("bubblewrap", phase), median("plain", phase)
        info[f"{phase}_s"] = {"bubblewrap": round(sandboxed, 2), "plain": round(plain, 2)}
        info[f"{phase}_ratio"] = round(sandboxed / plain, 3)
    benchmark.extra_info.update(info)
    print("\nsandbox overhead (median of", ROUNDS, "rounds):", info)
