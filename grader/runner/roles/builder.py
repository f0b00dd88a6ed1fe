"""The builder: the one role that runs a submission's code.

It imports ``model.py`` (or, for the reference's calibration, a reference module, which is the
grader's own code), calls ``build_model()`` and ``fit_kwargs()``, and reports the model it got.
A notebook or script runs instead until its first ``model.fit`` call (grader/runner/capture.py),
which gives the model and its fit settings the same way.
Under ``training.trainer = "grader"`` that is all it does: it hands over the model's
``Declaration`` (grader/runner/declare.py) and the grader stops it; a trusted trainer trains what
it declared. Under ``trainer = "submission"`` it trains the model itself (its callbacks run, its
code runs), and everything it says after building is the student's word: it saves the model as
built (``built.keras``) so the verifier can see whether it arrived already trained, and the
trained one (``model.keras``) for the verifier to score.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import logging
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grader import backends
from grader.runner import fitting, training
from grader.runner.capture import capture
from grader.runner.declare import declare
from grader.runner.program import Part, read_program
from grader.runner.protocol import Channel, SubmissionError
from grader.submission import entry_form

MAX_WARNINGS, MAX_WARNING_CHARS = 5, 300  # notes a student reads, not a log
BUILT_MODEL = "built.keras"  # the model as build_model() returned it (trainer = "submission")
TRAINING_ARRAYS = (
    "x_train.npy",
    "y_train.npy",
)  # the grader's images, which a notebook's load_data() returns


class Builder(fitting.ModelRole):
    """Builds a submission's (or a reference's) model; trains it only under trainer = "submission"."""

    def __init__(self, args: argparse.Namespace, channel: Channel) -> None:
        super().__init__(args, channel)
        self.model_file: Path | None = args.model.resolve() if args.model else None
        self.saves = self.model_file is not None  # for the verifier; a reference predicts itself

    def commands(self) -> dict[str, Callable[[], dict[str, Any]]]:
        found = {"build": self.build}
        if self.args.trainer == "submission":
            found["train"] = self.train
            if self.model_file is None:
                found["predict"] = self.predict  # a reference's own predictions (calibration)
        return found

    def build(self) -> dict[str, Any]:
        import keras

        from reference import load

        keras.utils.set_random_seed(self.args.seed)
        training.set_precision(self.args.precision)
        recipe_module = load(self.args.recipe)
        notes: list[str] = []
        callbacks: list[Any] = []
        parts: list[Part] = []
        if self.model_file is not None:
            parts = read_program(self.model_file)
            if self.args.backend != "tensorflow":
                refuse_tensorflow(parts, self.args.backend)
            with _keras_warnings() as warned, _tensorflow_missing(self.args.backend):
                if entry_form(self.model_file) == "model":
                    module = import_submission(self.model_file)
                    model = module.build_model()
                    requested = fitting.requested_fit(module)
                else:
                    x, y = (np.load(self.work / name, allow_pickle=False) for name in TRAINING_ARRAYS)
                    model, requested, captured = capture(parts, self.model_file, x, y)
                    notes += captured
            notes += [f"Keras warned while building the model: {text}" for text in warned]
            if requested is None:
                notes.append(
                    f"No fit_kwargs(): the reference's batch size ({recipe_module.RECIPE.batch_size}) and epochs are used."
                )
        else:
            module = load(self.args.reference)
            model = module.build_model()
            requested = None
            run_dir = self.work / "run"
            run_dir.mkdir(exist_ok=True)
            callbacks = recipe_module.RECIPE.callbacks(run_dir)
        if not isinstance(model, keras.Model):
            raise SubmissionError(f"build_model() returned {type(model).__name__}, not a keras.Model.")
        compiled_by = fitting.compile_if_needed(model, recipe_module)
        fitting.check_input(
            model, shaped=next((n for n in notes if n.startswith("Your code fit on images of shape")), "")
        )
        self.sparse = fitting.sparse_labels(model)
        fit = fitting.fit_settings(requested, recipe_module.RECIPE, callbacks=callbacks)
        self.model = model
        found = fitting.report(model, compiled_by=compiled_by, sparse=self.sparse, fit=fit, notes=notes)
        if self.args.trainer == "grader":
            # As it was written down: the trainer vets it again and says what its vetting changed.
            found["declaration"] = declare(model, fit, parts=parts).source
        else:
            self.fit = fitting.cap_epochs(fit, self.args.max_epochs, notes)
            found["fit"]["epochs"] = self.fit["epochs"]
            if self.model_file is not None:
                with contextlib.suppress(Exception):  # unsaveable: the verifier says so
                    model.save(self.work / BUILT_MODEL)
        return found


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


def refuse_tensorflow(parts: Sequence[Part], backend: str) -> None:
    """Refuse tf.keras-era code (``import tensorflow``, ``from tensorflow.keras import ...``) before
    it runs, naming its line: on another backend it fails, or half works, in confusing ways."""
    for part in parts:
        tree = part.tree()  # None: running it reports the SyntaxError, with its line
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            if any(name == "tensorflow" or name.startswith("tensorflow.") for name in names):
                line = (ast.get_source_segment(part.source, node) or "").strip()
                raise SubmissionError(
                    f"{part.label}, line {node.lineno} imports TensorFlow ({line}), but "
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
