"""One submission, end to end: set up its children, run the grading pipeline, return the grade.

The submission's code runs only in its runner child (the builder), which builds the model. Under
``training.trainer = "grader"`` (the default) it only declares the model and its fit settings; a
trainer child that never runs submission code rebuilds that model with fresh weights and trains
it, and predicts on the test images. Under ``"submission"`` the runner trains the model itself,
and the verifier, which never runs submission code either, loads the model it saved with Keras's
safe mode, re-reads its facts and predicts. Either way the verifier paces the training for the
training clock (grader/timing.py). This process owns the data and the test labels, times every phase on its own clock,
scores the verifier's predictions itself and writes every result. What happens in between is
``grader.pipeline``'s phases.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from grader.assignment import Assignment, AssignmentError, load_assignment
from grader.atomic import write_text_atomic
from grader.backends import problem as backend_problem
from grader.calibration import cache_dir, calibrate
from grader.checks import Baseline
from grader.cores import CoresError, Lent, grade_cores, held_cores
from grader.data import Dataset, load_dataset
from grader.device import describe_device, precision_problem
from grader.pipeline import Context, Progress, StatusHandler, execute, results_in_order
from grader.report import TrainingDisplay, render_grade, report_text
from grader.results import Grade, write_results
from grader.runner.sandbox import Sandbox, SandboxError, choose, closed_to_others
from grader.runner.supervisor import Cancellation, Runner, Subject, base_env
from grader.runner.warm import WarmChildren
from grader.runner.zygote import Zygote
from grader.runner.zygote import problem as zygote_problem
from grader.submission import Submission, SubmissionError, read_submission
from grader.target import summary

REPORT_FILE = "report.txt"


def resolve_assignment(submission: Submission, assignment: Assignment | str | Path | None) -> Assignment:
    """The assignment named on the command line, else the one in ``submission.toml``."""
    if isinstance(assignment, Assignment):
        return assignment
    chosen = assignment or submission.assignment
    if chosen is None:
        raise AssignmentError(
            f'no assignment given: pass --assignment NAME, or put assignment = "NAME" in '
            f"{submission.folder / 'submission.toml'}."
        )
    return load_assignment(chosen)


def grade(
    submission: Path | str,
    *,
    assignment: Assignment | str | Path | None = None,
    dataset: str | None = None,
    backend: str | None = None,
    data_dir: Path | None = None,
    cache_root: Path | None = None,
    console: Console | None = None,
    sandbox: str = "auto",
    cpus: frozenset[int] | None = None,
    cancellation: Cancellation | None = None,
    on_status: StatusHandler | None = None,
    warm: WarmChildren | None = None,
) -> Grade:
    """Grade one submission folder. Raises ``SubmissionError``, ``AssignmentError`` or
    ``DataError`` for usage problems (``SandboxError`` when the isolation asked for cannot be had);
    anything the submission does wrong ends up in the grade.

    A class batch passes ``cpus`` (the cores dealt to this grade; it trains on
    ``training.cores`` of them), ``cancellation`` (to stop its children on Ctrl-C; a cancelled
    grade raises ``Cancelled``), ``on_status`` (a short phase description for its live view) and
    ``warm`` (its trusted children, kept started from one grade to the next: grader/runner/warm.py)."""
    started = time.monotonic()
    console = console or Console()
    isolation = choose(sandbox)
    if isolation.kind != "bubblewrap" and sandbox != "off":
        console.print(f"[bold yellow]Warning: no sandbox; {isolation.describe()}.[/bold yellow]")
    folder = read_submission(submission)
    task = resolve_assignment(folder, assignment)
    if dataset:
        task = task.with_dataset(dataset)
    if backend:
        task = task.with_backend(backend)
    unsupported = backend_problem(task.training.backend) or precision_problem(
        task.training.precision, backend=task.training.backend
    )
    if unsupported:
        raise AssignmentError(f"{task.path or task.name}: {unsupported}")
    try:
        grade_cores(task.training.cores, cpus)
    except CoresError as error:
        raise AssignmentError(f"{task.path or task.name}: {error}") from None
    data = load_dataset(task.dataset, data_dir=data_dir)
    if isolation.unprivileged and (exposed := _readable_by_all(data.source.path)):
        raise SandboxError(
            f"{exposed} holds test labels and every user can read it, so a submission running "
            "without bubblewrap could read it too; make it private (chmod o-r) or install bubblewrap."
        )
    with (
        held_cores(task.training.cores, cpus, cancellation=cancellation) as cores,
        # Graded alone, its children may start on the cores no grade holds (a class deals them all).
        Lent(cores) if cpus is None else contextlib.nullcontext() as lent,
    ):
        return _grade(
            folder,
            task,
            data,
            isolation,
            cores,
            lent,
            started,
            console,
            cache_root,
            cancellation,
            on_status,
            warm,
        )


def _readable_by_all(path: Path) -> Path | None:
    """``path``, or the first file in it, that a user with no account could read."""
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    return next((file for file in files if file.is_file() and not closed_to_others(file)), None)


def _grade(
    folder: Submission,
    task: Assignment,
    data: Dataset,
    isolation: Sandbox,
    cores: frozenset[int],
    lent: Lent | None,
    started: float,
    console: Console,
    cache_root: Path | None,
    cancellation: Cancellation | None,
    on_status: StatusHandler | None,
    warm: WarmChildren | None,
) -> Grade:
    """The grade of ``folder`` on ``cores``, which this grade holds."""
    environment: dict[str, Any] = {
        "data_source": f"{data.name} from {data.source.describe()}",
        "sandbox": isolation.describe(),
        "precision": task.training.precision,
        "backend": task.training.backend,
        "cores": len(cores),
    }
    status = on_status or (lambda text: None)
    timings: dict[str, float] = {}

    entry = folder.entry
    if entry is None:
        progress = Progress(problem=folder.missing)
        progress.results = {check: check.not_run("there is no code to grade.") for check in task.checks}
    else:
        console.print(
            f"Grading [bold]{escape(folder.display_name)}[/bold] ({escape(str(folder.folder))}) on {escape(task.title)}"
        )
        with tempfile.TemporaryDirectory(prefix="grader-") as scratch, contextlib.ExitStack() as stack:
            grader_trains = task.training.trainer == "grader"
            zygote = None  # a class forks its builders from its own (below)
            if warm is None and grader_trains and zygote_problem(isolation.kind) is None:
                # A grade of its own forks all three children from one Keras import, where three
                # imports would share the cores (grader/runner/zygote.py).
                startup = cores | (lent.cores if lent is not None else frozenset())
                zygote = Zygote(task.training.backend, base_env(task.training.backend), cpus=startup)
                stack.callback(zygote.close)  # the last to end: after every child forked from it

            def child(name: str, subject: Subject, seed: int = task.seeds[0]) -> Runner:
                return Runner(
                    subject,
                    recipe=task.reference,
                    training=replace(task.training, seed=seed),
                    work=Path(scratch) / name,
                    sandbox=isolation,
                    limits=task.limits,
                    cpus=cores,
                    lent=lent,
                    cancellation=cancellation,
                    target=task.target.accuracy if task.target else None,
                    zygote=zygote,
                )

            def trusted(name: str, subject: Subject, seed: int = task.seeds[0]) -> Runner:
                """A child that runs no submission code: one a class kept warm, or a new one."""
                made = child(name, subject, seed)
                return warm.lend(made) if warm is not None else made

            def another_trainer(seed: int) -> Runner:
                if grader_trains:
                    return trusted(f"train-{seed}", Subject.declaration(), seed)
                return child(f"run-{seed}", Subject.submission(entry), seed)

            def baseline() -> Baseline:
                return _baseline(task, data, console, cache_root, cores, cancellation, status, timings)

            runner = child("run", Subject.submission(entry))
            if warm is not None and grader_trains:  # a class: the builder forked where it can be
                runner = replace(runner, zygote=warm.zygote(task.training.backend, isolation))
            # Each child starts when the grade first needs it (the trainer once the model is
            # declared, the verifier once training begins), so a grade that stops early, as a
            # broken submission's does, pays for no Keras start it does not use. Where start-ups
            # can overlap they start at once instead: the trainer beside the runner on a grade's
            # second core, all three on idle cores lent to a grade alone. On one core, starting
            # them together would only share it. In a class, both children that pace and train
            # come warm from the grade before.
            trainer = trusted("train", Subject.declaration()) if grader_trains else None
            verifier = (trusted if grader_trains else child)("verify", Subject.saved_model())
            lent_cores = lent is not None and bool(lent.cores)
            if trainer is not None:
                stack.callback(trainer.done)
                if lent_cores or len(cores) > 1:
                    trainer.start()
            stack.callback(verifier.done)
            if lent_cores:
                verifier.start()
            with runner:
                environment.update({k: v for k, v in runner.ready.items() if k != "event"})
                context = Context(
                    task=task,
                    data=data,
                    runner=runner,
                    trainer=trainer,
                    verifier=verifier,
                    another_trainer=another_trainer,
                    baseline=baseline,
                    display=lambda label: TrainingDisplay(console, label),
                    on_status=status,
                    label=runner.subject.label,
                )
                progress = execute(context)
            timings.update(runner.timings)
            if zygote is not None and zygote.start_s is not None:  # the builder's Keras start was there
                timings["startup"] = timings.get("startup", 0.0) + zygote.start_s
            if trainer is not None:
                timings |= {
                    ("rebuild" if k == "build" else k): v
                    for k, v in trainer.timings.items()
                    if k != "startup"
                }
            if "predict" in verifier.timings:
                timings["predict"] = verifier.timings["build"] + verifier.timings["predict"]
            peak = max(runner.peak_memory_mb, trainer.peak_memory_mb if trainer else 0.0)
            environment["peak_memory_mb"] = round(peak)
            environment["device"] = describe_device(environment.get("gpus", ()))
    timings["total"] = time.monotonic() - started
    if progress.training_started is not None:  # what comes before: start-up, build, checks, data hand-over
        timings["before_training"] = progress.training_started - started
    return Grade(
        submission=folder.name,
        display_name=folder.display_name,
        chose_name=folder.chose_name,
        assignment=task.name,
        title=task.title,
        dataset=task.dataset,
        trainer=task.training.trainer,
        checks=results_in_order(task, progress),
        execution_time=timings["total"],
        metrics=progress.metrics,
        timings=timings,
        environment=environment,
        problem=progress.problem,
        log=progress.log,
        model=progress.model,
        notes=(*folder.notes, *progress.notes),
        said=tuple(progress.said),
        said_cut=progress.said_cut,
        history=tuple(progress.history),
        baseline=_baseline_figures(progress.baseline),
        training_clock=_clock_figures(progress),
        time_to_accuracy=summary(task.target, progress.runs) if task.target and progress.runs else {},
    )


def _clock_figures(progress: Progress) -> dict[str, Any]:
    """What the training clock measured, for results.json: every run's cost, their aggregate and,
    against the reference, the ratio and its uncertainty."""
    timing = progress.timing
    if timing is None:
        return {}
    found: dict[str, Any] = {**timing.to_dict(), "runs": [cost.to_dict() for cost in progress.costs]}
    if progress.baseline is not None and progress.baseline.timing is not None:
        ratio, noise = timing.ratio(progress.baseline.timing)
        found |= {
            "reference": progress.baseline.timing.to_dict(),
            "ratio": round(ratio, 4),
            "ratio_noise": round(noise, 4),
        }
    return found


def _baseline_figures(baseline: Baseline | None) -> dict[str, Any]:
    if baseline is None:
        return {}
    return {
        "reference": baseline.reference,
        "parameters": baseline.facts.total_params,
        "train_seconds": round(baseline.train_seconds, 3),
        "epochs": baseline.epochs,
        "accuracy": baseline.accuracy,
        "public_accuracy": baseline.public_accuracy,
        "private_accuracy": baseline.private_accuracy,
    }


def _baseline(
    task: Assignment,
    data: Dataset,
    console: Console,
    cache_root: Path | None,
    cores: frozenset[int],
    cancellation: Cancellation | None,
    status: StatusHandler,
    timings: dict[str, float],
) -> Baseline:
    """The reference's figures on this machine: cached, or measured now (with a progress bar)."""
    started = time.monotonic()
    label = f"reference {task.reference}"

    def starting() -> None:
        status(f"measuring the {label}")
        where = _short(cache_root or cache_dir())
        console.print(f"Measuring the {label} on this machine (once; cached in {where})", markup=False)

    with TrainingDisplay(console, label) as display:
        calibration = calibrate(
            task,
            data,
            cache_root=cache_root,
            on_event=display,
            on_start=starting,
            cpus=cores,
            cancellation=cancellation,
        )
    if not calibration.cached:
        timings["calibration"] = time.monotonic() - started
    return calibration.baseline


def _short(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def write_outputs(result: Grade, out_dir: Path) -> tuple[Path, Path]:
    """``report.txt`` and ``results.json`` (Gradescope) in ``out_dir``, each written atomically,
    results last: a class's rerun takes a folder with results.json as graded."""
    report = Path(out_dir) / REPORT_FILE
    write_text_atomic(report, report_text(result))
    return write_results(result, out_dir), report


__all__ = ["SubmissionError", "grade", "render_grade", "resolve_assignment", "write_outputs"]
