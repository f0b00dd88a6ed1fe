"""One submission, end to end: build in a child, cheap checks, then train, predict and score.

The submission's code runs only in its runner child, which builds and trains the model and
saves it. A second child that never runs submission code (the verifier) loads the saved model
with Keras's safe mode, re-reads its facts and predicts: a submission that fakes its own
evaluation, its progress reports or its model's shape is caught there. This process owns the
data and the test labels, times every phase on its own clock, scores the verifier's
predictions itself and writes every result.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from grader.assignment import Assignment, AssignmentError, load_assignment
from grader.atomic import write_text_atomic
from grader.calibration import cache_dir, calibrate
from grader.checks import Baseline, Check, CheckResult, Evidence
from grader.data import Dataset, load_dataset
from grader.device import describe_device, precision_problem
from grader.model_facts import ModelFacts
from grader.report import TrainingDisplay, render_grade, report_text
from grader.results import Grade, Metrics, write_results
from grader.runner.files import UnsafeFile, copy_file
from grader.runner.limits import MB
from grader.runner.sandbox import choose
from grader.runner.supervisor import SAVED_MODEL, Built, Cancellation, PhaseFailed, Runner, Subject, Trained
from grader.split import split_accuracies
from grader.submission import Submission, SubmissionError, read_submission
from grader.target import Run as TargetRun
from grader.target import accuracy_on, aggregate, correct, summary, training_split
from grader.target import describe as describe_runs

REPORT_FILE = "report.txt"
MAX_HISTORY_KEYS = 8
StatusHandler = Callable[[str], None]


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


@dataclass
class _Progress:
    """Where a grade has got to; turned into a ``Grade`` whatever happened."""

    checks: dict[Check, CheckResult]
    problem: str | None = None
    log: str = ""
    model: dict[str, Any] = field(default_factory=dict)  # optimizer, learning rate and loss as built
    history: list[dict[str, float]] = field(default_factory=list)  # per-epoch logs the child reported
    baseline: Baseline | None = None
    runs: list[TargetRun] = field(default_factory=list)  # time-to-accuracy: one per seed
    training_started: float | None = None  # when the child reported its first epoch beginning


@dataclass(frozen=True)
class _Setting:
    """Where and how one grade runs: shared by its children and the reference's calibration."""

    task: Assignment
    data: Dataset
    console: Console
    cache_root: Path | None
    cpus: frozenset[int] | None
    cancellation: Cancellation | None
    on_status: StatusHandler


def grade(
    submission: Path | str,
    *,
    assignment: Assignment | str | Path | None = None,
    dataset: str | None = None,
    data_dir: Path | None = None,
    cache_root: Path | None = None,
    console: Console | None = None,
    sandbox: str = "auto",
    cpus: frozenset[int] | None = None,
    cancellation: Cancellation | None = None,
    on_status: StatusHandler | None = None,
) -> Grade:
    """Grade one submission folder. Raises ``SubmissionError``, ``AssignmentError`` or
    ``DataError`` for usage problems (``SandboxError`` when ``sandbox="required"`` cannot be met);
    anything the submission does wrong ends up in the grade.

    A class batch passes ``cpus`` (the cores this grade's children are pinned to),
    ``cancellation`` (to stop them on Ctrl-C; a cancelled grade raises ``Cancelled``) and
    ``on_status`` (called with a short phase description for its live view)."""
    started = time.monotonic()
    console = console or Console()
    isolation = choose(sandbox)
    if isolation.kind != "bubblewrap" and sandbox != "off":
        console.print(f"[bold yellow]Warning: no sandbox; {isolation.describe()}.[/bold yellow]")
    folder = read_submission(submission)
    task = resolve_assignment(folder, assignment)
    if dataset:
        task = task.with_dataset(dataset)
    unsupported = precision_problem(task.training.precision)
    if unsupported:
        raise AssignmentError(f"{task.path or task.name}: {unsupported}")
    data = load_dataset(task.dataset, data_dir=data_dir)
    environment = {
        "data_source": f"{data.name} from {data.source.describe()}",
        "sandbox": isolation.describe(),
        "precision": task.training.precision,
    }
    progress = _Progress({})
    setting = _Setting(
        task, data, console, cache_root, cpus, cancellation, on_status or (lambda status: None)
    )
    notes = list(folder.notes)
    metrics = Metrics()
    timings: dict[str, float] = {}

    if not folder.has_model:
        progress.problem = (
            f"No model.py in {folder.name}/: the submission must define build_model() in model.py."
        )
        _not_run(task.checks, progress, "there is no model.py to grade.")
    else:
        console.print(f"Grading [bold]{folder.display_name}[/bold] ({folder.folder}) on {task.title}")
        with tempfile.TemporaryDirectory(prefix="grader-") as scratch, contextlib.ExitStack() as stack:

            def child(name: str, subject: Subject, seed: int = first_seed(task)) -> Runner:
                return Runner(
                    subject,
                    recipe=task.reference,
                    training=replace(task.training, seed=seed),
                    work=Path(scratch) / name,
                    sandbox=isolation,
                    limits=task.limits,
                    cpus=cpus,
                    cancellation=cancellation,
                    target=task.target.accuracy if task.target else None,
                )

            def another_run(seed: int) -> Runner:
                return child(f"run-{seed}", Subject.submission(folder.model_file), seed)

            runner = child("run", Subject.submission(folder.model_file))
            verifier = child("verify", Subject.saved_model())
            verifier.start()  # its TensorFlow starts while the submission's does
            stack.callback(verifier.stop)
            with runner:
                environment.update({k: v for k, v in runner.ready.items() if k != "event"})
                metrics = _run_checks(setting, runner, verifier, progress, notes, timings, another_run)
            timings.update(runner.timings)
            if "predict" in verifier.timings:
                timings["predict"] = verifier.timings["build"] + verifier.timings["predict"]
            environment["peak_memory_mb"] = round(runner.peak_memory_mb)
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
        checks=tuple(progress.checks[check] for check in task.checks),
        execution_time=timings["total"],
        metrics=metrics,
        timings=timings,
        environment=environment,
        problem=progress.problem,
        log=progress.log,
        model=progress.model,
        notes=tuple(notes),
        history=tuple(progress.history),
        baseline=_baseline_figures(progress.baseline),
        time_to_accuracy=summary(task.target, progress.runs) if task.target and progress.runs else {},
    )


def _run_checks(
    setting: _Setting,
    runner: Runner,
    verifier: Runner,
    progress: _Progress,
    notes: list[str],
    timings: dict[str, float],
    another_run: Callable[[int], Runner],
) -> Metrics:
    task, data, status = setting.task, setting.data, setting.on_status
    status("building")
    try:
        built = runner.build()
    except PhaseFailed as failure:
        where = f" ({failure.where})" if failure.where else ""
        progress.problem = f"The model did not build: {failure.message}{where}"
        progress.log = failure.log
        _not_run(task.checks, progress, "the model did not build (see above).")
        return Metrics()
    if built.compiled_by == "assignment":
        notes.append(
            f"build_model() returned an uncompiled model; it was compiled with the assignment's "
            f"{built.optimizer} and {built.loss}."
        )
    notes.extend(built.notes)
    progress.model = {"optimizer": built.optimizer, "learning_rate": built.learning_rate, "loss": built.loss}
    metrics = Metrics(parameters=built.facts.total_params)

    baseline = _baseline(setting, timings) if task.needs_baseline else None
    progress.baseline = baseline
    evidence = Evidence(facts=built.facts, baseline=baseline)
    cheap = [check for check in task.checks if check.phase == "build"]
    for check in cheap:
        progress.checks[check] = check.run(evidence)
    training_checks = [check for check in task.checks if check.phase == "train"]
    if not training_checks:
        return metrics
    blocking = [check.name for check in cheap if check.gates and not progress.checks[check].passed]
    if blocking and not task.train_despite_failures:
        _not_run(training_checks, progress, f"training was skipped because {_join(blocking)} failed.")
        return metrics

    try:
        verifier.wait_ready()  # before training starts, so its start-up never competes with training
    except PhaseFailed as failure:
        raise RuntimeError(f"the grader's verifier did not start: {failure.message}\n{failure.log}") from None
    status("training")
    with TrainingDisplay(setting.console, runner.subject.label) as display:
        runner.on_event = _recording(display, progress, status, task.training.max_epochs)
        try:
            trained = runner.train(*training_split(task.target, data.x_train, data.y_train))
        except PhaseFailed as failure:
            progress.problem = f"Training stopped: {failure.message}"
            progress.log = failure.log
            for check in training_checks:
                if check.kind == "training_time" and failure.limit == "training.time_limit_s":
                    progress.checks[check] = CheckResult(
                        check.name, check.points, 0.0, "failed", failure.message
                    )
                else:
                    _not_run([check], progress, "training did not finish (see above).")
            return metrics
    if math.isnan(trained.final.get("loss", 0.0)):
        notes.append(
            "The training loss became NaN (not a number): training diverged, and the model's outputs "
            "are probably NaN too. A lower learning rate, or a loss that matches the output layer, usually fixes it."
        )
    notes.append(
        f"Trained for {trained.epochs} epoch{'' if trained.epochs == 1 else 's'} in {trained.seconds:.1f} s."
    )
    metrics = Metrics(parameters=built.facts.total_params, train_seconds=trained.seconds)
    status("evaluating")
    try:
        loaded = _load_trained(runner, verifier, task)
    except PhaseFailed as failure:
        progress.problem = f"The trained model could not be checked: {failure.message}"
        progress.log = failure.log
        _not_run(training_checks, progress, "the trained model could not be checked (see above).")
        return metrics
    if not _same_model(loaded.facts, built.facts):
        progress.problem = (
            f"The trained model ({loaded.facts.total_params:,} parameters) is not the model build_model() "
            f"reported ({built.facts.total_params:,} parameters); the checks use the trained model."
        )
        for check in cheap:
            progress.checks[check] = check.run(Evidence(facts=loaded.facts, baseline=baseline))
        _not_run(training_checks, progress, "the trained model is not the model that was built (see above).")
        return Metrics(parameters=loaded.facts.total_params)
    try:
        scores = verifier.predict(data.x_test)
        accuracy, problem = score_predictions(scores, data.y_test)
    except PhaseFailed as failure:
        accuracy, problem = None, f"Predicting on the test images failed: {failure.message}"
        progress.log = failure.log
    if problem:
        progress.problem = problem
    if accuracy is not None:
        public, private = split_accuracies(correct(scores, data.y_test))
        metrics = Metrics(built.facts.total_params, trained.seconds, accuracy, public, private)
    seconds, missed = trained.seconds, ""
    if task.target is not None:
        runs = _time_to_target(setting, trained, loaded.facts, verifier, another_run)
        progress.runs = runs
        notes.append(describe_runs(task.target, runs))
        missed = next((run.problem for run in runs if not run.reached), "")
        if not missed:
            seconds = aggregate([run.seconds for run in runs])
            metrics = replace(metrics, train_seconds=seconds)
    evidence = Evidence(built.facts, baseline, seconds, accuracy)
    for check in training_checks:
        if check.kind == "accuracy" and accuracy is None:
            _not_run([check], progress, problem or "no predictions to score.")
        elif check.kind == "training_time" and missed:
            progress.checks[check] = CheckResult(check.name, check.points, 0.0, "failed", missed)
        else:
            progress.checks[check] = check.run(evidence)
    return metrics


def first_seed(task: Assignment) -> int:
    """The seed of the first (or only) training run."""
    return task.target.seeds[0] if task.target else task.training.seed


def _time_to_target(
    setting: _Setting,
    trained: Trained,
    facts: ModelFacts,
    verifier: Runner,
    another_run: Callable[[int], Runner],
) -> list[TargetRun]:
    """Each seed's run, verified: the first is already trained and loaded by the verifier; every
    further seed trains in a fresh runner, and the verifier measures its saved model too."""
    task, data = setting.task, setting.data
    assert task.target is not None
    x_train, y_train, validation = training_split(task.target, data.x_train, data.y_train)
    assert validation is not None
    x_val, y_val = validation
    seeds = task.target.seeds
    runs = [_verified(task.target.accuracy, seeds[0], trained, verifier, x_val, y_val)]
    for number, seed in enumerate(seeds[1:], 2):
        if not runs[-1].reached:
            break  # one miss fails the check: the other seeds would only cost time
        setting.on_status(f"training, run {number}/{len(seeds)} (seed {seed})")
        try:
            with another_run(seed) as runner:
                runner.build()
                again = runner.train(x_train, y_train, validation)
                loaded = _load_trained(runner, verifier, task)
        except PhaseFailed as failure:
            runs.append(TargetRun(seed, 0.0, 0, None, False, f"Seed {seed}: {failure.message}"))
            continue
        if not _same_model(loaded.facts, facts):
            problem = f"Seed {seed} trained a different model than seed {seeds[0]}."
            runs.append(TargetRun(seed, again.seconds, again.epochs, None, False, problem))
            continue
        runs.append(_verified(task.target.accuracy, seed, again, verifier, x_val, y_val))
    return runs


def _verified(
    target: float, seed: int, trained: Trained, verifier: Runner, x_val: np.ndarray, y_val: np.ndarray
) -> TargetRun:
    """A run reached the target only if the saved model, loaded by the verifier, scores it."""
    try:
        scores = verifier.predict(x_val)
    except PhaseFailed as failure:
        return TargetRun(
            seed, trained.seconds, trained.epochs, None, False, f"Seed {seed}: {failure.message}"
        )
    if scores.shape != (len(y_val), 10):
        problem = f"Seed {seed}: the model's predictions have shape {scores.shape}, not (images, 10)."
        return TargetRun(seed, trained.seconds, trained.epochs, None, False, problem)
    accuracy = accuracy_on(scores, y_val)
    if accuracy >= target:
        return TargetRun(seed, trained.seconds, trained.epochs, accuracy, True)
    return TargetRun(
        seed,
        trained.seconds,
        trained.epochs,
        accuracy,
        False,
        f"Seed {seed} did not reach {target:.2%} on the held-out validation split: its trained model "
        f"scores {accuracy:.2%} there after {trained.epochs} epoch{'' if trained.epochs == 1 else 's'}.",
    )


def _load_trained(runner: Runner, verifier: Runner, task: Assignment) -> Built:
    """The trained model as the verifier loads it: no submission code runs from here on."""
    runner.stop()
    try:
        copy_file(runner.work / SAVED_MODEL, verifier.work / SAVED_MODEL, max_bytes=task.limits.file_mb * MB)
    except UnsafeFile as error:
        raise PhaseFailed("verify", f"its saved model was refused ({error}).") from None
    return verifier.build()


def _same_model(a: ModelFacts, b: ModelFacts) -> bool:
    def shape(facts: ModelFacts) -> list[tuple[str, tuple[int | None, ...], int]]:
        return [(layer.kind, layer.output_shape, layer.params) for layer in facts.layers]

    return a.total_params == b.total_params and shape(a) == shape(b)


def score_predictions(scores: np.ndarray, labels: np.ndarray) -> tuple[float | None, str | None]:
    """Accuracy of argmax(scores) against ``labels``; rows with NaN or infinity count as wrong."""
    expected = (len(labels), 10)
    if scores.shape != expected:
        return None, (
            f"The model's predictions have shape {scores.shape}; expected {expected}, "
            "one row of 10 class scores per test image."
        )
    finite = np.isfinite(scores).all(axis=1)
    accuracy = accuracy_on(scores, labels)
    problem = (
        None
        if finite.all()
        else f"{int((~finite).sum()):,} predictions were NaN or infinite and count as wrong."
    )
    return accuracy, problem


def _recording(
    display: TrainingDisplay, progress: _Progress, status: StatusHandler, max_epochs: int
) -> Callable[[dict[str, Any]], None]:
    """Feed the display, keep each epoch's logs for the training curves, report the epoch."""

    def handle(event: dict[str, Any]) -> None:
        display(event)
        if event.get("event") == "batch" and progress.training_started is None:
            progress.training_started = time.monotonic()  # the child's first epoch begins (data loaded)
        if event.get("event") != "epoch" or len(progress.history) >= max_epochs:
            return
        logs = event.get("logs") if isinstance(event.get("logs"), dict) else {}
        kept = {
            str(key)[:32]: float(value)
            for key, value in list(logs.items())[:MAX_HISTORY_KEYS]
            if type(value) in (int, float) and math.isfinite(value)
        }
        progress.history.append(kept)
        status(f"training, epoch {len(progress.history)}/{max_epochs} done")

    return handle


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


def _baseline(setting: _Setting, timings: dict[str, float]) -> Baseline:
    started = time.monotonic()
    task, console = setting.task, setting.console
    label = f"reference {task.reference}"

    def starting() -> None:
        setting.on_status(f"measuring the {label}")
        console.print(
            f"Measuring the {label} on this machine (once; cached in {_short(setting.cache_root or cache_dir())})"
        )

    with TrainingDisplay(console, label) as display:
        calibration = calibrate(
            task,
            setting.data,
            cache_root=setting.cache_root,
            on_event=display,
            on_start=starting,
            cpus=setting.cpus,
            cancellation=setting.cancellation,
        )
    if not calibration.cached:
        timings["calibration"] = time.monotonic() - started
    return calibration.baseline


def _not_run(checks: list[Check] | tuple[Check, ...], progress: _Progress, reason: str) -> None:
    for check in checks:
        progress.checks[check] = check.not_run(reason)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _short(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def write_outputs(result: Grade, out_dir: Path) -> tuple[Path, Path]:
    """``results.json`` (Gradescope) and ``report.txt`` in ``out_dir``, each written atomically."""
    results = write_results(result, out_dir)
    report = Path(out_dir) / REPORT_FILE
    write_text_atomic(report, report_text(result))
    return results, report


__all__ = [
    "SubmissionError",
    "grade",
    "render_grade",
    "resolve_assignment",
    "score_predictions",
    "write_outputs",
]
