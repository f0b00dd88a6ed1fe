"""Grading as phases: build, rebuild, gate, probe, train, verify, predict, time to target, time, score.

Each phase takes the grade's ``Context`` (what is fixed: the assignment, the data, the children)
and its ``Progress`` (what has been found so far), and either adds to the progress or raises
``PhaseFailure``. ``execute`` runs them in order and is the one place where a failure becomes
the grade's problem, its log and the checks it left unscored, the way nox's
``SessionRunner.execute`` is the one place where an exception becomes a session's status.

Which child trains follows ``training.trainer``. Under ``"grader"`` the runner (the builder,
which runs the submission's code) only declares its model and is stopped; the trainer, which runs
none of it, rebuilds the declared model with fresh weights, and its facts are what the cheap
checks see and its training is what the clock measures and the verifier scores. Under
``"submission"`` the runner trains itself, and ``probe`` first checks that the model it built has
not arrived trained.

The children are behind the small ``Child`` protocol, so tests drive every branch with stand-ins
in milliseconds; ``grader.grade`` gives the pipeline real ones.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from grader.assignment import Assignment
from grader.checks import Baseline, Check, CheckResult, Evidence, TrainingTime
from grader.data import Dataset
from grader.declaration import REFUSAL, described
from grader.model_facts import ModelFacts
from grader.results import Metrics
from grader.runner.files import UnsafeFile, copy_file
from grader.runner.supervisor import BUILT_MODEL, SAVED_MODEL, Built, PhaseFailed, Subject, Trained
from grader.scoring import accuracy, matched_accuracy, score_test
from grader.settings import MB
from grader.target import Run, describe, training_split
from grader.timing import COST_LIMIT_KEY, Cost, CostLimit, PaceMark, Timing, timed_training

MAX_HISTORY_KEYS = 8
PROBE_IMAGES = 1000  # training images the model is scored on before training
# The most a model may score on them before training. Freshly initialised, the five references
# scored 3.9% to 16.1% over seeds 1 to 10 (TensorFlow 2.21; tests/test_references.py holds every
# reference under it); weights fitted beforehand score over 85% there.
UNTRAINED_MAX = 0.3
# The most it may score with its classes renamed to fit the labels best (scoring.matched_accuracy):
# random features already sort digits a little, and the references scored up to 27.3% so over
# seeds 1 to 10; a classifier that answers with its classes permuted scores its accuracy.
UNMATCHED_MAX = 0.5
EventHandler = Callable[[dict[str, Any]], None]
StatusHandler = Callable[[str], None]


class Child(Protocol):
    """A runner child as the pipeline uses it (grader.runner.supervisor.Runner)."""

    work: Path
    subject: Subject
    on_event: EventHandler | None

    def wait_ready(self) -> None: ...
    def build(self, images: tuple[np.ndarray, np.ndarray] | None = None) -> Built: ...
    def rebuild(self, declaration: dict[str, Any]) -> Built: ...
    def train(self, x: np.ndarray, y: np.ndarray, validation: Any = None, watch: Any = None) -> Trained: ...
    def predict(self, x: np.ndarray) -> np.ndarray: ...
    def cpu_seconds(self) -> float: ...
    def pace(self, x: np.ndarray, y: np.ndarray) -> PaceMark: ...
    def mark(self) -> PaceMark: ...
    def stop_pacing(self) -> PaceMark: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Child: ...
    def __exit__(self, *exc: object) -> None: ...


class PhaseFailure(Exception):
    """A phase could not go on. ``reason`` is why the checks without a result were not run;
    ``problem`` and ``log`` are for the student; ``results`` are checks it did settle."""

    def __init__(
        self,
        reason: str,
        *,
        problem: str | None = None,
        log: str = "",
        results: Mapping[Check, CheckResult] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problem = problem
        self.log = log
        self.results = dict(results or {})


class Finished(PhaseFailure):
    """Nothing is left to grade (an assignment without training checks): not a failure."""

    def __init__(self) -> None:
        super().__init__("nothing left to check")


@dataclass(frozen=True)
class Context:
    """What one grade runs with: fixed from its first phase to its last."""

    task: Assignment
    data: Dataset
    runner: Child  # started and ready; runs the submission's code (the builder)
    trainer: Child | None  # trainer = "grader": started with the runner, runs none of its code; else None
    verifier: Child  # started when training begins; runs none of it: paces training, loads the trained model, predicts
    another_trainer: Callable[[int], Child]  # a fresh child that trains another seed (time to accuracy)
    baseline: Callable[[], Baseline]  # the reference's figures, measured or cached
    display: Callable[[str], AbstractContextManager[EventHandler]]  # a progress display while training
    on_status: StatusHandler = lambda status: None
    label: str = "submission"

    def checks(self, phase: str) -> list[Check]:
        return [check for check in self.task.checks if check.phase == phase]

    @property
    def trainee(self) -> Child:
        """The child that trains: the grader's trainer, or under trainer = "submission" the runner."""
        return self.trainer or self.runner

    @property
    def scorer(self) -> Child:
        """The child whose predictions are scored: the grader's trainer, which holds the model it
        trained (built from vetted Keras classes only, so reloading it would check nothing), or
        under trainer = "submission" the verifier, once it has loaded the runner's saved model."""
        return self.trainer or self.verifier


@dataclass
class Progress:
    """Where a grade has got to; ``execute`` turns it into the checks' results whatever happened."""

    results: dict[Check, CheckResult] = field(default_factory=dict)
    sealed: dict[Check, CheckResult] = field(default_factory=dict)  # shown to students later (Check.sealed)
    problem: str | None = None
    log: str = ""
    notes: list[str] = field(default_factory=list)  # the grader's own
    said: list[str] = field(default_factory=list)  # notes from the submission's process (bounded)
    said_cut: int = 0  # and how many more it sent
    model: dict[str, Any] = field(default_factory=dict)  # optimizer, learning rate and loss as built
    history: list[dict[str, float]] = field(default_factory=list)  # per-epoch logs the child reported
    metrics: Metrics = field(default_factory=Metrics)
    baseline: Baseline | None = None
    built: Built | None = None  # as the child that trains built it (under "grader", the trainer)
    declaration: dict[str, Any] | None = None  # what the runner declared (trainer = "grader")
    trained: Trained | None = None
    costs: list[Cost] = field(default_factory=list)  # the training clock, one per run
    runs: list[Run] = field(default_factory=list)  # time to accuracy: one per seed
    missed: str = ""  # why time to accuracy failed, if it did
    test_scores: np.ndarray | None = None  # the trained model's outputs on the test images
    unpredicted: PhaseFailed | None = None  # why there are none
    cpu_before_build: float = 0.0
    training_started: float | None = None  # when the child reported its first epoch beginning

    @property
    def timing(self) -> Timing | None:
        return Timing.of(self.costs) if self.costs else None


Phase = Callable[[Context, Progress], None]


def execute(context: Context, phases: tuple[Phase, ...] | None = None) -> Progress:
    """Run ``phases`` (all of them by default) in order; the first failure ends the run, and every
    check without a result is marked not run with the failure's reason."""
    progress = Progress()
    reason = ""
    try:
        for phase in phases or PHASES:
            phase(context, progress)
    except PhaseFailure as failure:
        progress.problem = failure.problem or progress.problem
        progress.log = failure.log or progress.log
        progress.results.update(failure.results)
        reason = failure.reason
    for check in context.task.checks:
        if check not in progress.results:
            progress.results[check] = check.not_run(reason)
    return progress


def results_in_order(task: Assignment, progress: Progress) -> tuple[CheckResult, ...]:
    """Every check's result in the assignment's order, each followed by its sealed result."""
    found: list[CheckResult] = []
    for check in task.checks:
        found.append(progress.results[check])
        if check in progress.sealed:
            found.append(progress.sealed[check])
    return tuple(found)


# -- the phases --------------------------------------------------------------------------------
def build(context: Context, progress: Progress) -> None:
    """Import the submission and build its model in the runner; its facts and the compile settings."""
    context.on_status("building")
    progress.cpu_before_build = context.runner.cpu_seconds()
    try:
        built = context.runner.build(images=_images(context))
    except PhaseFailed as failure:
        where = f" ({failure.where})" if failure.where else ""
        refused = failure.message.startswith(REFUSAL)
        raise PhaseFailure(
            "the grader cannot train this model (see above)."
            if refused
            else "the model did not build (see above).",
            problem=_sentence(failure.message) + where
            if refused
            else f"The model did not build: {failure.message}{where}",
            log=failure.log,
        ) from None
    if built.compiled_by == "assignment":
        progress.notes.append(
            f"build_model() returned an uncompiled model; it was compiled with the assignment's "
            f"{built.optimizer} and {built.loss}."
        )
    progress.said.extend(built.notes)  # written in the submission's process: its word
    progress.said_cut += built.notes_cut
    progress.model = {"optimizer": built.optimizer, "learning_rate": built.learning_rate, "loss": built.loss}
    progress.built = built
    progress.declaration = built.declaration if context.trainer is not None else None
    progress.metrics = Metrics(parameters=built.facts.total_params)


def _built_by(context: Context) -> str:
    """The model as the student's code handed it over, in their terms."""
    return (
        "your code passed it to model.fit"
        if context.runner.subject.runs_program
        else "build_model() returned it"
    )


def _images(context: Context) -> tuple[np.ndarray, np.ndarray]:
    """What a notebook's or script's ``load_data()`` returns: the grader's training images."""
    return context.data.x_train, context.data.y_train


def rebuild(context: Context, progress: Progress) -> None:
    """Under trainer = "grader": stop the runner (nothing it does from now on can matter) and have
    the trainer rebuild the model it declared; from here on every fact is the trainer's."""
    if context.trainer is None:
        return
    assert progress.built is not None
    context.runner.stop()
    if progress.declaration is None:
        raise PhaseFailure(
            "the model was not declared (see above).",
            problem="The model did not build: the runner handed over no declaration of the model.",
        )
    try:
        context.trainer.wait_ready()
    except PhaseFailed as failure:
        raise RuntimeError(f"the grader's trainer did not start: {failure.message}\n{failure.log}") from None
    progress.cpu_before_build = context.trainer.cpu_seconds()
    try:
        built = context.trainer.rebuild(progress.declaration)
    except PhaseFailed as failure:
        raise PhaseFailure(
            "the grader cannot train this model (see above).",
            problem=_sentence(failure.message),
            log=failure.log,
        ) from None
    progress.notes.extend(built.notes)
    progress.model = {"optimizer": built.optimizer, "learning_rate": built.learning_rate, "loss": built.loss}
    progress.built = replace(built, compiled_by=progress.built.compiled_by)
    progress.metrics = Metrics(parameters=built.facts.total_params)


def gate(context: Context, progress: Progress) -> None:
    """The cheap checks on the built model's facts; training only if the gating ones pass."""
    assert progress.built is not None
    progress.baseline = context.baseline() if context.task.needs_baseline else None
    cheap = context.checks("build")
    evidence = Evidence(facts=progress.built.facts, baseline=progress.baseline)
    for check in cheap:
        progress.results[check] = check.run(evidence)
    if not context.checks("train"):
        raise Finished
    blocking = [check.name for check in cheap if check.gates and not progress.results[check].passed]
    if blocking and not context.task.train_despite_failures:
        raise PhaseFailure(f"training was skipped because {described(blocking)} failed.")


def probe(context: Context, progress: Progress) -> None:
    """Before training, the model as it will be trained must score near chance on some of the
    grader's training images, or it carries what it did not learn and its accuracy is not the
    grader's to credit. Under trainer = "grader" that is the grader's own rebuild, freshly
    initialised, asked by the trainer itself, whatever route a classifier took into it; under
    "submission" the model as built, loaded by the verifier. (Weights a self-trained submission
    swaps in after training began are not seen here: the security model, docs/security.md, says
    what that trainer cannot guarantee.)"""
    x, labels = context.data.x_train[-PROBE_IMAGES:], context.data.y_train[-PROBE_IMAGES:]
    if context.trainer is not None:
        context.on_status("checking the rebuilt model before training")
        cpu = context.trainer.cpu_seconds()
        found, matched, problem = _untrained(context.trainer, x, labels)
        progress.cpu_before_build += context.trainer.cpu_seconds() - cpu  # the check is not training
        subject = "as the grader rebuilt it from its declaration, freshly initialised and before any training"
    else:
        _start_verifier(context)
        context.on_status("checking the model as built")
        try:
            copy_file(
                context.runner.work / BUILT_MODEL,
                context.verifier.work / SAVED_MODEL,
                max_bytes=context.task.limits.file_mb * MB,
            )
            context.verifier.build()
            found, matched, problem = _untrained(context.verifier, x, labels)
        except UnsafeFile as error:
            found, matched, problem = None, None, f"it was not saved as built ({error})"
        except PhaseFailed as failure:
            found, matched, problem = None, None, failure.message
        subject = f"as {_built_by(context)}, before any training"
    if found is not None and matched is not None and found <= UNTRAINED_MAX and matched <= UNMATCHED_MAX:
        progress.notes.append(
            f"Before training, the model scored {found:.1%} on {len(labels):,} of the grader's "
            "training images (chance is about 10%)."
        )
        return
    if found is None or matched is None:
        message = f"The model as built could not be checked before training: {problem}."
    else:
        scored = (
            f"it scored {found:.1%} on {len(labels):,} of the grader's training images"
            if found > UNTRAINED_MAX
            else f"its answers on {len(labels):,} of the grader's training images matched their labels "
            f"{matched:.1%} of the time once its classes were renamed (at most {UNMATCHED_MAX:.0%} is "
            "accepted)"
        )
        message = (
            f"The model arrived trained: {subject}, {scored}, where a freshly initialised model "
            f"scores near chance (about 10%; at most {UNTRAINED_MAX:.0%} is accepted). It carries "
            "what it did not learn here, and accuracy must come from the grader's training, not "
            "from anything made beforehand."
        )
    failed = {check: check.failed(message) for check in context.checks("train") if check.kind == "accuracy"}
    raise PhaseFailure("training was skipped (see above).", problem=message, results=failed)


def _untrained(child: Child, x: np.ndarray, labels: np.ndarray) -> tuple[float | None, float | None, str]:
    """``child``'s model's accuracy on ``x``, and its accuracy with its classes renamed to fit best."""
    try:
        scores = child.predict(x)
    except PhaseFailed as failure:
        return None, None, failure.message
    if scores.shape != (len(labels), 10):
        return None, None, f"its outputs have shape {scores.shape}, not (images, 10)"
    return accuracy(scores, labels), matched_accuracy(scores, labels), ""


def train(context: Context, progress: Progress) -> None:
    """Train on the training split while the verifier paces it (the training clock)."""
    task, runner = context.task, context.trainee
    _start_verifier(context)  # before training starts, so its start-up never competes with it
    context.on_status("training")
    x, y, validation = training_split(task.target, context.data.x_train, context.data.y_train)
    with context.display(context.label) as display:
        runner.on_event = _recording(display, progress, context.on_status, task.training.max_epochs)
        try:
            trained, cost = timed_training(
                runner,
                context.verifier,
                x,
                y,
                validation,
                cpu_from=progress.cpu_before_build,
                limit=_cost_limit(context, progress),
            )
        except PhaseFailed as failure:
            stopped = {
                check: check.failed(failure.message)
                for check in context.checks("train")
                if check.kind == "training_time"
                and failure.limit in ("training.time_limit_s", COST_LIMIT_KEY)
            }
            raise PhaseFailure(
                "training did not finish (see above).",
                problem=f"Training stopped: {failure.message}",
                log=failure.log,
                results=stopped,
            ) from None
    if math.isnan(trained.final.get("loss", 0.0)):
        progress.notes.append(
            "The training loss became NaN (not a number): training diverged, and the model's outputs "
            "are probably NaN too. A lower learning rate, or a loss that matches the output layer, usually fixes it."
        )
    progress.notes.append(
        f"Trained for {trained.epochs} epoch{'' if trained.epochs == 1 else 's'} in {trained.seconds:.1f} s."
    )
    progress.trained = trained
    progress.costs = [cost]
    progress.metrics = replace(progress.metrics, train_seconds=trained.seconds)


def _cost_limit(context: Context, progress: Progress) -> CostLimit | None:
    """The training-time check's limit, to stop a run that can no longer pass it. None without
    such a check, and with a ``[target]``: its check judges several seeds' runs together, which no
    one run's cost decides."""
    checks = [check for check in context.checks("train") if isinstance(check, TrainingTime)]
    if len(checks) != 1 or context.task.target is not None:
        return None
    check = checks[0]
    if check.max_ratio is not None:
        if progress.baseline is None or progress.baseline.timing is None:
            return None
        return CostLimit(max_ratio=check.max_ratio, reference=progress.baseline.timing)
    return CostLimit(max_seconds=check.max_seconds)


def verify(context: Context, progress: Progress) -> None:
    """Under trainer = "submission": load the trained model in the verifier (no submission code)
    and check it is the model built. (The grader's trainer scores the model it trained itself.)"""
    assert progress.built is not None
    context.on_status("evaluating")
    if context.trainer is not None:
        return
    try:
        loaded = load_trained(context.trainee, context.verifier, context.task)
    except PhaseFailed as failure:
        raise PhaseFailure(
            "the trained model could not be checked (see above).",
            problem=f"The trained model could not be checked: {failure.message}",
            log=failure.log,
        ) from None
    if not same_model(loaded.facts, progress.built.facts):
        evidence = Evidence(facts=loaded.facts, baseline=progress.baseline)
        progress.metrics = Metrics(parameters=loaded.facts.total_params)
        raise PhaseFailure(
            "the trained model is not the model that was built (see above).",
            problem=(
                f"The trained model ({loaded.facts.total_params:,} parameters) is not the model "
                f"build_model() reported ({progress.built.facts.total_params:,} parameters); the checks "
                "use the trained model."
            ),
            results={check: check.run(evidence) for check in context.checks("build")},
        )


def predict(context: Context, progress: Progress) -> None:
    """The scorer's outputs on the test images, kept for ``score`` (later runs of time to accuracy
    are other models)."""
    try:
        progress.test_scores = context.scorer.predict(context.data.x_test)
    except PhaseFailed as failure:
        progress.unpredicted = failure


def time_to_target(context: Context, progress: Progress) -> None:
    """With a ``[target]``: every seed's run, each verified on the held-out split (grader/target.py)."""
    target = context.task.target
    if target is None:
        return
    assert progress.built is not None and progress.trained is not None
    x, y, validation = training_split(target, context.data.x_train, context.data.y_train)
    assert validation is not None
    seeds = target.seeds
    runs = [_verified(target.accuracy, seeds[0], progress.trained, context.scorer, *validation)]
    for number, seed in enumerate(seeds[1:], 2):
        if not runs[-1].reached:
            break  # one miss fails the check: the other seeds would only cost time
        context.on_status(f"training, run {number}/{len(seeds)} (seed {seed})")
        try:
            with context.another_trainer(seed) as trainee:
                cpu_from = trainee.cpu_seconds()
                if progress.declaration is not None:
                    trainee.rebuild(progress.declaration)  # the one model declared, trained afresh
                else:
                    trainee.build(images=_images(context))
                again, cost = timed_training(trainee, context.verifier, x, y, validation, cpu_from=cpu_from)
                if progress.declaration is not None:  # the grader's trainer scores what it trained
                    runs.append(_verified(target.accuracy, seed, again, trainee, *validation))
                    progress.costs.append(cost)
                    continue
                loaded = load_trained(trainee, context.verifier, context.task)
        except PhaseFailed as failure:
            runs.append(Run(seed, 0.0, 0, None, False, f"Seed {seed}: {failure.message}"))
            continue
        if not same_model(loaded.facts, progress.built.facts):
            problem = f"Seed {seed} trained a different model than seed {seeds[0]}."
            runs.append(Run(seed, again.seconds, again.epochs, None, False, problem))
            continue
        runs.append(_verified(target.accuracy, seed, again, context.verifier, *validation))
        progress.costs.append(cost)
    progress.runs = runs
    progress.notes.append(describe(target, runs))
    progress.missed = next((run.problem for run in runs if not run.reached), "")


def time_training(context: Context, progress: Progress) -> None:
    """The training-time check, on the training clock's figures for every run."""
    timing = progress.timing
    assert progress.built is not None and timing is not None
    progress.metrics = replace(progress.metrics, train_seconds=timing.wall_seconds)
    if progress.baseline is not None and progress.baseline.timing is not None:
        ratio, noise = timing.ratio(progress.baseline.timing)
        progress.metrics = replace(progress.metrics, train_cost=round(ratio, 4), train_noise=round(noise, 4))
    if progress.missed:
        progress.metrics = replace(progress.metrics, train_cost=None)
    evidence = Evidence(progress.built.facts, progress.baseline, timing=timing)
    for check in context.checks("train"):
        if check.kind != "training_time":
            continue
        if progress.missed:
            progress.results[check] = check.failed(progress.missed)
        else:
            progress.results[check] = check.run(evidence)


def score(context: Context, progress: Progress) -> None:
    """Score the test predictions against labels no child has seen: only a run within its cost
    limit earns accuracy, as a run stopped over it (``train``) could not, so stopping one early,
    which depends on when the pace shows it is over, never changes a grade."""
    assert progress.built is not None
    over = [
        result
        for check, result in progress.results.items()
        if check.kind == "training_time" and result.status == "failed" and not progress.missed
    ]
    if over:
        raise PhaseFailure(
            "its training cost more than the training-time check allows, and accuracy counts only "
            "for training within the limit (see Training time)."
        )
    if progress.unpredicted is not None or progress.test_scores is None:
        message = progress.unpredicted.message if progress.unpredicted else "there were none"
        problem = f"Predicting on the test images failed: {message}"
        raise PhaseFailure(
            problem, problem=problem, log=progress.unpredicted.log if progress.unpredicted else ""
        )
    found = score_test(progress.test_scores, context.data.y_test)
    if found.problem:
        progress.problem = found.problem
    if found.accuracy is None:
        raise PhaseFailure(found.problem or "no predictions to score.")
    progress.metrics = replace(
        progress.metrics,
        accuracy=found.accuracy,
        public_accuracy=found.public,
        private_accuracy=found.private,
    )
    evidence = Evidence(progress.built.facts, progress.baseline, progress.timing, found)
    for check in context.checks("train"):
        if check.kind != "training_time":
            progress.results[check] = check.run(evidence)
            sealed = check.sealed(evidence)
            if sealed is not None:
                progress.sealed[check] = sealed


PHASES: tuple[Phase, ...] = (
    build,
    rebuild,
    gate,
    probe,
    train,
    verify,
    predict,
    time_to_target,
    time_training,
    score,
)


# -- helpers -----------------------------------------------------------------------------------
def load_trained(runner: Child, verifier: Child, task: Assignment) -> Built:
    """The trained model as the verifier loads it: no submission code runs from here on."""
    runner.stop()
    try:
        copy_file(runner.work / SAVED_MODEL, verifier.work / SAVED_MODEL, max_bytes=task.limits.file_mb * MB)
    except UnsafeFile as error:
        raise PhaseFailed("verify", f"its saved model was refused ({error}).") from None
    return verifier.build()


def same_model(a: ModelFacts, b: ModelFacts) -> bool:
    def shape(facts: ModelFacts) -> list[tuple[str, tuple[int | None, ...], int]]:
        return [(layer.kind, layer.output_shape, layer.params) for layer in facts.layers]

    return a.total_params == b.total_params and shape(a) == shape(b)


def _verified(
    target: float, seed: int, trained: Trained, verifier: Child, x_val: np.ndarray, y_val: np.ndarray
) -> Run:
    """A run reached the target only if the saved model, loaded by the verifier, scores it."""
    try:
        scores = verifier.predict(x_val)
    except PhaseFailed as failure:
        return Run(seed, trained.seconds, trained.epochs, None, False, f"Seed {seed}: {failure.message}")
    if scores.shape != (len(y_val), 10):
        problem = f"Seed {seed}: the model's predictions have shape {scores.shape}, not (images, 10)."
        return Run(seed, trained.seconds, trained.epochs, None, False, problem)
    reached = accuracy(scores, y_val)
    if reached >= target:
        return Run(seed, trained.seconds, trained.epochs, reached, True)
    epochs = f"{trained.epochs} epoch{'' if trained.epochs == 1 else 's'}"
    return Run(
        seed,
        trained.seconds,
        trained.epochs,
        reached,
        False,
        f"Seed {seed} did not reach {target:.2%} on the held-out validation split: its trained model "
        f"scores {reached:.2%} there after {epochs}.",
    )


def _recording(
    display: EventHandler, progress: Progress, status: StatusHandler, max_epochs: int
) -> EventHandler:
    """Feed the display, keep each epoch's logs for the training curves, report the epoch."""

    def handle(event: dict[str, Any]) -> None:
        display(event)
        if event.get("event") == "batch" and progress.training_started is None:
            progress.training_started = time.monotonic()  # the child's first epoch begins (data loaded)
        if event.get("event") != "epoch" or len(progress.history) >= max_epochs:
            return
        logs = event["logs"] if isinstance(event.get("logs"), dict) else {}
        kept = {
            str(key)[:32]: float(value)
            for key, value in list(logs.items())[:MAX_HISTORY_KEYS]
            if type(value) in (int, float) and math.isfinite(value)
        }
        progress.history.append(kept)
        status(f"training, epoch {len(progress.history)}/{max_epochs} done")

    return handle


def _start_verifier(context: Context) -> None:
    try:
        context.verifier.wait_ready()
    except PhaseFailed as failure:
        raise RuntimeError(f"the grader's verifier did not start: {failure.message}\n{failure.log}") from None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
