"""Class throughput: submissions graded per hour with --jobs 1 and --jobs 2, in one run, and
--jobs 2 again with every grade's trusted children new for that grade (no warm children), whose
grades must be the warm ones' exactly.

The class is 14 real submissions: the five samples, the five tutorial listings and four hostile
ones (graded on tutorial 000's assignment). Each reference is calibrated before the clock starts
(on its assignment's training.cores, as every grade trains whatever --jobs is), so both runs
measure steady-state grading, as a large class sees it. The jobs=2 run's output stays in .benchmarks/class/ with its
leaderboard, and a rerun with nothing changed is timed too.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

from rich.console import Console

from benchmarks.conftest import BACKEND
from benchmarks.test_packed_class import seen
from grader.assignment import load_assignment
from grader.batch import grade_class
from grader.calibration import calibrate
from grader.data import load_dataset
from grader.grade import resolve_assignment
from grader.results import read_results
from grader.submission import read_submission

ROOT = Path(__file__).parent.parent
HOSTILE = ("syntax_error", "memory_hog", "forge_trained", "process_swarm")
KEPT = ROOT / ".benchmarks" / "class"


def assemble_class(folder: Path) -> Path:
    """Copy the samples, the tutorial listings and a few hostile submissions into one class."""
    for source in [
        *sorted((ROOT / "submissions").iterdir()),
        *sorted((ROOT / "tutorials").glob("tutorial_00?")),
    ]:
        if source.is_dir():
            shutil.copytree(source, folder / source.name)
    for name in HOSTILE:
        shutil.copytree(ROOT / "tests" / "hostile" / name, folder / name)
        (folder / name / "submission.toml").write_text('assignment = "conv_32_64_64"\n')
    return folder


def warm_calibrations(folder: Path) -> None:
    tasks = {resolve_assignment(read_submission(p), None).name for p in folder.iterdir()}
    for name in sorted(tasks):
        task = load_assignment(name).with_backend(BACKEND)
        calibrate(task, load_dataset(task.dataset))


def test_class_throughput(benchmark, tmp_path):
    folder = assemble_class(tmp_path / "class")
    count = len(list(folder.iterdir()))
    warm_calibrations(folder)
    console = Console(file=io.StringIO(), width=120)

    started = time.perf_counter()
    one = grade_class([folder], out=tmp_path / "jobs1", jobs=1, backend=BACKEND, console=console)
    one_seconds = time.perf_counter() - started
    started = time.perf_counter()  # the same with every grade's trusted children new for that grade
    cold = grade_class(
        [folder], out=tmp_path / "cold", jobs=2, backend=BACKEND, console=console, keep_warm=False
    )
    cold_seconds = time.perf_counter() - started
    shutil.rmtree(KEPT, ignore_errors=True)
    two = benchmark.pedantic(
        grade_class,
        args=([folder],),
        kwargs={"out": KEPT, "jobs": 2, "backend": BACKEND, "console": console},
        rounds=1,
        iterations=1,
    )
    two_seconds = benchmark.stats.stats.max
    started = time.perf_counter()
    again = grade_class([folder], out=KEPT, jobs=2, backend=BACKEND, console=console)
    rerun_seconds = time.perf_counter() - started

    assert len(one.graded) == len(two.graded) == len(cold.graded) == count
    assert not one.errors and not two.errors and not cold.errors
    assert again.graded == [] and len(again.kept) == count
    for name in two.names:  # kept children grade exactly as new ones: the same points and accuracy
        kept, fresh = read_results(KEPT / name), read_results(cold.out / name)
        assert kept is not None and fresh is not None and seen(kept) == seen(fresh), name
    benchmark.extra_info.update(
        {
            "submissions": count,
            "cores": len(os.sched_getaffinity(0)),
            "jobs1_seconds": round(one_seconds, 1),
            "jobs2_seconds": round(two_seconds, 1),
            "cold_seconds": round(cold_seconds, 1),
            "cold_per_hour": round(count * 3600 / cold_seconds),
            "warm_speedup": round(cold_seconds / two_seconds, 3),
            "jobs1_per_hour": round(count * 3600 / one_seconds),
            "jobs2_per_hour": round(count * 3600 / two_seconds),
            "speedup": round(one_seconds / two_seconds, 3),
            "rerun_seconds": round(rerun_seconds, 2),
        }
    )
