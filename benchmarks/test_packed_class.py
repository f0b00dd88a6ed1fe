"""A class packed onto one machine: ``COPIES`` copies of alice graded at once, against alice graded
alone, in one run, first with every grade's trusted children new for that grade (no warm children),
then as a class grades. It measures students per hour, and whether packing changed anything a student
sees: every copy must get alice's points and accuracy exactly, and its training cost is printed
beside hers (min, median, max), so the clock's fairness under packing is measured, not assumed.

On a GPU the copies are all graded at once (``--jobs COPIES``), sharing the machine's cores and
the card; on the CPU a grade keeps its cores, so they go a core's worth at a time. Each child may
use ``limits.gpu_memory_mb`` of the card. Targets on one GPU (H100 class): 64 copies at 2,000
students an hour or more; every copy's cost within the noise of alice's alone.

    GRADER_BENCH_COPIES=64 nox -s bench -- -k packed_class
    KERAS_BACKEND=jax pytest benchmarks -o addopts= --benchmark-enable -k packed_class
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import time
from pathlib import Path

from rich.console import Console

from benchmarks.conftest import BACKEND
from grader.assignment import load_assignment
from grader.batch import grade_class
from grader.calibration import calibrate
from grader.data import load_dataset
from grader.device import gpu_memory_mb
from grader.grade import grade
from grader.results import Grade, read_results

ROOT = Path(__file__).parent.parent
ALICE = ROOT / "submissions" / "alice"
COPIES = int(os.environ.get("GRADER_BENCH_COPIES", "16"))
KEPT = ROOT / ".benchmarks" / "packed.md"


def seen(grade: Grade) -> tuple:
    """What a student sees: every check's status and points, and the accuracy to the image."""
    return tuple((check.name, check.status, check.score) for check in grade.checks), grade.metrics.accuracy


def _measured(figure: float | None, name: str) -> float:
    """A training figure every graded copy has: one missing means the copy was not timed."""
    assert figure is not None, f"{name} has no training figures"
    return figure


def test_packed_class(benchmark, tmp_path):
    task = load_assignment("conv_32_64_64").with_backend(BACKEND)
    calibrate(task, load_dataset(task.dataset))  # before the clock starts, as a class would have it
    printed = io.StringIO()
    quiet = Console(file=printed, width=160)
    alone = grade(ALICE, backend=BACKEND, console=quiet)
    folder = tmp_path / "class"
    for index in range(COPIES):
        shutil.copytree(ALICE, folder / f"alice_{index:03d}")

    started = time.perf_counter()  # every grade's trusted children new for that grade, for comparison
    cold = grade_class(
        [folder], out=tmp_path / "cold", jobs=COPIES, backend=BACKEND, console=quiet, keep_warm=False
    )
    cold_seconds = time.perf_counter() - started
    started = time.perf_counter()
    result = benchmark.pedantic(
        grade_class,
        args=([folder],),
        kwargs={"out": tmp_path / "grades", "jobs": COPIES, "backend": BACKEND, "console": quiet},
        rounds=1,
        iterations=1,
    )
    seconds = time.perf_counter() - started
    found = {name: read_results(result.out / name) for name in result.names}
    copies = {name: copy for name, copy in found.items() if copy is not None}
    assert not result.errors and len(copies) == COPIES, (result.errors, sorted(set(found) - set(copies)))

    costs = sorted(_measured(copy.metrics.train_cost, name) for name, copy in copies.items())
    wall = sorted(_measured(copy.metrics.train_seconds, name) for name, copy in copies.items())
    shape = printed.getvalue().split("Class of", 1)[-1].split(".", 1)[0]
    figures = {
        "device": alone.environment.get("device"),
        "backend": BACKEND,
        "copies": COPIES,
        "schedule": f"Class of{shape}",
        "card_mb": gpu_memory_mb(),
        "seconds": round(seconds, 1),
        "per_hour": round(COPIES * 3600 / seconds),
        "cold_seconds": round(cold_seconds, 1),
        "cold_per_hour": round(COPIES * 3600 / cold_seconds),
        "alone_cost": alone.metrics.train_cost,
        "alone_train_s": round(_measured(alone.metrics.train_seconds, "alice alone"), 2),
        "packed_cost_min_median_max": [
            round(costs[0], 3),
            round(statistics.median(costs), 3),
            round(costs[-1], 3),
        ],
        "packed_train_s_min_median_max": [
            round(wall[0], 2),
            round(statistics.median(wall), 2),
            round(wall[-1], 2),
        ],
        "points": sorted({f"{copy.score:g}" for copy in copies.values()}),
        "accuracy": sorted({f"{copy.metrics.accuracy:.4f}" for copy in copies.values()}),
    }
    benchmark.extra_info.update(figures)
    table = "\n".join(f"| {key} | {value} |" for key, value in figures.items())
    print("\n| figure | value |\n|---|---|\n" + table)
    KEPT.parent.mkdir(exist_ok=True)
    KEPT.write_text("| figure | value |\n|---|---|\n" + table + "\n")
    assert not cold.errors and len(cold.graded) == COPIES, cold.errors
    for name, copy in copies.items():
        assert seen(copy) == seen(alone), f"{name} saw another grade than alice alone: {seen(copy)}"
        fresh = read_results(cold.out / name)
        assert fresh is not None and seen(fresh) == seen(alone), f"{name}, no child kept warm"
