"""Grading overhead: the whole wall time to grade alice (both children's start-up, build, data
hand-over, training, the verifier's load and predictions, scoring, results) over the training
time inside it, with the reference's calibration cached beforehand. Also where the seconds
before training starts go.

    nox -s bench -- -k overhead
"""

from __future__ import annotations

import io
import statistics
from pathlib import Path

from rich.console import Console

from benchmarks.conftest import BACKEND
from grader.grade import grade

ALICE = Path(__file__).parent.parent / "submissions" / "alice"
ROUNDS = 3
PHASES = ("total", "startup", "build", "before_training", "train", "predict")


def test_grading_overhead(benchmark, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    quiet = Console(file=io.StringIO())
    grade(ALICE, backend=BACKEND, cache_root=cache, console=quiet)  # calibrate once; warm the file cache
    rounds: list[dict[str, float]] = []

    def one_grade() -> None:
        result = grade(ALICE, backend=BACKEND, cache_root=cache, console=quiet)
        assert result.score == result.possible, result.problem
        rounds.append(result.timings)

    benchmark.pedantic(one_grade, rounds=ROUNDS, iterations=1)
    median = {phase: statistics.median(t[phase] for t in rounds) for phase in PHASES}
    benchmark.extra_info.update(
        {
            "overhead_ratio": round(statistics.median(t["total"] / t["train"] for t in rounds), 3),
            **{f"{phase}_s": round(seconds, 2) for phase, seconds in median.items()},
            "rounds": ROUNDS,
        }
    )
