"""The reference's own figures on this machine: what relative limits are measured against.

The reference trains through the same children, on the same number of cores, with the same epoch
cap and seed and on the same training clock (a pace-setter beside it, grader/timing.py) as every
submission, and is scored by the same rule, so its cost and accuracy compare like for like. Under
``training.trainer = "grader"`` that means a builder declares it and the grader's trainer rebuilds
and trains the declaration, callbacks treated as a student's are; under ``"submission"`` it trains
where it is built, its own callbacks running. The
result is cached under a key of everything that could change it (the processor and its cores,
Python, TensorFlow and Keras versions, the data's content, the reference's source, the cap, seed,
precision and cores), so a class is not charged one reference training per student. The key
names no host: identical machines (a course's containers) share figures. ``grader calibrate``
measures again on demand.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from importlib import util
from pathlib import Path
from typing import Any

import numpy as np

from grader import backends
from grader.assignment import Assignment, AssignmentError
from grader.atomic import write_text_atomic
from grader.checks import Baseline
from grader.cores import CoresError, grade_cores, held_cores
from grader.data import Dataset
from grader.device import cpu_model
from grader.model_facts import ModelFacts
from grader.runner.supervisor import Cancellation, EventHandler, Runner, Subject, Trained
from grader.scoring import accuracy, aggregate, score_test
from grader.target import training_split
from grader.timing import Timing, timed_training

PROCEDURE = 5  # bump when calibration changes in a way that invalidates cached figures
CACHE_ENV = "GRADER_CACHE_DIR"
LOCK_WAIT_S = 0.2  # how often a grader waiting for another's calibration looks again


@dataclass(frozen=True)
class Calibration:
    """A baseline, where it came from, and the environment the reference ran in."""

    baseline: Baseline
    key: dict[str, Any]
    environment: dict[str, Any]
    measured_at: str
    cached: bool
    path: Path


def cache_dir() -> Path:
    """``GRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/grader``, else ``~/.cache/grader``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "grader"


def machine() -> str:
    """This machine as timings care about it: its processor model and core count (no host name,
    so identical machines share figures)."""
    return f"{cpu_model()} / {os.cpu_count()} cores"


def data_digest(data: Dataset) -> str:
    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _source_digest(reference: str) -> str:
    digest = hashlib.sha256()
    for module in (f"reference.{reference}", "reference.tutorial"):
        spec = util.find_spec(module)
        assert spec is not None and spec.origin is not None
        digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()


def calibration_key(assignment: Assignment, data: Dataset) -> dict[str, Any]:
    """Everything the reference's figures depend on, the cores it trains on included."""
    return {
        "procedure": PROCEDURE,
        "reference": assignment.reference,
        "reference_source": _source_digest(assignment.reference),
        "dataset": data.name,
        "data": data_digest(data),
        "max_epochs": assignment.training.max_epochs,
        "seed": assignment.training.seed,
        "precision": assignment.training.precision,
        "trainer": assignment.training.trainer,
        "target": _plain(asdict(assignment.target)) if assignment.target else None,
        "python": platform.python_version(),
        **backends.key(assignment.training.backend),
        "machine": machine(),
        "cores": assignment.training.cores,
    }


def _plain(table: dict[str, Any]) -> dict[str, Any]:
    """The table as JSON reads it back (tuples become lists), so a stored key compares equal."""
    return json.loads(json.dumps(table))


def cache_path(key: dict[str, Any], root: Path | None = None) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return (root or cache_dir()) / "calibration" / f"{key['reference']}-{key['dataset']}-{digest}.json"


def _read(path: Path, key: dict[str, Any]) -> Calibration | None:
    try:
        stored = json.loads(path.read_text())
        if stored["key"] != key:
            return None
        figures = stored["baseline"]
        baseline = Baseline(
            reference=str(figures["reference"]),
            dataset=str(figures["dataset"]),
            facts=ModelFacts.from_dict(figures["facts"]),
            train_seconds=float(figures["train_seconds"]),
            accuracy=float(figures["accuracy"]),
            epochs=int(figures["epochs"]),
            public_accuracy=float(figures["public_accuracy"]),
            private_accuracy=float(figures["private_accuracy"]),
            timing=Timing.from_dict(figures["timing"]),
        )
        return Calibration(baseline, key, dict(stored["environment"]), str(stored["measured_at"]), True, path)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or unreadable: measure again


def calibrate(
    assignment: Assignment,
    data: Dataset,
    *,
    force: bool = False,
    cache_root: Path | None = None,
    on_event: EventHandler | None = None,
    on_start: Callable[[], None] | None = None,
    cpus: frozenset[int] | None = None,
    cancellation: Cancellation | None = None,
) -> Calibration:
    """The reference's baseline for ``assignment`` on ``data``: cached, or measured now on
    ``training.cores`` of ``cpus``. A lock file makes graders that need the same figures at once
    (a class graded in parallel) measure them once: the others wait, then read the cache.

    Cores are always taken before the lock, never while holding it: a grade holds its cores when
    it asks, and a calibration that held the lock while it waited for cores waited on that grade
    as the grade waited on it (two processes, each forever)."""
    key = calibration_key(assignment, data)
    path = cache_path(key, cache_root)
    if not force:
        with _locked(path, cancellation):
            cached = _read(path, key)
        if cached is not None:
            return cached
    count = assignment.training.cores
    try:
        cores = grade_cores(count, cpus)  # enough of them, or say how many there are
    except CoresError as error:
        raise AssignmentError(f"{assignment.path or assignment.name}: {error}") from None
    # a grade's own cores are already held by it; otherwise hold some while measuring
    hold = (
        contextlib.nullcontext(cores)
        if cpus is not None
        else held_cores(count, None, cancellation=cancellation)
    )
    with hold as cores, _locked(path, cancellation):
        if not force:
            cached = _read(path, key)  # measured by another while this one waited
            if cached is not None:
                return cached
        if on_start is not None:
            on_start()
        return _measure(assignment, data, key, path, on_event, cores, cancellation)


@contextlib.contextmanager
def _locked(path: Path, cancellation: Cancellation | None) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        # released when the file closes, even if this process dies; polled, so Ctrl-C ends the wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                (cancellation or Cancellation()).pause(LOCK_WAIT_S)
        yield


def _measure(
    assignment: Assignment,
    data: Dataset,
    key: dict[str, Any],
    path: Path,
    on_event: EventHandler | None,
    cores: frozenset[int],
    cancellation: Cancellation | None,
) -> Calibration:
    name, target = assignment.reference, assignment.target
    seeds = assignment.seeds
    x_train, y_train, validation = training_split(target, data.x_train, data.y_train)
    costs = []
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="grader-calibrate-")))

        def child(work: str, seed: int, subject: Subject, pacer: bool = False) -> Runner:
            return Runner(
                subject,
                recipe=name,
                training=replace(assignment.training, seed=seed),
                work=scratch / work,
                limits=assignment.limits,
                on_event=None if pacer else on_event,
                cpus=cores,
                cancellation=cancellation,
                target=target.accuracy if target else None,
            )

        reference = Subject.for_reference(name)
        pacer = child("pace", seeds[0], reference, pacer=True).start()  # starts while the first run does
        stack.callback(pacer.stop)
        declaration = None
        if assignment.training.trainer == "grader":  # the pace-setter builds the reference: it declares it
            pacer.wait_ready()
            declaration = pacer.build().declaration
            assert declaration is not None, "a reference's builder declares its model"
        for seed in seeds:
            subject = reference if declaration is None else Subject.declaration()
            with child(f"run-{seed}", seed, subject) as runner:
                pacer.wait_ready()
                cpu_from = runner.cpu_seconds()
                facts = (runner.rebuild(declaration) if declaration is not None else runner.build()).facts
                trained, cost = timed_training(runner, pacer, x_train, y_train, validation, cpu_from=cpu_from)
                costs.append(cost)
                if target is not None and validation is not None:
                    _check_reached(
                        assignment,
                        target.accuracy,
                        seed,
                        trained,
                        runner.predict(validation[0]),
                        validation[1],
                    )
                if seed == seeds[0]:
                    built, first = facts, trained
                    scores = runner.predict(data.x_test)
                    environment = dict(runner.ready)
    environment.pop("event", None)
    timing = Timing.from_dict(Timing.of(costs).to_dict())  # as the cache will give it back
    trained = replace(first, seconds=aggregate([cost.wall_seconds for cost in costs]))
    found = score_test(scores, data.y_test)
    if found.accuracy is None:
        raise AssignmentError(f"the reference {name} gave no predictions to score: {found.problem}")
    baseline = Baseline(
        name,
        data.name,
        built,
        trained.seconds,
        found.accuracy,
        trained.epochs,
        found.public,
        found.private,
        timing,
    )
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    stored = {
        "key": key,
        "baseline": {
            "reference": name,
            "dataset": data.name,
            "facts": built.to_dict(),
            "train_seconds": trained.seconds,
            "accuracy": baseline.accuracy,
            "epochs": trained.epochs,
            "public_accuracy": found.public,
            "private_accuracy": found.private,
            "timing": timing.to_dict(),
        },
        "runs": {str(seed): cost.to_dict() for seed, cost in zip(seeds, costs, strict=True)},
        "environment": environment,
        "measured_at": measured_at,
    }
    write_text_atomic(path, json.dumps(stored, indent=2))
    return Calibration(baseline, key, environment, measured_at, False, path)


def _check_reached(
    assignment: Assignment, target: float, seed: int, trained: Trained, scores: np.ndarray, labels: np.ndarray
) -> None:
    """A target the reference itself cannot reach is a mistake in the assignment, not in a submission."""
    reached = accuracy(scores, labels)
    if reached < target:
        raise AssignmentError(
            f"{assignment.path or assignment.name}: the reference {assignment.reference} reaches only "
            f"{reached:.2%} on the held-out split in {trained.epochs} epochs with seed {seed}, short of "
            f"target.accuracy {target:.2%}: lower the target or raise training.max_epochs."
        )
