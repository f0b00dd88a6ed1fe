"""The runner: the child process that runs a submission's code, or a reference, for the grader.

    python -m grader.runner.child --messages-fd FD --work DIR --recipe NAME --max-epochs N \
        --seed S --precision POLICY --threads T --backend B [--gpu-memory-mb M] \
        [--target-accuracy A] (--model FILE | --reference NAME | --saved FILE)

Protocol, one JSON object per line. The grader sends commands on stdin:
``{"command": "build" | "train" | "predict" | "pace"}`` (and, while pacing, ``mark`` or
``stop``); anything else ends the child. It answers on file descriptor FD with events:
``ready`` (after Keras's backend is imported, before any submission code runs), ``built``, ``batch``
and ``epoch`` (progress), ``trained``, ``predicted``, ``pacing``/``mark``/``paced`` or ``error``.
Arrays travel as .npy files in DIR: ``x_train.npy`` and ``y_train.npy`` (uint8 images, integer
labels) appear before ``train`` (with ``--target-accuracy``, also ``x_val.npy`` and ``y_val.npy``:
the split held out of the training data that decides when to stop), ``x_test.npy`` before
``predict``, and the child writes ``predictions.npy``. After training it saves the model as
``model.keras``. Test labels never reach this process.

``pace`` (only ever sent to a child that runs no submission code) trains the recipe's reference
on ``x_pace.npy``/``y_pace.npy`` in a loop, beside a submission's training on the same cores, at
a lower priority (nice 10: about a tenth of them): the training clock (grader/timing.py) measures
the submission's CPU time in steps of this pace-setter. ``mark`` answers with its steps and CPU
time so far; ``stop`` ends the loop.

The backend (``--backend``: TensorFlow, JAX or PyTorch, see grader/backends.py) runs
``--threads`` threads per pool (the cores the grade was given) with its ops made deterministic,
so a model trains to the same weights whatever else the machine is doing. On another backend
than TensorFlow, a submission that imports TensorFlow is refused, naming its line.

With ``--saved`` the child runs no submission code at all: ``build`` loads a trained model
with Keras's safe mode (built-in layers only, no Lambda code, no custom objects), so the
grader's predictions and model facts come from a process the student's code never touched.

Everything here is a claim to the grader: it re-checks what it can and times every phase on
its own clock.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import json
import os
import platform
import select
import sys
import time
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from grader import backends
from grader.runner import training

MAX_WARNINGS, MAX_WARNING_CHARS = 5, 300  # notes a student reads, not a log
FIT_KEYS = ("batch_size", "epochs", "validation_split", "callbacks", "shuffle", "verbose")
INPUT_SHAPE = (None, 28, 28, 1)
PROGRESS_INTERVAL_S = 0.25
PREDICT_BATCH = 256
PACE_BATCH = 32  # the pace-setter's steps: small, so a window holds many of them
PACE_WARM_STEPS = 8  # traced and warm before the first mark
PACE_SAMPLE_S = 0.5  # CPU seconds between the samples the clock's noise figure is made of
PACE_NICE = 10  # the pace-setter's priority: about a tenth of a shared core


class SubmissionError(Exception):
    """The submission broke the contract; the message is for its author."""


COMMANDS_FD = 0  # stdin, read unbuffered: a command waiting there is what select() sees


def read_command() -> str | None:
    """The next command from the grader (None at end of input). Read a byte at a time, so no
    second command is ever left in a buffer where select() cannot see it."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(COMMANDS_FD, 1)
        if not byte:
            break
        line += byte
    try:
        command = json.loads(line).get("command") if line.strip() else None
    except (ValueError, AttributeError):
        return None
    return command if isinstance(command, str) else None


class Channel:
    """Events to the grader, one JSON line each."""

    def __init__(self, fd: int) -> None:
        self.stream = os.fdopen(fd, "w", buffering=1, encoding="utf-8")

    def send(self, event: str, **fields: Any) -> None:
        self.stream.write(json.dumps({"event": event, **fields}) + "\n")
        self.stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader.runner.child")
    parser.add_argument("--messages-fd", type=int, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument(
        "--recipe", required=True, help="the reference whose recipe fills in what is left out"
    )
    parser.add_argument("--max-epochs", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--precision", default="float32", help="Keras dtype policy for every layer built")
    parser.add_argument(
        "--target-accuracy", type=float, help="stop once the held-out x_val.npy reaches this accuracy"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="the backend's threads per pool (0: its default)"
    )
    parser.add_argument("--backend", choices=backends.BACKENDS, default=backends.DEFAULT)
    parser.add_argument("--gpu-memory-mb", type=int, help="the most GPU memory the backend may use")
    subject = parser.add_mutually_exclusive_group(required=True)
    subject.add_argument("--model", type=Path)
    subject.add_argument("--reference")
    subject.add_argument("--saved", type=Path)
    return parser


def _where(model_file: Path | None) -> str:
    """The submission's own line where the current exception came from, if any."""
    if model_file is None:
        return ""
    error = sys.exc_info()[1]
    if isinstance(error, SyntaxError) and error.filename and Path(error.filename) == model_file:
        return f"{model_file.name}, line {error.lineno}" + (f": {error.text.strip()}" if error.text else "")
    frames = [f for f in traceback.extract_tb(sys.exc_info()[2]) if Path(f.filename) == model_file]
    if not frames:
        return ""
    frame = frames[-1]
    return f"{model_file.name}, line {frame.lineno}" + (f": {frame.line}" if frame.line else "")


def import_submission(model_file: Path) -> Any:
    """Import a submission's model.py as module ``submission_model`` (its folder on sys.path)."""
    spec = importlib.util.spec_from_file_location("submission_model", model_file)
    if spec is None or spec.loader is None:
        raise SubmissionError(f"{model_file.name} cannot be loaded as Python.")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(model_file.parent))
    sys.modules["submission_model"] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "build_model", None)):
        raise SubmissionError(f"{model_file.name} defines no build_model() function.")
    return module


def _tensorflow_advice(backend: str) -> str:
    return (
        f"it runs here on Keras 3 with the {backends.TITLES[backend]} backend, where TensorFlow is "
        "not used: write `import keras` and `from keras import layers` instead, or use the TensorFlow "
        'backend (backend = "tensorflow" in the assignment, or --backend tensorflow).'
    )


def refuse_tensorflow(model_file: Path, backend: str) -> None:
    """Refuse tf.keras-era code (``import tensorflow``, ``from tensorflow.keras import ...``) before
    it runs, naming its line: on another backend it fails, or half works, in confusing ways."""
    try:
        tree = ast.parse(model_file.read_bytes(), filename=str(model_file))
    except (SyntaxError, ValueError):
        return  # the import reports it, with its line
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "tensorflow" or name.startswith("tensorflow.") for name in names):
            line = (ast.get_source_segment(model_file.read_text(errors="replace"), node) or "").strip()
            raise SubmissionError(
                f"{model_file.name}, line {node.lineno} imports TensorFlow ({line}), but "
                + _tensorflow_advice(backend)
            )


@contextlib.contextmanager
def _tensorflow_missing(backend: str) -> Iterator[None]:
    """A TensorFlow import that the check above could not see (in a helper module) says the same."""
    try:
        yield
    except ModuleNotFoundError as error:
        if backend == "tensorflow" or (error.name or "").split(".")[0] != "tensorflow":
            raise
        raise SubmissionError(
            f"the submission imports TensorFlow ({error}), but " + _tensorflow_advice(backend)
        ) from None


@contextlib.contextmanager
def _keras_warnings() -> Iterator[list[str]]:
    """Collect what Python's warnings and absl's log say while the submission builds: era code
    often runs with only a warning where a keyword is ignored (Keras 2.11+ drops ``lr``)."""
    import logging

    found: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                found.append(record.getMessage())

    handler = Collect()
    absl = logging.getLogger("absl")
    absl.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield found
    finally:
        absl.removeHandler(handler)
        found[:0] = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
        unique = list(dict.fromkeys(" ".join(text.split())[:MAX_WARNING_CHARS] for text in found))
        found[:] = unique[:MAX_WARNINGS]


def _learning_rate(optimizer: Any) -> float | None:
    """The optimizer's starting learning rate, or None for a schedule or an unknown optimizer."""
    try:
        return float(np.asarray(optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None


def _loss_name(loss: Any) -> str:
    if isinstance(loss, str):
        return loss
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__)


class Run:
    """One subject's life in the child: build, train, predict."""

    def __init__(self, args: argparse.Namespace, channel: Channel) -> None:
        self.args = args
        self.channel = channel
        self.work: Path = args.work
        self.model_file: Path | None = args.model.resolve() if args.model else None
        self.model: Any = None
        self.fit: dict[str, Any] = {}
        self.sparse = False
        self.pace_model: Any = None

    # -- build ---------------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        import keras

        from reference import load

        keras.utils.set_random_seed(self.args.seed)
        if self.args.saved is not None:
            return self._load_saved()
        training.set_precision(self.args.precision)
        recipe_module = load(self.args.recipe)
        warned: list[str] = []
        if self.model_file is not None:
            if self.args.backend != "tensorflow":
                refuse_tensorflow(self.model_file, self.args.backend)
            with _keras_warnings() as warned, _tensorflow_missing(self.args.backend):
                module = import_submission(self.model_file)
                model = module.build_model()
                requested = self._requested_fit(module)
        else:
            module = load(self.args.reference)
            model = module.build_model()
            requested = None
        if not isinstance(model, keras.Model):
            raise SubmissionError(f"build_model() returned {type(model).__name__}, not a keras.Model.")
        compiled_by = "submission"
        if getattr(model, "optimizer", None) is None:
            reference_model = recipe_module.build_model()
            optimizer = reference_model.optimizer
            model.compile(
                optimizer=type(optimizer).from_config(optimizer.get_config()),
                loss=reference_model.loss,
                metrics=["accuracy"],
            )
            compiled_by = "assignment"
        self._check_input(model)
        loss = model.loss
        if isinstance(loss, dict | list | tuple):
            raise SubmissionError(
                "the model is compiled with several losses; it must have one output and one loss."
            )
        if loss is None:
            raise SubmissionError("the model is compiled without a loss.")
        self.sparse = "sparse" in _loss_name(loss).lower()
        notes = [f"Keras warned while building the model: {text}" for text in warned]
        self.fit = self._fit_settings(requested, recipe_module.RECIPE, notes)
        self.model = model

        from grader.model_facts import describe_model

        return {
            "facts": describe_model(model).to_dict(),
            "compiled_by": compiled_by,
            "optimizer": type(model.optimizer).__name__,
            "learning_rate": _learning_rate(model.optimizer),
            "loss": _loss_name(loss),
            "labels": "integers" if self.sparse else "one-hot",
            "fit": {key: value for key, value in self.fit.items() if key != "callbacks"}
            | {"callbacks": [type(c).__name__ for c in self.fit["callbacks"]]},
            "notes": notes,
        }

    def _load_saved(self) -> dict[str, Any]:
        import keras

        from grader.model_facts import describe_model

        try:
            self.model = keras.models.load_model(self.args.saved, compile=False, safe_mode=True)
        except Exception as error:  # any failure to load is the submission's to fix
            raise SubmissionError(
                "the trained model cannot be loaded without running the submission's own code "
                f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}). "
                "Build it from Keras's built-in layers: no Lambda layers, custom layers or subclassed models."
            ) from None
        facts = describe_model(self.model).to_dict()
        return {
            "facts": facts,
            "compiled_by": "",
            "optimizer": "",
            "loss": "",
            "labels": "",
            "fit": {},
            "notes": [],
        }

    def _requested_fit(self, module: Any) -> dict[str, Any] | None:
        if not hasattr(module, "fit_kwargs"):
            return None
        if not callable(module.fit_kwargs):
            raise SubmissionError("fit_kwargs must be a function returning a dict of model.fit arguments.")
        requested = module.fit_kwargs()
        if not isinstance(requested, dict):
            raise SubmissionError(f"fit_kwargs() returned {type(requested).__name__}, not a dict.")
        for key in requested:
            if key not in FIT_KEYS:
                owned = " The grader supplies the data." if key in ("x", "y", "validation_data") else ""
                raise SubmissionError(
                    f"fit_kwargs() returned {key!r}, which the grader does not accept.{owned} "
                    f"Allowed: {', '.join(FIT_KEYS)}."
                )
        return requested

    def _fit_settings(
        self, requested: dict[str, Any] | None, recipe: Any, notes: list[str]
    ) -> dict[str, Any]:
        """The submission's fit_kwargs (or the recipe's), with epochs capped by the assignment."""
        import keras

        cap = self.args.max_epochs
        if requested is None:
            validation = recipe.validation if isinstance(recipe.validation, float) else 0.0
            run_dir = self.work / "run"
            run_dir.mkdir(exist_ok=True)
            callbacks = recipe.callbacks(run_dir) if self.args.reference else []
            settings = {
                "batch_size": recipe.batch_size,
                "epochs": recipe.epochs,
                "validation_split": validation,
            }
            settings["callbacks"] = callbacks
            if self.model_file is not None:
                notes.append(
                    f"No fit_kwargs(): the reference's batch size ({recipe.batch_size}) and epochs are used."
                )
        else:
            settings = {
                "batch_size": requested.get("batch_size", recipe.batch_size),
                "epochs": requested.get("epochs", recipe.epochs),
                "validation_split": requested.get("validation_split", 0.0),
                "callbacks": list(requested.get("callbacks") or []),
                "shuffle": requested.get("shuffle", True),
            }
        batch, epochs, split = settings["batch_size"], settings["epochs"], settings["validation_split"]
        if type(batch) is not int or batch < 1:
            raise SubmissionError(f"batch_size must be a whole number of at least 1, not {batch!r}.")
        if type(epochs) is not int or epochs < 1:
            raise SubmissionError(f"epochs must be a whole number of at least 1, not {epochs!r}.")
        if isinstance(split, bool) or not isinstance(split, int | float) or not 0 <= split < 1:
            raise SubmissionError(f"validation_split must be a fraction from 0 up to 1, not {split!r}.")
        if not all(isinstance(c, keras.callbacks.Callback) for c in settings["callbacks"]):
            raise SubmissionError("callbacks must be a list of keras.callbacks.Callback objects.")
        if epochs > cap:
            notes.append(f"Asked for {epochs} epochs; the assignment allows at most {cap}.")
            settings["epochs"] = cap
        return settings

    def _check_input(self, model: Any) -> None:
        try:
            shape = tuple(model.inputs[0].shape)
        except (AttributeError, IndexError, TypeError, ValueError):
            return  # a subclassed model without a declared input: its first call will tell
        if (
            len(model.inputs) != 1
            or tuple(None if d is None else int(d) for d in shape)[1:] != INPUT_SHAPE[1:]
        ):
            found = ", ".join(str(tuple(i.shape)) for i in model.inputs)
            raise SubmissionError(
                f"the model expects input {found}; the grader feeds one input of shape (None, 28, 28, 1)."
            )

    # -- train ---------------------------------------------------------------------------------
    def train(self) -> dict[str, Any]:
        x = np.load(self.work / "x_train.npy", allow_pickle=False)
        labels = np.load(self.work / "y_train.npy", allow_pickle=False)
        x = x.reshape(-1, 28, 28, 1).astype("float32") / 255.0
        y = labels.astype("int64") if self.sparse else np.eye(10, dtype="float32")[labels]
        settings = dict(self.fit)
        if self.args.target_accuracy is not None:
            x_val = np.load(self.work / "x_val.npy", allow_pickle=False).reshape(-1, 28, 28, 1)
            y_val = np.load(self.work / "y_val.npy", allow_pickle=False)
            stop = _target_callback(x_val.astype("float32") / 255.0, y_val, self.args.target_accuracy)
            settings["callbacks"] = [*settings["callbacks"], stop]
        history = training.fit(self.model, x, y, settings=settings, progress=_progress_callback(self.channel))
        self.model.save(self.work / "model.keras")
        epochs_run = len(getattr(history, "epoch", []) or [])
        final = {
            key: float(values[-1])
            for key, values in (getattr(history, "history", {}) or {}).items()
            if values and isinstance(values[-1], int | float | np.floating)
        }
        return {"epochs": epochs_run, "final": final}

    # -- predict -------------------------------------------------------------------------------
    def predict(self) -> dict[str, Any]:
        x = np.load(self.work / "x_test.npy", allow_pickle=False)
        x = x.reshape(-1, 28, 28, 1).astype("float32") / 255.0
        outputs = self.model.predict(x, batch_size=PREDICT_BATCH, verbose=0)
        if isinstance(outputs, dict | list | tuple):
            raise SubmissionError(
                "the model returns several outputs; it must return one array of class scores."
            )
        predictions = np.asarray(outputs, dtype="float32")
        np.save(self.work / "predictions.npy", predictions, allow_pickle=False)
        return {"shape": list(predictions.shape)}

    # -- pace ----------------------------------------------------------------------------------
    def pace(self) -> dict[str, Any]:
        """Train the recipe's reference in a loop until told to stop, answering ``mark`` with the
        steps done and this process's CPU time; returns the totals and their samples."""
        import keras

        from reference import load

        if self.model_file is not None:
            raise SubmissionError("only a child that runs no submission code may pace.")
        if self.pace_model is None:  # kept, so pacing again needs no new trace
            training.set_precision(self.args.precision)
            keras.utils.set_random_seed(self.args.seed)
            self.pace_model = load(self.args.recipe).build_model()
        model = self.pace_model
        _yield_cores(PACE_NICE)
        x = np.load(self.work / "x_pace.npy", allow_pickle=False).reshape(-1, 28, 28, 1)
        labels = np.load(self.work / "y_pace.npy", allow_pickle=False)
        y = np.eye(10, dtype="float32")[labels]
        clock = _PaceClock(self.channel)
        model.fit(
            x.astype("float32") / 255.0, y, batch_size=PACE_BATCH, epochs=10**6, verbose=0, callbacks=[clock]
        )
        return clock.totals()


def _yield_cores(nice: int) -> None:
    """Lower this process's priority by ``nice``: its session's autogroup (which is what the
    scheduler weighs against other sessions) and each of its threads (where autogroups are off)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(nice))
    for thread in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, int(thread), nice)


class _PaceClock:
    """The pace-setter's callback: counts steps, says ``pacing`` once warm, answers ``mark`` and
    stops training on ``stop`` (both read from stdin between steps)."""

    def __new__(cls, channel: Channel) -> Any:
        import keras

        class PaceClock(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.steps = 0
                self.samples: list[tuple[int, float]] = []

            def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
                self.steps += 1
                cpu = time.process_time()
                if self.steps == PACE_WARM_STEPS:
                    channel.send("pacing", steps=self.steps, cpu=cpu)
                if self.steps < PACE_WARM_STEPS:
                    return
                if not self.samples or cpu - self.samples[-1][1] >= PACE_SAMPLE_S:
                    self.samples.append((self.steps, cpu))
                if select.select([COMMANDS_FD], [], [], 0)[0]:
                    if read_command() == "mark":
                        channel.send("mark", steps=self.steps, cpu=cpu, samples=self.samples)
                        self.samples = [(self.steps, cpu)]
                    else:
                        self.model.stop_training = True

            def totals(self) -> dict[str, Any]:
                return {"steps": self.steps, "cpu": time.process_time(), "samples": self.samples}

        return PaceClock()


def _target_callback(x_val: np.ndarray, y_val: np.ndarray, target: float) -> Any:
    """After each epoch: accuracy on the held-out split (logged as ``target_accuracy``); stop at target."""
    import keras

    from grader.scoring import accuracy

    class StopAtTarget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            scores = np.asarray(self.model.predict(x_val, batch_size=PREDICT_BATCH, verbose=0), "float32")
            reached = accuracy(scores.reshape(len(y_val), -1), y_val)
            if logs is not None:
                logs["target_accuracy"] = reached
            if reached >= target:
                self.model.stop_training = True

    return StopAtTarget()


def _progress_callback(channel: Channel) -> Any:
    import keras

    class Progress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.last = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch
            steps = self.params.get("steps")
            channel.send("batch", epoch=epoch + 1, epochs=self.params.get("epochs"), step=0, steps=steps)

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            now = time.monotonic()
            if now - self.last >= PROGRESS_INTERVAL_S:
                self.last = now
                loss = float(logs["loss"]) if logs and "loss" in logs else None
                channel.send(
                    "batch",
                    epoch=self.epoch + 1,
                    epochs=self.params.get("epochs"),
                    step=batch + 1,
                    steps=self.params.get("steps"),
                    loss=loss,
                )

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            metrics = {
                k: float(v) for k, v in (logs or {}).items() if isinstance(v, int | float | np.floating)
            }
            channel.send("epoch", epoch=epoch + 1, epochs=self.params.get("epochs"), logs=metrics)

    return Progress()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    channel = Channel(args.messages_fd)
    os.chdir(args.work)
    os.environ["KERAS_BACKEND"] = args.backend  # before anything imports Keras
    found = backends.start(args.backend, threads=args.threads, gpu_memory_mb=args.gpu_memory_mb)
    channel.send("ready", python=platform.python_version(), **found)
    run = Run(args, channel)
    phases = {
        "build": (run.build, "built"),
        "train": (run.train, "trained"),
        "predict": (run.predict, "predicted"),
        "pace": (run.pace, "paced"),
    }
    while (command := read_command()) in phases:
        action, event = phases[command]
        try:
            channel.send(event, **action())
        except BaseException as error:  # report anything, even SystemExit from student code
            if isinstance(error, SubmissionError):
                message = str(error)
            elif isinstance(error, SyntaxError):
                message = f"SyntaxError: {error.msg}"  # where it is comes separately
            else:
                message = backends.out_of_gpu_memory(f"{type(error).__name__}: {error}", args.gpu_memory_mb)
            channel.send("error", phase=command, message=message, where=_where(run.model_file))
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
