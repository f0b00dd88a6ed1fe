"""Grading overhead: the whole wall time to grade alice (both children's start-up, build, data
hand-over, training, the verifier's load and predictions, scoring, results) over the training
time inside it, with the reference's calibration cached beforehand. Also where the seconds
before training starts go. Each round grades alice twice, as ``grader grade`` does (its children
start on the cores no grade holds as well as its own: grader/cores.py, ``Lent``) and then on its
own core only, as a grade in a class does; both must give the same points and accuracy.

    nox -s bench -- -k overhead
"""

from __future__ import annotations

import io
import statistics
from pathlib import Path

from rich.console import Console

from benchmarks.conftest import BACKEND
from grader.cores import available_cores
from grader.grade import grade

ALICE = Path(__file__).parent.parent / "submissions" / "alice"
ROUNDS = 3
PHASES = ("total", "startup", "build", "before_training", "train", "predict")


def test_grading_overhead(benchmark, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    quiet = Console(file=io.StringIO())
    grade(ALICE, backend=BACKEND, cache_root=cache, console=quiet)  # calibrate once; warm the file cache
    rounds: dict[str, list[dict[str, float]]] = {"alone": [], "own core only": []}

    def one_round() -> None:
        alone = grade(ALICE, backend=BACKEND, cache_root=cache, console=quiet)
        own = grade(
            ALICE, backend=BACKEND, cache_root=cache, console=quiet, cpus=frozenset(available_cores())
        )
        for result in (alone, own):
            assert result.score == result.possible, result.problem
        assert alone.metrics.accuracy == own.metrics.accuracy
        rounds["alone"].append(alone.timings)
        rounds["own core only"].append(own.timings)

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)
    for name, timings in rounds.items():
        prefix = "" if name == "alone" else "own_core_only_"
        median = {phase: statistics.median(t[phase] for t in timings) for phase in PHASES}
        benchmark.extra_info.update(
            {
                f"{prefix}overhead_ratio": round(
                    statistics.median(t["total"] / t["train"] for t in timings), 3
                ),
                **{f"{prefix}{phase}_s": round(seconds, 2) for phase, seconds in median.items()},
            }
        )
    benchmark.extra_info["rounds"] = ROUNDS
