"""Grading a class: plan (what changed since the last run), schedule, keep results as they come.

Locally, ``jobs`` submissions are graded at once, each pinned to its own share of
``training.cores`` cores (grader/cores.py): a grade trains on the same number of cores, with the
same threads, whether it runs alone or beside others, and its training is timed on the training
clock (grader/timing.py), so neither its points nor its accuracy depend on ``--jobs``. With a
Dask scheduler address the same work goes to the cluster's workers instead.

Each result is written (atomically) as soon as it arrives, under a hash of the submission's
content, its assignment and the environment: Ctrl-C or a crash loses only the grades in
progress, and a rerun grades only what is missing or changed.
"""

from __future__ import annotations

import hashlib
import json
import queue
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from grader.assignment import Assignment, AssignmentError
from grader.atomic import write_text_atomic
from grader.backends import DEFAULT, cuda_build
from grader.batch.discover import ClassError, find_submissions
from grader.batch.gradebook import stored_grades, summary, write_gradebook
from grader.batch.keys import environment, folder_digest, grade_key
from grader.batch.view import ClassView
from grader.batch.work import Job, Outcome, grade_job
from grader.cores import cpu_shares
from grader.data import DataError
from grader.device import gpu_memory_mb, packing_problem
from grader.grade import resolve_assignment, write_outputs
from grader.results import Grade, read_results
from grader.runner.sandbox import choose
from grader.runner.supervisor import Cancellation
from grader.runner.warm import WarmChildren
from grader.submission import SubmissionError, read_submission

CLASS_FILE = "class.json"


@dataclass
class ClassResult:
    """What one run of a class did."""

    out: Path
    names: list[str]
    graded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    seconds: float = 0.0
    gradebook: Path | None = None

    @property
    def all_passed(self) -> bool:
        return all(grade and grade.passed for grade in stored_grades(self.out, self.names).values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "submissions": len(self.names),
            "graded": self.graded,
            "kept": self.kept,
            "refused": self.refused,
            "errors": self.errors,
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 2),
        }


def grade_class(
    paths: Sequence[Path],
    *,
    out: Path,
    jobs: int = 1,
    scheduler: str | None = None,
    assignment: str | None = None,
    dataset: str | None = None,
    backend: str | None = None,
    data_dir: Path | None = None,
    cache_root: Path | None = None,
    sandbox: str = "auto",
    console: Console | None = None,
    keep_warm: bool = True,
) -> ClassResult:
    """Grade every submission in ``paths`` into ``out`` (one folder per student, plus
    ``gradebook.csv`` and ``class.json``). Raises ``ClassError`` for an unusable class; one
    submission's problems never stop the others. Ctrl-C stops the run and keeps finished grades.
    ``keep_warm=False`` gives every grade new children of its own, as a grade alone has them
    (forked from the grade's own zygote where they can be: grader/runner/zygote.py), for the
    benchmarks that measure what keeping them saves (grader/runner/warm.py)."""
    started = time.monotonic()
    console = console or Console()
    folders = find_submissions(paths)
    result = ClassResult(out=out, names=[folder.name for folder in folders])
    isolation = choose(sandbox)
    if isolation.kind != "bubblewrap" and sandbox != "off":
        console.print(f"[bold yellow]Warning: no sandbox; {isolation.describe()}.[/bold yellow]")
    pending: list[tuple[Job, str]] = []
    cores = 1  # each share holds the most any grade of the class trains on
    memory_mb = 0  # on a GPU, the most of the card any child may use
    backends: set[str] = set()  # what the class trains on
    assignments: dict[str, str] = {}  # each pending submission's
    for folder in folders:
        job = Job(folder.resolve(), assignment, dataset, backend, data_dir, cache_root, sandbox)
        try:
            task = _task(job)
            key = grade_key(job.folder, task, job.data_dir, isolation.kind)
            cores = max(cores, task.training.cores)
            memory_mb = max(memory_mb, task.limits.gpu_memory_mb)
            backends.add(task.training.backend)
        except (SubmissionError, AssignmentError, DataError) as error:
            _store_refusal(out, job, str(error), _refusal_key(job, str(error), isolation.kind), result)
            continue
        stored = read_results(out / job.name)
        if stored is not None and stored.key == key:
            result.kept.append(job.name)
        else:
            pending.append((job, key))
            assignments[job.name] = task.name
    pending.sort(
        key=lambda item: assignments[item[0].name]
    )  # one assignment after another: warm children fit
    # Where the grades train on a GPU, they may share cores and must fit on the card.
    card_mb = gpu_memory_mb() if backends and all(map(cuda_build, backends)) else None
    shares = cpu_shares(jobs, cores, packed=card_mb is not None) if scheduler is None else []
    if shares and (problem := packing_problem(len(shares), memory_mb, card_mb)):
        raise ClassError(problem + ".")
    where = f"on {scheduler}" if scheduler else _describe_shares(shares)
    console.print(
        f"Class of {len(folders)}: {len(pending)} to grade {where}"
        + (f", {len(result.kept)} unchanged since the last run" if result.kept else "")
        + (f", {len(result.refused)} refused" if result.refused else "")
        + "."
    )
    cancellation = Cancellation()
    with ClassView(console, to_grade=len(pending), kept=len(result.kept), where=where) as view:
        outcomes = (
            _on_cluster(pending, scheduler)
            if scheduler
            else _locally(pending, shares, cancellation, view.status, keep_warm)
        )
        try:
            for (job, key), outcome in outcomes:
                _keep(outcome, job, key, out, result)
                view.finished(outcome, _line(outcome))
        except KeyboardInterrupt:
            result.interrupted = True  # the generator's exit killed the grades in progress: none is stored
            outcomes.close()
    result.seconds = time.monotonic() - started
    result.gradebook = write_gradebook(out, result.names)
    write_text_atomic(out / CLASS_FILE, json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def render_class(result: ClassResult, console: Console) -> None:
    console.print(summary(result.out, result.names))
    parts = [f"{len(result.graded)} graded", f"{len(result.kept)} unchanged"]
    if result.refused:
        parts.append(f"{len(result.refused)} refused")
    if result.errors:
        parts.append(f"{len(result.errors)} failed inside the grader (not stored; a rerun retries them)")
    console.print(
        f"{', '.join(parts)} in {result.seconds:.1f} s. Gradebook: {result.gradebook}", markup=False
    )
    for name, message in result.errors.items():
        console.print(Text(f"{name}: {message.splitlines()[0]}", style="red"))
    if result.interrupted:
        console.print("[yellow]Interrupted: run the same command again to grade the rest.[/yellow]")


def _task(job: Job) -> Assignment:
    task = resolve_assignment(read_submission(job.folder), job.assignment)
    task = task.with_backend(job.backend) if job.backend else task
    return task.with_dataset(job.dataset) if job.dataset else task


def _locally(
    pending: list[tuple[Job, str]],
    shares: list[frozenset[int]],
    cancellation: Cancellation,
    status: Callable[[str, str], None],
    keep_warm: bool = True,
) -> Generator[tuple[tuple[Job, str], Outcome], None, None]:
    free: queue.SimpleQueue[frozenset[int]] = queue.SimpleQueue()
    for share in shares:
        free.put(share)
    warm = WarmChildren() if keep_warm else None  # each share's trainer and pace-setter, kept

    def run(job: Job) -> Outcome:
        cpus = free.get()  # a share is always free when the pool starts a job: one per thread
        try:
            status(job.name, "starting")
            return grade_job(
                job,
                cpus=cpus,
                cancellation=cancellation,
                on_status=lambda text: status(job.name, text),
                warm=warm,
            )
        finally:
            free.put(cpus)

    executor = ThreadPoolExecutor(max_workers=len(shares), thread_name_prefix="grade")
    futures: dict[Future[Outcome], tuple[Job, str]] = {
        executor.submit(run, job): (job, key) for job, key in pending
    }
    try:
        remaining = set(futures)
        while remaining:
            done, remaining = wait(remaining, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                yield futures[future], future.result()
    finally:  # an early exit (Ctrl-C) kills the grades in progress before waiting for their threads
        cancellation.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
        if warm is not None:
            warm.close()


def _on_cluster(
    pending: list[tuple[Job, str]], scheduler: str
) -> Generator[tuple[tuple[Job, str], Outcome], None, None]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ClassError(
            "--scheduler needs Dask's distributed package: pip install 'grader[dask]'."
        ) from None
    with Client(scheduler) as client:
        futures = {client.submit(grade_job, job, pure=False): (job, key) for job, key in pending}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            client.cancel(list(futures))


def _keep(outcome: Outcome, job: Job, key: str, out: Path, result: ClassResult) -> None:
    if outcome.status == "refused":
        _store_refusal(out, job, outcome.message, key, result)
        return
    if outcome.status == "error" or outcome.grade is None:
        result.errors[job.name] = outcome.message
        return
    write_outputs(replace(outcome.grade, key=key), out / job.name)
    result.graded.append(job.name)


def _refusal_key(job: Job, message: str, sandbox_kind: str) -> str:
    found = {
        "refused": message,
        "submission": folder_digest(job.folder),
        "environment": environment(job.backend or DEFAULT),
    }
    return hashlib.sha256(json.dumps([found, sandbox_kind], sort_keys=True).encode()).hexdigest()


def _store_refusal(out: Path, job: Job, message: str, key: str, result: ClassResult) -> None:
    """A submission that cannot be graded as it stands still gets results saying why."""
    write_outputs(Grade.refusal(job.name, message, key=key), out / job.name)
    result.refused.append(job.name)


def _line(outcome: Outcome) -> str:
    if outcome.grade is None:
        return (
            f"{outcome.name}: {outcome.status}: {outcome.message.splitlines()[0] if outcome.message else ''}"
        )
    return f"{outcome.name}: {outcome.grade.score:g} / {outcome.grade.possible:g} in {outcome.seconds:.0f} s"


def _describe_shares(shares: list[frozenset[int]]) -> str:
    per = len(shares[0])
    at_once = "one at a time" if len(shares) == 1 else f"{len(shares)} at a time"
    each = f"{per} core{'s' if per != 1 else ''} each"
    sharing = -(-len(shares) // len(set(shares)))
    if sharing > 1:  # packed on a GPU
        return f"{at_once} on the GPU, {each}, shared by up to {sharing} grades"
    return f"{at_once}, {each}"
