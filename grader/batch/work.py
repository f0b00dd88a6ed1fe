"""One submission of a class, graded where the scheduler put it: a thread of this process, or a
Dask worker. It returns the grade as data; the process that scheduled it writes the files, so
results never depend on a worker's disk."""

from __future__ import annotations

import io
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from grader.assignment import AssignmentError
from grader.data import DataError
from grader.grade import StatusHandler, grade
from grader.report import REPORT_WIDTH
from grader.results import Grade
from grader.runner.supervisor import Cancellation
from grader.runner.warm import WarmChildren
from grader.submission import SubmissionError


@dataclass(frozen=True)
class Job:
    """What a worker needs to grade one submission (all plain, picklable values)."""

    folder: Path
    assignment: str | None  # as given on the command line; None: the submission.toml's
    dataset: str | None
    backend: str | None  # as given on the command line; None: the assignment's
    data_dir: Path | None
    cache_root: Path | None
    sandbox: str

    @property
    def name(self) -> str:
        return self.folder.name


@dataclass(frozen=True)
class Outcome:
    """How one submission's grading ended.

    ``graded``: a grade to store; ``refused``: a usage problem with this submission (no
    assignment named, say), stored too, so its student is told; ``error``: the grader failed,
    nothing is stored and a rerun tries again."""

    name: str
    status: str
    seconds: float
    grade: Grade | None = None
    message: str = ""


def grade_job(
    job: Job,
    *,
    cpus: frozenset[int] | None = None,
    cancellation: Cancellation | None = None,
    on_status: StatusHandler | None = None,
    warm: WarmChildren | None = None,
) -> Outcome:
    """Grade ``job``; never raises for anything a submission does (``Cancelled`` excepted)."""
    started = time.monotonic()
    console = Console(file=io.StringIO(), width=REPORT_WIDTH, no_color=True)  # the live view shows progress
    try:
        result = grade(
            job.folder,
            assignment=job.assignment,
            dataset=job.dataset,
            backend=job.backend,
            data_dir=job.data_dir,
            cache_root=job.cache_root,
            console=console,
            sandbox=job.sandbox,
            cpus=cpus,
            cancellation=cancellation,
            on_status=on_status,
            warm=warm,
        )
    except (SubmissionError, AssignmentError, DataError) as error:
        return Outcome(job.name, "refused", time.monotonic() - started, message=str(error))
    except Exception as error:
        if cancellation is not None and cancellation.cancelled:
            raise
        where = traceback.format_exc(limit=-3)
        return Outcome(job.name, "error", time.monotonic() - started, message=f"{error!r}\n{where}")
    return Outcome(job.name, "graded", time.monotonic() - started, result)
