"""``grader check``: what a student runs the night before the deadline.

The same code as grading, cut short: the submission contract (``build_model()`` in ``model.py``,
in a sandboxed child), the checks that gate training (parameters, output shape, layer shapes,
against the reference built beside it), then one epoch on a few hundred training images to show
that ``model.fit`` runs. No test data is read or needed, so a student can run it anywhere; the
images come from the starting kit (``check-images.npz``, written by ``grader init``) or, where
the assignment's dataset is installed, from its training split. Training time and accuracy are
not judged here: they need the full data and the test set.
"""

from __future__ import annotations

import contextlib
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from grader.assignment import Assignment, AssignmentError
from grader.backends import problem as backend_problem
from grader.checks import Baseline, CheckResult
from grader.cores import held_cores
from grader.data import DataError, Dataset, load_dataset
from grader.grade import resolve_assignment
from grader.pipeline import Context, build, execute, gate, rebuild
from grader.report import MARKS
from grader.results import SAID_HEADING
from grader.runner.sandbox import choose
from grader.runner.supervisor import PhaseFailed, Runner, Subject, Trained
from grader.submission import read_submission

CHECK_IMAGES = "check-images.npz"
CHECK_COUNT = 256
KIT_ASSIGNMENT = "assignment.toml"


@dataclass(frozen=True)
class CheckOutcome:
    """What ``grader check`` found: the gating checks, the training step, and what stopped it."""

    submission: str
    title: str
    checks: tuple[CheckResult, ...]
    later: tuple[str, ...]  # the checks only grading can run
    images: int
    source: str
    trained: Trained | None = None
    problem: str | None = None
    log: str = ""
    notes: tuple[str, ...] = ()  # the grader's notes
    said: tuple[str, ...] = ()  # what building said (a notebook's graded fit call, its skipped magics)

    @property
    def ok(self) -> bool:
        return self.problem is None and self.trained is not None and all(c.passed for c in self.checks)


def training_images(
    folder: Path, task: Assignment, data_dir: Path | None
) -> tuple[np.ndarray, np.ndarray, str]:
    """A few training images and labels: the kit's, else the installed dataset's training split."""
    for place in (folder, folder.parent):
        kit = place / CHECK_IMAGES
        if kit.is_file():
            try:
                with np.load(kit, allow_pickle=False) as found:
                    x, y = np.asarray(found["x"]), np.asarray(found["y"])
            except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
                raise DataError(
                    f"{kit} is not a starting kit's images ({error}); ask for the kit again."
                ) from None
            if x.ndim != 3 or x.dtype != np.uint8 or y.shape != (len(x),) or not len(x):
                raise DataError(f"{kit} does not hold 28x28 images and their labels; ask for the kit again.")
            return x, y, f"{len(x)} training images from {kit.name}"
    try:
        data = load_dataset(task.dataset, data_dir=data_dir, allow_download=False)
    except DataError as error:
        raise DataError(
            f"no training images to check with: put the starting kit's {CHECK_IMAGES} beside "
            f"model.py (your instructor's `grader init` writes it), or install {task.dataset} ({error})"
        ) from None
    return (
        data.x_train[:CHECK_COUNT],
        data.y_train[:CHECK_COUNT],
        f"the first {CHECK_COUNT} training images of {data.name}",
    )


def check_submission(
    path: Path | str,
    *,
    assignment: Assignment | str | Path | None = None,
    data_dir: Path | None = None,
    sandbox: str = "auto",
    console: Console | None = None,
) -> CheckOutcome:
    """Check a submission folder (or the file in it to check: model.py, a notebook or a script) as
    grading would, without test data."""
    console = console or Console()
    path = Path(path)
    folder = read_submission(path.parent, entry=path.name) if path.is_file() else read_submission(path)
    kit = folder.folder / KIT_ASSIGNMENT
    task = resolve_assignment(folder, assignment or (kit if kit.is_file() else None))
    if problem := backend_problem(task.training.backend):
        raise AssignmentError(f"{task.path or task.name}: {problem}")
    x, y, source = training_images(folder.folder, task, data_dir)
    gating = tuple(check for check in task.checks if check.phase == "build")
    later = tuple(check.name for check in task.checks if check.phase != "build")
    quick = replace(task, checks=gating, training=replace(task.training, max_epochs=1))
    outcome = CheckOutcome(folder.name, task.title, (), later, len(x), source)
    entry = folder.entry
    if entry is None:
        return replace(outcome, problem=folder.missing)
    isolation = choose(sandbox)
    if isolation.kind != "bubblewrap" and sandbox != "off":
        console.print(f"[yellow]No sandbox here ({isolation.describe()}); grading uses one.[/yellow]")
    with (
        held_cores(task.training.cores, None) as cores,
        tempfile.TemporaryDirectory(prefix="grader-check-") as scratch,
    ):

        def child(name: str, subject: Subject) -> Runner:
            return Runner(
                subject,
                recipe=task.reference,
                training=quick.training,
                work=Path(scratch) / name,
                sandbox=isolation,
                limits=task.limits,
                cpus=cores,
            )

        runner = child("run", Subject.submission(entry))
        reference = child("reference", Subject.for_reference(task.reference))
        reference.start()  # builds the reference's layers while the submission's child starts
        # As in a grade: under trainer = "grader" the model is rebuilt, gated and trained there.
        trainer = child("train", Subject.declaration()) if task.training.trainer == "grader" else None
        with contextlib.ExitStack() as stack:
            stack.callback(reference.stop)
            if trainer is not None:
                stack.callback(trainer.stop)
                trainer.start()

            def facts_only() -> Baseline:
                built = reference.build()  # a reference's facts; nothing is trained or measured
                return Baseline(task.reference, task.dataset, built.facts, 0.0, float("nan"), 0)

            with runner:
                context = Context(
                    task=quick,
                    data=Dataset(task.dataset, x, y, x[:0], y[:0], source=None),  # type: ignore[arg-type]
                    runner=runner,
                    trainer=trainer,
                    verifier=reference,
                    another_trainer=_one_seed_only,
                    baseline=facts_only,
                    display=lambda label: contextlib.nullcontext(lambda event: None),
                )
                console.print(
                    f"Checking [bold]{escape(folder.name)}[/bold] on {escape(task.title)} ({escape(source)})"
                )
                progress = execute(context, phases=(build, rebuild, gate))
                checks = tuple(progress.results[check] for check in gating)
                outcome = replace(
                    outcome,
                    checks=checks,
                    problem=progress.problem,
                    log=progress.log,
                    notes=tuple(progress.notes),
                    said=tuple(progress.said),
                )
                if progress.problem or not all(c.passed for c in checks):
                    return outcome
                try:
                    trained = context.trainee.train(x, y)
                except PhaseFailed as failure:
                    return replace(outcome, problem=f"Training stopped: {failure.message}", log=failure.log)
                return replace(outcome, trained=trained)
    return outcome


def _one_seed_only(seed: int) -> Runner:
    raise AssertionError("a check trains one seed only")  # build and gate never ask for another


def render_check(outcome: CheckOutcome, console: Console) -> None:
    """The outcome as a table, and what is left for grading."""
    table = Table(title=Text(f"{outcome.submission}: {outcome.title}"), expand=True, show_lines=True)
    table.add_column("Check", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    table.add_column("Details", ratio=1)
    for check in outcome.checks:
        table.add_row(Text(check.name), MARKS[check.status], Text(check.message))
    if outcome.trained is not None:
        loss = outcome.trained.final.get("loss")
        table.add_row(
            "Training step",
            MARKS["passed"],
            f"model.fit ran 1 epoch on {outcome.images} training images in {outcome.trained.seconds:.1f} s"
            + (f" (loss {loss:.3f})." if loss is not None else "."),
        )
    elif outcome.checks and all(c.passed for c in outcome.checks) and outcome.problem:
        table.add_row("Training step", MARKS["failed"], Text(outcome.problem))
    for name in outcome.later:
        table.add_row(Text(name), "[dim]when graded[/dim]", "Needs the full training data and the test set.")
    console.print(table)
    if outcome.problem and not (outcome.checks and all(c.passed for c in outcome.checks)):
        console.print(Text(outcome.problem, style="red"))
    for note in outcome.notes:
        console.print(Text(f"Note: {note}", style="yellow"))
    if outcome.said:
        console.print(Text(f"{SAID_HEADING}:", style="yellow"))
        for note in outcome.said:
            console.print(Text(f"- {note}", style="yellow"))
    if outcome.log:
        console.print("Last lines your code printed:\n" + outcome.log, markup=False, highlight=False)
    if outcome.ok:
        console.print("[green]Ready to submit: the checks that gate training pass and training runs.[/green]")
