"""Grading overhead: the whole wall time to grade alice (both children's start-up, build, data
hand-over, training, the verifier's load and predictions, scoring, results) over the training
time inside it, with the reference's calibration cached beforehand. Also where the seconds
before training starts go. Each round grades alice three times: as ``grader grade`` does (its
children start on the cores no grade holds as well as its own: grader/cores.py, ``Lent``), then on
its own core only, as a grade in a class does, then as ``grader grade`` does after ``grader warm
start``, forking its children from a zygote kept warm between grades (grader/runner/kept.py) where
one can be kept; all must give the same points and accuracy.

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
from grader.runner import kept
from grader.runner.sandbox import choose
from grader.runner.supervisor import base_env
from grader.runner.zygote import problem

ALICE = Path(__file__).parent.parent / "submissions" / "alice"
ROUNDS = 3
PHASES = ("total", "startup", "build", "before_training", "train", "predict")


def test_grading_overhead(benchmark, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    quiet = Console(file=io.StringIO())
    grade(ALICE, backend=BACKEND, cache_root=cache, console=quiet)  # calibrate once; warm the file cache
    rounds: dict[str, list[dict[str, float]]] = {"alone": [], "own core only": [], "kept warm": []}
    cold = kept.FOLDER  # none kept there (benchmarks/conftest.py)
    warm = tmp_path_factory.mktemp("kept") / "kept"
    keep = problem(choose("auto").kind) is None
    if keep:
        kept.FOLDER = warm
        kept.start(BACKEND, base_env(BACKEND), idle_s=3600)

    def kept_warm():
        kept.FOLDER = warm
        try:
            return grade(ALICE, backend=BACKEND, cache_root=cache, console=quiet)
        finally:
            kept.FOLDER = cold

    def one_round() -> None:
        kept.FOLDER = cold
        alone = grade(ALICE, backend=BACKEND, cache_root=cache, console=quiet)
        own = grade(
            ALICE, backend=BACKEND, cache_root=cache, console=quiet, cpus=frozenset(available_cores())
        )
        results = {"alone": alone, "own core only": own, **({"kept warm": kept_warm()} if keep else {})}
        for name, result in results.items():
            assert result.score == result.possible, result.problem
            assert result.metrics.accuracy == alone.metrics.accuracy
            rounds[name].append(result.timings)

    try:
        benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)
    finally:
        kept.FOLDER = warm
        kept.stop()
        kept.FOLDER = cold
    for name, timings in rounds.items():
        if not timings:
            continue
        prefix = {"alone": "", "own core only": "own_core_only_", "kept warm": "kept_warm_"}[name]
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
