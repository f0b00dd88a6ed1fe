"""Every branch of the grading pipeline, driven by stand-in children in milliseconds.

The stand-ins answer each phase with a value or a ``PhaseFailed``, as a real runner would; the
real-TensorFlow tests (test_grade.py, test_hostile.py, ...) show the children themselves. Unless
a test says otherwise the assignment trains on the grader's side: the runner declares, the
trainer rebuilds and trains.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.assignment import Assignment
from grader.checks import Accuracy, Baseline, LayerShapes, OutputShape, ParameterCount, TrainingTime
from grader.data import Dataset
from grader.declaration import REFUSAL
from grader.leaderboard.board import _board
from grader.model_facts import LayerFacts, ModelFacts
from grader.pipeline import UNTRAINED_MAX, Context, PhaseFailure, Progress, execute, results_in_order
from grader.report import report_text
from grader.results import Grade, student_view
from grader.runner.supervisor import BUILT_MODEL, SAVED_MODEL, Built, PhaseFailed, Subject, Trained
from grader.settings import Limits, Target, Training
from grader.split import public_mask
from grader.timing import ClockError, PaceMark, Timing

FACTS = ModelFacts(
    (
        LayerFacts("Conv2D", (None, 26, 26, 8), 80),
        LayerFacts("Flatten", (None, 5408), 0),
        LayerFacts("Dense", (None, 10), 54_090),
    ),
    54_170,
    54_170,
)
OTHER = ModelFacts((LayerFacts("Dense", (None, 10), 7_850),), 7_850, 7_850)
BUILT = Built(FACTS, "submission", "Adam", "sparse_categorical_crossentropy", "integers", {}, ())
DECLARATION = {"format": 1, "model": "as the runner declared it"}  # vetted by the real trainer, not here
DECLARED = replace(BUILT, declaration=DECLARATION)
REFERENCE = Timing(steps=1000.0, cpu_seconds=20.0, wall_seconds=24.0, noise=0.05)
BASELINE = Baseline("conv_32_64_64", "mnist_sample", FACTS, 24.0, 0.95, 1, 0.95, 0.95, REFERENCE)
LABELS = np.arange(100) % 10
DATA = Dataset(
    "mnist_sample",
    np.zeros((200, 28, 28), np.uint8),
    np.zeros(200, np.int64),  # every training image a 0, so held-out predictions are easy to script
    np.zeros((100, 28, 28), np.uint8),
    LABELS,
    source=None,  # type: ignore[arg-type]
)
CHECKS = (
    ParameterCount(points=2, maximum=100_000),
    OutputShape(points=1),
    LayerShapes(points=2),
    TrainingTime(points=2, max_ratio=1.5),
    Accuracy(points=3, minimum=0.9),
)
TASK = Assignment(
    "quick", "Quick", "conv_32_64_64", "mnist_sample", Training(1, 60.0), CHECKS, limits=Limits()
)
SELF_TRAINED = replace(TASK, training=Training(1, 60.0, trainer="submission"))


def right(count: int = 100) -> np.ndarray:
    """Class scores whose argmax is the label, on the test images (100) or held-out training ones."""
    return np.eye(10, dtype="float32")[LABELS if count == len(LABELS) else np.zeros(count, np.int64)]


@dataclass
class Stand:
    """A child that answers each phase from a script: a value, or an exception to raise."""

    work: Path
    script: dict[str, Any] = field(default_factory=dict)
    on_event: Any = None
    calls: list[str] = field(default_factory=list)
    cpu: float = 0.0
    declarations: list[dict[str, Any]] = field(default_factory=list)
    subject: Subject = field(default_factory=lambda: Subject.submission(Path("model.py")))

    def _answer(self, phase: str, default: Any) -> Any:
        self.calls.append(phase)
        answer = self.script.get(phase, default)
        if isinstance(answer, list):  # one answer per call
            answer = answer.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def wait_ready(self) -> None:
        self._answer("ready", None)

    def build(self, images: tuple[np.ndarray, np.ndarray] | None = None) -> Built:
        built = self._answer("build", DECLARED)
        if isinstance(built, Built) and built.declaration is None:  # a builder that trains itself
            (self.work / BUILT_MODEL).write_bytes(b"a model as built")
        return built

    def rebuild(self, declaration: dict[str, Any]) -> Built:
        self.declarations.append(declaration)
        return self._answer("rebuild", BUILT)

    def train(self, x: np.ndarray, y: np.ndarray, validation: Any = None, watch: Any = None) -> Trained:
        self.watched = watch
        for cpu in self.script.get("cpu_while_training", ()):  # the watch asked as training goes
            self.cpu = cpu
            if watch is not None and (stop := watch()):
                raise PhaseFailed("train", stop.message, limit=stop.limit)
        trained = self._answer("train", Trained(12.0, 1, {"loss": 0.3}))
        self.cpu += self.script.get("train_cpu", 21.0)
        if self.on_event:
            self.on_event({"event": "epoch", "epoch": 1, "epochs": 1, "logs": {"loss": 0.3}})
        (self.work / SAVED_MODEL).write_bytes(b"a model")
        return trained

    def predict(self, x: np.ndarray) -> np.ndarray:
        if len(x) == len(DATA.x_train):  # the probe before training: near chance by default
            self.cpu += self.script.get("probe_cpu", 0.0)
            return self._answer("probe", np.eye(10, dtype="float32")[np.arange(len(x)) % 10])
        return self._answer("predict", right(len(x)))

    def cpu_seconds(self) -> float:
        return self.cpu

    def pace(self, x: np.ndarray, y: np.ndarray) -> PaceMark:
        self._answer("pace", None)
        return PaceMark(10, 1.0)

    def mark(self) -> PaceMark:
        self._answer("mark", None)
        return self.script.get("marks", [PaceMark(60, 2.0)]).pop(0)

    def stop_pacing(self) -> PaceMark:
        self._answer("stop_pacing", None)
        return PaceMark(110, 3.0)  # 100 steps in 2 s: 0.02 s of CPU a step

    def stop(self) -> None:
        self.calls.append("stop")

    def __enter__(self) -> Stand:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Graded:
    """A stand-in grade: its progress and its children."""

    progress: Progress
    runner: Stand
    trainer: Stand | None
    verifier: Stand
    others: list[Stand]


def run(
    tmp_path: Path,
    task: Assignment = TASK,
    runner: dict[str, Any] | None = None,
    verifier: dict[str, Any] | None = None,
    more: list[dict[str, Any]] | None = None,
    trainer: dict[str, Any] | None = None,
    data: Dataset = DATA,
) -> Graded:
    """Grade with stand-ins: ``runner``, ``trainer`` and ``verifier`` script the children (the
    trainer only under trainer = "grader"; under "submission" the runner trains), ``more`` the
    children that train further seeds."""
    for name in ("run", "train", "verify"):
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
    grader_trains = task.training.trainer == "grader"
    script = runner or {}
    if not grader_trains:
        script = {"build": BUILT, **script}
    student = Stand(tmp_path / "run", script)
    trains = Stand(tmp_path / "train", trainer or {}) if grader_trains else None
    checker = Stand(tmp_path / "verify", verifier or {})
    scripts, others = iter(more or []), []

    def another(seed: int) -> Stand:
        folder = tmp_path / f"run-{seed}"
        folder.mkdir()
        script = next(scripts, {})
        others.append(Stand(folder, script if grader_trains else {"build": BUILT, **script}))
        return others[-1]

    context = Context(
        task=task,
        data=data,
        runner=student,
        trainer=trains,
        verifier=checker,
        another_trainer=another,
        baseline=lambda: BASELINE,
        display=lambda label: contextlib.nullcontext(lambda event: None),
    )
    return Graded(execute(context), student, trains, checker, others)


def statuses(progress: Progress) -> dict[str, str]:
    return {check.name: progress.results[check].status for check in CHECKS if check in progress.results}


def test_a_good_model_passes_every_check_on_the_grader_figures(tmp_path):
    graded = run(tmp_path)
    progress, checker = graded.progress, graded.verifier
    assert set(statuses(progress).values()) == {"passed"} and progress.problem is None
    # 21 s of CPU at 0.02 s a pace step is 1,050 steps: 1.05 x the reference's 1,000.
    assert progress.metrics.train_cost == pytest.approx(1.05) and progress.metrics.accuracy == 1.0
    assert progress.metrics.train_seconds == 12.0 and progress.metrics.parameters == 54_170
    assert progress.history == [{"loss": 0.3}]
    # The verifier keeps the clock; the trainer scores.
    assert checker.calls == ["ready", "pace", "stop_pacing"]
    assert graded.trainer is not None
    assert graded.trainer.calls == ["ready", "rebuild", "probe", "train", "predict"]


def test_the_runner_only_declares_and_is_stopped_before_the_trainer_rebuilds(tmp_path):
    """Nothing the submission's process does after building can reach the score: it is stopped
    before its declaration is rebuilt, and it never trains or predicts."""
    graded = run(tmp_path)
    assert graded.runner.calls == ["build", "stop"]
    assert graded.trainer is not None and graded.trainer.declarations == [DECLARATION]
    assert graded.trainer.calls[:4] == ["ready", "rebuild", "probe", "train"]


def test_the_cheap_checks_judge_the_trainers_model_not_the_runners_word(tmp_path):
    """A runner that reports a small model but declares a big one is judged on what the trainer
    rebuilt from the declaration (and the other way round)."""
    big = replace(BUILT, facts=replace(FACTS, total_params=200_000))
    graded = run(tmp_path, trainer={"rebuild": big})
    assert statuses(graded.progress)["Parameter count"] == "failed"
    assert graded.progress.metrics.parameters == 200_000
    small_claim = run(tmp_path / "again", runner={"build": replace(DECLARED, facts=big.facts)})
    assert statuses(small_claim.progress)["Parameter count"] == "passed"


def test_a_model_the_grader_will_not_train_says_why_and_trains_nothing(tmp_path):
    refused = PhaseFailed(
        "build",
        f"{REFUSAL}: layer 'lambda' (Lambda): a Lambda layer runs code of your own. See model.py, line 9.",
        where="model.py, line 40",
    )
    for side in ("runner", "trainer"):
        graded = run(tmp_path / side, **{side: {"build" if side == "runner" else "rebuild": refused}})
        problem = graded.progress.problem or ""
        assert problem.startswith("The grader cannot train this model: layer 'lambda' (Lambda)"), problem
        assert set(statuses(graded.progress).values()) == {"not run"}
        assert graded.verifier.calls == [] and "train" not in (graded.trainer.calls if graded.trainer else [])


def test_a_runner_that_declares_nothing_is_not_trained(tmp_path):
    graded = run(tmp_path, runner={"build": BUILT})
    assert graded.progress.problem == (
        "The model did not build: the runner handed over no declaration of the model."
    )
    assert graded.trainer is not None and graded.trainer.declarations == []


def test_a_trainer_that_does_not_start_is_the_graders_fault(tmp_path):
    with pytest.raises(RuntimeError, match="the grader's trainer did not start"):
        run(tmp_path, trainer={"ready": PhaseFailed("start", "no Keras")})


def test_a_model_that_does_not_build_leaves_every_check_not_run(tmp_path):
    failure = PhaseFailed("build", "NameError: x", where="model.py, line 3", log="printed")
    graded = run(tmp_path, runner={"build": failure})
    progress = graded.progress
    assert progress.problem == "The model did not build: NameError: x (model.py, line 3)"
    assert progress.log == "printed" and set(statuses(progress).values()) == {"not run"}
    assert progress.results[CHECKS[0]].message == "Not run: the model did not build (see above)."
    assert (
        graded.verifier.calls == [] and graded.trainer is not None and "rebuild" not in graded.trainer.calls
    )


def test_a_failed_gating_check_skips_training(tmp_path):
    graded = run(tmp_path, trainer={"rebuild": replace(BUILT, facts=replace(FACTS, total_params=200_000))})
    progress = graded.progress
    assert graded.trainer is not None
    assert statuses(progress)["Parameter count"] == "failed" and "train" not in graded.trainer.calls
    assert (
        progress.results[CHECKS[4]].message == "Not run: training was skipped because Parameter count failed."
    )


def test_an_assignment_may_train_despite_a_failed_gate(tmp_path):
    task = replace(TASK, train_despite_failures=True)
    big = replace(BUILT, facts=replace(FACTS, total_params=200_000))
    progress = run(tmp_path, task, trainer={"rebuild": big}).progress
    assert (
        statuses(progress)["Parameter count"] == "failed" and statuses(progress)["Test accuracy"] == "passed"
    )


def test_without_training_checks_nothing_trains(tmp_path):
    task = replace(TASK, checks=CHECKS[:2])
    graded = run(tmp_path, task)
    assert graded.trainer is not None
    assert set(statuses(graded.progress).values()) == {"passed"}
    assert "train" not in graded.trainer.calls and not graded.verifier.calls


def test_training_stopped_at_its_time_limit_fails_the_time_check(tmp_path):
    stopped = PhaseFailed(
        "train", "stopped after 60 s while training", limit="training.time_limit_s", log="x"
    )
    progress = run(tmp_path, trainer={"train": stopped}).progress
    assert (
        statuses(progress)["Training time"] == "failed" and statuses(progress)["Test accuracy"] == "not run"
    )
    assert progress.problem == "Training stopped: stopped after 60 s while training" and progress.log == "x"


def test_training_that_crashes_leaves_the_training_checks_not_run(tmp_path):
    progress = run(
        tmp_path, trainer={"train": PhaseFailed("train", "the process was killed by SIGKILL")}
    ).progress
    assert statuses(progress)["Training time"] == statuses(progress)["Test accuracy"] == "not run"
    assert statuses(progress)["Parameter count"] == "passed"


@pytest.mark.parametrize("when", ["pace", "stop_pacing"])
def test_a_pace_setter_that_fails_is_the_graders_fault_not_the_students(tmp_path, when):
    died = PhaseFailed("pace", "the process was killed by SIGKILL", log="printed")
    with pytest.raises(ClockError, match="the pace-setter failed: the process was killed by SIGKILL"):
        run(tmp_path, verifier={when: died})


def test_a_verifier_that_does_not_start_is_the_graders_fault(tmp_path):
    with pytest.raises(RuntimeError, match="the grader's verifier did not start"):
        run(tmp_path, verifier={"ready": PhaseFailed("start", "no TensorFlow")})


def test_a_trained_model_the_verifier_cannot_load_is_not_scored(tmp_path):
    refused = PhaseFailed(
        "build", "the trained model cannot be loaded without running the submission's own code"
    )
    progress = run(tmp_path, SELF_TRAINED, verifier={"build": [BUILT, refused]}).progress
    assert progress.problem.startswith(
        "The trained model could not be checked: the trained model cannot be loaded"
    )
    assert statuses(progress)["Test accuracy"] == "not run"


def test_a_trained_model_that_is_not_the_one_built_is_judged_as_trained(tmp_path):
    progress = run(tmp_path, SELF_TRAINED, verifier={"build": [BUILT, replace(BUILT, facts=OTHER)]}).progress
    assert (
        "The trained model (7,850 parameters) is not the model build_model() reported (54,170"
        in progress.problem
    )
    assert statuses(progress)["Layer shapes"] == "failed"  # re-run on the trained model's facts
    assert statuses(progress)["Training time"] == "not run" and progress.metrics.parameters == 7_850


def test_failed_predictions_leave_accuracy_not_run_but_time_scored(tmp_path):
    progress = run(
        tmp_path, trainer={"predict": PhaseFailed("predict", "stopped after 300 s", log="y")}
    ).progress
    assert progress.problem == "Predicting on the test images failed: stopped after 300 s"
    assert (
        statuses(progress)["Test accuracy"] == "not run" and statuses(progress)["Training time"] == "passed"
    )


def test_predictions_of_the_wrong_shape_are_not_scored(tmp_path):
    progress = run(tmp_path, trainer={"predict": np.zeros((100, 7), "float32")}).progress
    assert "expected (100, 10)" in progress.problem and statuses(progress)["Test accuracy"] == "not run"


def test_nan_predictions_count_as_wrong_and_say_so(tmp_path):
    scores = right()
    scores[:20] = np.nan
    progress = run(tmp_path, trainer={"predict": scores}).progress
    public = int(public_mask(len(scores))[:20].sum())  # the student is told of the public part's only
    assert progress.problem == (
        f"{public} of the model's predictions on the public part of the test set were NaN or infinite "
        "and count as wrong."
    )
    assert progress.metrics.accuracy == pytest.approx(0.8) and statuses(progress)["Test accuracy"] == "failed"
    sealed = progress.sealed[next(iter(progress.sealed))]
    assert f"{20 - public} of its predictions were NaN or infinite" in sealed.message


def test_a_loss_that_became_nan_gets_a_note(tmp_path):
    progress = run(tmp_path, trainer={"train": Trained(3.0, 1, {"loss": float("nan")})}).progress
    assert any("The training loss became NaN" in note for note in progress.notes)


def test_a_costly_training_fails_the_time_check_on_the_clock_not_the_wall(tmp_path):
    """2,000 pace steps of CPU against the reference's 1,000 fails 1.5 x, whatever the wall time."""
    progress = run(tmp_path, trainer={"train": Trained(5.0, 1, {}), "train_cpu": 40.0}).progress
    assert statuses(progress)["Training time"] == "failed"
    assert progress.results[CHECKS[3]].message.startswith("Training cost 2.00 x the reference's")


def test_a_run_over_its_cost_limit_earns_no_accuracy_whether_stopped_or_not(tmp_path):
    """The same 2.0 x, once over a whole run that was never stopped and once stopped as it trains:
    whether the stop comes in time depends on the machine's pace, so neither scores its accuracy
    and both get the same points."""
    finished = run(tmp_path / "finished", trainer={"train": Trained(5.0, 1, {}), "train_cpu": 40.0}).progress
    stopped = run(
        tmp_path / "stopped",
        trainer={"cpu_while_training": [10.0, 50.0]},
        verifier={"marks": list(UNDER_WAY)},
    ).progress
    assert finished.problem is None and stopped.problem is not None  # one trained to its end
    for progress in (finished, stopped):
        assert statuses(progress) == {
            "Parameter count": "passed",
            "Output shape": "passed",
            "Layer shapes": "passed",
            "Training time": "failed",
            "Test accuracy": "not run",
        }
        assert progress.metrics.accuracy is None and not progress.sealed
    assert "accuracy counts only for training within the limit" in finished.results[CHECKS[4]].message


# -- trainer = "submission": the runner trains itself, after the model as built is probed ------
def test_a_self_trained_model_trains_in_the_runner_after_a_probe_near_chance(tmp_path):
    graded = run(tmp_path, SELF_TRAINED)
    assert graded.trainer is None and set(statuses(graded.progress).values()) == {"passed"}
    assert graded.runner.calls[:3] == ["build", "train", "stop"]
    assert graded.verifier.calls[:3] == ["ready", "build", "probe"]  # the model as built, scored
    assert any("Before training, the model scored 10.0%" in note for note in graded.progress.notes)


def test_a_model_that_arrived_trained_fails_the_accuracy_check_and_is_not_trained(tmp_path):
    trained_already = np.eye(10, dtype="float32")[DATA.y_train]  # every training image right
    graded = run(tmp_path, SELF_TRAINED, verifier={"probe": trained_already})
    progress = graded.progress
    accuracy = progress.results[CHECKS[4]]
    assert accuracy.status == "failed" and accuracy.message.startswith(
        "The model arrived trained: as build_model() returned it, before any training, it scored 100.0%"
    )
    assert f"at most {UNTRAINED_MAX:.0%} is accepted" in accuracy.message
    assert statuses(progress)["Training time"] == "not run" and "train" not in graded.runner.calls


def test_a_rebuilt_model_that_already_classifies_fails_the_accuracy_check_and_is_not_trained(tmp_path):
    """Under trainer = "grader" the trainer's own rebuild, freshly initialised, is asked before it
    trains: a declaration that carries a classifier by any route is caught by what it does."""
    trained_already = np.eye(10, dtype="float32")[DATA.y_train]
    graded = run(tmp_path, trainer={"probe": trained_already})
    accuracy = graded.progress.results[CHECKS[4]]
    assert accuracy.status == "failed" and accuracy.message.startswith(
        "The model arrived trained: as the grader rebuilt it from its declaration, freshly initialised "
        "and before any training, it scored 100.0%"
    )
    assert graded.trainer is not None and "train" not in graded.trainer.calls
    assert statuses(graded.progress)["Training time"] == "not run"


def test_a_fresh_model_that_answers_with_its_classes_renamed_already_classifies(tmp_path):
    """A classifier whose every answer is off by one class scores 0% and tells the digits apart:
    its accuracy with its classes renamed to fit best is what is judged too."""
    x = np.arange(len(DATA.y_train)) % 10
    labelled = replace(DATA, y_train=x)
    shifted = np.eye(10, dtype="float32")[(x + 1) % 10]
    graded = run(tmp_path, replace(TASK), trainer={"probe": shifted}, data=labelled)
    accuracy = graded.progress.results[CHECKS[4]]
    assert (
        accuracy.status == "failed"
        and "matched their labels 100.0% of the time once its classes were renamed" in accuracy.message
    )


def test_the_fresh_models_check_costs_no_training_time(tmp_path):
    """The trainer's CPU time while it answers the check before training is not training's."""
    graded = run(tmp_path, trainer={"probe_cpu": 5.0})
    assert graded.progress.metrics.train_cost == pytest.approx(1.05)


UNDER_WAY = [
    PaceMark(60, 2.0),
    PaceMark(110, 3.0),
]  # the pace-setter (the verifier) at two watches: 0.02 s a step


def test_a_run_whose_cost_cannot_pass_is_stopped_and_says_at_what_cost(tmp_path):
    """The watch asks the pace-setter as training goes: 40 s of CPU between two watches, at 0.02 s
    a pace step, is 2.0 x the reference's 1,000 steps, over 1.5 x by more than twice the
    uncertainty (±11%): stopped."""
    graded = run(tmp_path, trainer={"cpu_while_training": [10.0, 50.0]}, verifier={"marks": list(UNDER_WAY)})
    progress = graded.progress
    time_check = progress.results[CHECKS[3]]
    assert (
        time_check.status == "failed"
        and "its training was costing 2.00 x the reference's" in time_check.message
    )
    assert "so it could not pass the training-time check" in time_check.message
    assert progress.problem is not None and progress.problem.startswith("Training stopped: stopped after")
    assert statuses(progress)["Test accuracy"] == "not run"


def test_a_run_near_its_limit_is_never_stopped(tmp_path):
    """1.7 x the reference's cost is over 1.5 x, but within twice the uncertainty: it trains to
    its end and the check judges it on the whole run's figures."""
    graded = run(tmp_path, trainer={"cpu_while_training": [10.0, 44.0]}, verifier={"marks": list(UNDER_WAY)})
    assert graded.trainer is not None and "predict" in graded.trainer.calls
    assert graded.progress.problem is None


def test_a_costly_start_does_not_stop_a_run_whose_steps_can_pass(tmp_path):
    """25 s of CPU before the first watch (building, tracing the first steps) and 20 s between the
    watches: 2.25 x the reference's cost counted from the build, 1.0 x counted from once training
    is under way. Only the second says what the rest of the run will cost: never stopped."""
    graded = run(tmp_path, trainer={"cpu_while_training": [25.0, 45.0]}, verifier={"marks": list(UNDER_WAY)})
    assert graded.trainer is not None and "predict" in graded.trainer.calls
    assert graded.progress.problem is None


def test_a_run_is_not_judged_before_its_cost_can_be_counted(tmp_path):
    """A first watch only marks where training is under way: however much CPU time it finds, a
    ratio limit stops nothing until the pace-setter has made steps since."""
    graded = run(tmp_path, trainer={"cpu_while_training": [500.0]}, verifier={"marks": [PaceMark(60, 2.0)]})
    assert graded.trainer is not None and "predict" in graded.trainer.calls


def test_a_run_over_its_cpu_seconds_is_stopped(tmp_path):
    limited = replace(
        TASK, checks=tuple(TrainingTime(points=2, max_seconds=30.0) if c is CHECKS[3] else c for c in CHECKS)
    )
    graded = run(tmp_path, limited, trainer={"cpu_while_training": [20.0, 31.0]})
    assert "its training had used 31.0 s of CPU time, over the limit of 30 s" in graded.progress.problem


def test_a_model_as_built_that_cannot_be_checked_fails_the_accuracy_check(tmp_path):
    unloadable = PhaseFailed(
        "build", "the trained model cannot be loaded without running the submission's own code"
    )
    progress = run(tmp_path, SELF_TRAINED, verifier={"build": unloadable}).progress
    assert progress.results[CHECKS[4]].message.startswith(
        "The model as built could not be checked before training"
    )


TARGET = replace(TASK, target=Target(0.9, 0.1, (1, 2, 3)))


def test_time_to_target_runs_every_seed_and_scores_their_aggregate(tmp_path):
    graded = run(tmp_path, TARGET, more=[{"train_cpu": 30.0}, {"train_cpu": 10.0}])
    progress = graded.progress
    assert [run.seed for run in progress.runs] == [1, 2, 3] and all(run.reached for run in progress.runs)
    # 21, 30 and 10 s of CPU: MLPerf drops the fastest and slowest, leaving 21 s = 1,050 steps.
    assert progress.metrics.train_cost == pytest.approx(1.05)
    assert graded.verifier.calls.count("pace") == 3 and statuses(progress)["Training time"] == "passed"


def test_a_pace_setter_that_fails_on_a_later_seed_is_the_graders_fault_not_that_seeds(tmp_path):
    died = PhaseFailed("pace", "the process was killed by SIGKILL")
    with pytest.raises(ClockError, match="the pace-setter failed: the process was killed by SIGKILL"):
        run(tmp_path, TARGET, verifier={"pace": [None, died]}, more=[{}, {}])


def test_every_seed_trains_the_one_declared_model_afresh(tmp_path):
    """Under trainer = "grader" the submission's code runs once: each further seed's trainer
    rebuilds the same declaration, so a build_model() that depends on the seed cannot differ."""
    graded = run(tmp_path, TARGET, more=[{}, {}])
    assert graded.runner.calls.count("build") == 1
    assert [other.declarations for other in graded.others] == [[DECLARATION], [DECLARATION]]
    assert all("build" not in other.calls for other in graded.others)
    under_submission = run(tmp_path / "self", replace(TARGET, training=SELF_TRAINED.training), more=[{}, {}])
    assert all(other.calls[0] == "build" for other in under_submission.others)  # its code runs again


def test_a_seed_that_misses_the_target_fails_the_time_check_and_stops_the_rest(tmp_path):
    low = np.eye(10, dtype="float32")[np.ones(20, np.int64)]  # every held-out image "a 1": none right
    progress = run(
        tmp_path, TARGET, trainer={"predict": [right(100), right(20)]}, more=[{"predict": low}, {}]
    ).progress
    assert [run.seed for run in progress.runs] == [1, 2] and not progress.runs[1].reached
    assert progress.results[CHECKS[3]].message.startswith("Seed 2 did not reach 90.00%")
    assert (
        statuses(progress)["Test accuracy"] == "passed"
    )  # seed 1's model, predicted before seed 2 was loaded


def test_a_seed_that_builds_another_model_does_not_count(tmp_path):
    """With the submission training itself, each seed runs its code again, and may build another
    model: the verifier loads every seed's trained model, so that run does not count."""
    self_trained = replace(TARGET, training=SELF_TRAINED.training)
    progress = run(
        tmp_path, self_trained, verifier={"build": [BUILT, BUILT, replace(BUILT, facts=OTHER)]}, more=[{}]
    ).progress
    assert progress.results[CHECKS[3]].message == "Seed 2 trained a different model than seed 1."


def test_a_phase_failure_settles_its_checks_and_leaves_the_rest_not_run(tmp_path):
    settled = CHECKS[0].not_run("ignored")
    settled = replace(settled, status="failed", message="settled by the phase")

    def stops(context: Context, progress: Progress) -> None:
        raise PhaseFailure("it stopped here.", problem="why", log="printed", results={CHECKS[0]: settled})

    for name in ("run", "verify"):
        (tmp_path / name).mkdir()
    context = Context(
        task=TASK,
        data=DATA,
        runner=Stand(tmp_path / "run"),
        trainer=None,
        verifier=Stand(tmp_path / "verify"),
        another_trainer=lambda seed: Stand(tmp_path),
        baseline=lambda: BASELINE,
        display=lambda label: contextlib.nullcontext(lambda event: None),
    )
    progress = execute(context, (stops,))
    assert progress.results[CHECKS[0]] == settled and (progress.problem, progress.log) == ("why", "printed")
    assert [progress.results[check].message for check in CHECKS[1:]] == ["Not run: it stopped here."] * 4


def grade_of(tmp_path: Path, scores: np.ndarray, name: str) -> Grade:
    folder = tmp_path / name
    folder.mkdir()
    progress = run(folder, trainer={"predict": scores}).progress
    return Grade(
        "student", "student", TASK.name, TASK.title, TASK.dataset, results_in_order(TASK, progress), 30.0,
        metrics=progress.metrics, problem=progress.problem, notes=tuple(progress.notes),
    )  # fmt: skip


def test_nothing_a_student_sees_before_the_due_date_depends_on_the_private_part(tmp_path):
    """Two models that agree on the public part and differ on the private part (one also with
    NaN there) look the same to their students until the due date: the output, every test shown,
    the leaderboard entries, report.txt and the public board; after it they differ."""
    private = ~public_mask(len(LABELS))
    worse = right()
    worse[np.flatnonzero(private)[::2]] = np.roll(np.eye(10, dtype="float32"), 1, axis=1)[0]
    worse[np.flatnonzero(private)[1]] = np.nan
    a, b = grade_of(tmp_path, right(), "a"), grade_of(tmp_path, worse, "b")
    assert a.metrics.private_accuracy == 1.0 and b.metrics.private_accuracy < 0.7
    assert [check.name for check in a.checks][-1] == "Test accuracy, private part"

    def seen(grade: Grade, moment: str = "now") -> tuple[object, ...]:
        board = _board("quick", [grade], "public" if moment == "now" else "final", b"key")
        entries = board.entries
        view = student_view(grade, moment)  # type: ignore[arg-type]
        return (
            json.dumps(view),
            report_text(grade) if moment == "now" else "",
            [entry.to_dict(board.phase) for entry in entries],
        )

    assert seen(a) == seen(b)
    assert "score" in student_view(a, "after_due_date") and "score" not in student_view(a)
    assert seen(a, "after_due_date") != seen(b, "after_due_date")
    whole = f"{b.metrics.accuracy:.2%}"
    assert whole not in json.dumps(student_view(b)) and whole in json.dumps(student_view(b, "after_due_date"))
