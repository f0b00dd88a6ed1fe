"""A notebook or script graded as written: run it until its first ``model.fit`` call, and take that
model and that call's settings as what is graded, as ``build_model()`` and ``fit_kwargs()`` are
for a ``model.py``.

This runs in the builder (the sandboxed child that runs student code), never in the grader. While
the student's code runs:

- ``keras.datasets.mnist.load_data()`` (and Fashion-MNIST's, under any import path: ``keras``,
  ``tensorflow.keras``) returns the grader's training images in the classic uint8 ``(N, 28, 28)``
  form; its "test" part is a split held out of them. The real test images never enter the process.
- ``model.fit`` on any Keras model stops the run: nothing after it (``evaluate``, plots, removed
  APIs such as ``predict_classes``) runs. Its ``x`` and ``y`` are looked at only to tell the
  student how the grader's own images differ; the grader trains on its own.
- It runs in the folder the notebook or script is in (a copy of the submission), as Jupyter does.
- IPython's magics and shell lines do nothing, matplotlib draws off-screen, ``input()`` fails.

A script that defines ``build_model()`` and never calls ``fit`` is graded as a ``model.py``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import inspect
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from grader.runner.program import Part, label
from grader.runner.protocol import SubmissionError

TEST_SHARE = 7  # load_data()'s "test" part: one seventh of the grader's training images (10,000 of 70,000)
VALIDATION_SPLIT = 0.1  # what validation_data=(...) becomes
DATASETS = ("mnist", "fashion_mnist")
TAKEN = ("batch_size", "epochs", "callbacks", "validation_split", "shuffle", "verbose")
IGNORED = (
    "validation_steps", "validation_batch_size", "validation_freq",
    "max_queue_size", "workers", "use_multiprocessing",
)  # fmt: skip
PROVIDED = "Keras, NumPy and matplotlib"  # what a notebook may import besides the standard library
PROVIDED_MODULES = ("keras", "tensorflow", "numpy", "matplotlib", "jax", "torch")


class Fitted(BaseException):
    """The student's code called ``fit``: stop it there (a BaseException, so their ``except
    Exception`` does not swallow it)."""


@dataclass
class Capture:
    """What running the student's code up to ``fit`` found."""

    model: Any = None
    arguments: dict[str, Any] = field(default_factory=dict)
    method: str = "fit"
    at: tuple[str, int, str] | None = None  # (label, line, source) of the call
    magics: list[str] = field(default_factory=list)


def capture(
    parts: Sequence[Part], entry: Path, x_train: np.ndarray, y_train: np.ndarray
) -> tuple[Any, dict[str, Any] | None, list[str]]:
    """Run ``parts`` until the first ``fit``: the model, the fit settings it asked for (in
    ``fit_kwargs()``'s form, or None for the recipe's) and notes for the report."""
    found = Capture(magics=[line for part in parts for line in part.magics])
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__file__": str(entry),
        "__builtins__": builtins,
        "get_ipython": lambda: _Shell(),
        "display": _display,
        "input": _no_input,
    }
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    sys.argv = [entry.name]
    os.chdir(entry.parent)  # as Jupyter runs a notebook: files beside it open by their names
    try:
        with _datasets(x_train, y_train), _fit_stops(found), _quiet_matplotlib():
            for part in parts:
                code = compile(part.source, part.filename, "exec")
                try:
                    exec(code, namespace)
                except Fitted:
                    break
                except ModuleNotFoundError as error:
                    if (error.name or "").split(".")[0] in PROVIDED_MODULES:
                        raise  # a part of Keras that this version lacks: the compat advice says which
                    raise _not_provided(error) from None
                if found.model is not None:  # fit was called, and a bare except: went on
                    break
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
    notes = [f"IPython lines skipped (the grader runs Python only): {', '.join(found.magics)}"] * bool(
        found.magics
    )
    if found.model is None:
        if callable(namespace.get("build_model")):
            module = SimpleNamespace(**namespace)
            from grader.runner import fitting

            return module.build_model(), fitting.requested_fit(module), notes
        raise SubmissionError(
            f"{entry.name} ran to its end without calling fit on a Keras model: the grader grades the "
            "model of the first model.fit(...) call (or, in a script, a build_model() function)."
        )
    requested, more = _requested(found, parts)
    return found.model, requested, notes + more


def _requested(found: Capture, parts: Sequence[Part]) -> tuple[dict[str, Any], list[str]]:
    """The ``fit`` call's settings as ``fit_kwargs()`` would give them, and what was changed."""
    where = f"{found.at[0]}, line {found.at[1]}" if found.at else "the fit call"
    arguments = found.arguments
    if found.method != "fit":
        raise SubmissionError(
            f"{where} calls model.{found.method}, which feeds the model from a generator; the grader "
            "trains on its own images with model.fit(x, y, ...): call that instead."
        )
    for key in ("class_weight", "sample_weight", "initial_epoch", "steps_per_epoch"):
        if arguments.get(key) not in (None, 0):
            raise SubmissionError(
                f"{where} passes {key}= to fit, which the grader does not take: it trains every "
                f"image of its own training set equally, from the first epoch. Remove {key}=."
            )
    notes = [
        f"Graded the model and the settings of the fit call at {where}"
        + (f" ({found.at[2]})" if found.at and found.at[2] else "")
        + "; the code after it did not run."
    ]
    requested = {key: arguments[key] for key in TAKEN if arguments.get(key) is not None}
    requested.setdefault("batch_size", 32)  # Keras's own defaults, which the student's call had
    requested.setdefault("epochs", 1)
    if arguments.get("validation_data") is not None:
        requested["validation_split"] = VALIDATION_SPLIT
        notes.append(
            f"validation_data=(...) at {where} was replaced by validation_split={VALIDATION_SPLIT}: "
            "the grader's test images never reach a submission, so it validates on a tenth of its "
            "training images instead."
        )
    if ignored := [key for key in IGNORED if arguments.get(key) not in (None, 1, False, 10)]:
        notes.append(f"fit settings ignored by the grader: {', '.join(ignored)}.")
    notes += _data_notes(arguments.get("x"), found, parts)
    return requested, notes


def _data_notes(x: Any, found: Capture, parts: Sequence[Part]) -> list[str]:
    """How the images the student fit on differ from the grader's float32 [0, 1] (N, 28, 28, 1)."""
    if x is None:
        return []
    try:
        array = np.asarray(x)
    except Exception:
        array = None
    if array is None or array.dtype == object or array.ndim == 0:
        raise SubmissionError(
            f"{found.at[0] if found.at else 'fit'}: fit was given x as a {type(x).__name__}; the grader "
            "trains with model.fit(x, y, ...) on arrays of images (a generator or dataset cannot be "
            "rebuilt on the grader's side)."
        )
    notes = []
    shaped = shaped_at(parts, found)
    since = f" ({shaped})" if shaped else ""
    if array.shape[1:] != (28, 28, 1):
        notes.append(
            f"Your code fit on images of shape {tuple(array.shape)}{since}; the grader trains on its "
            "images as (N, 28, 28, 1), the tutorials' shape."
        )
    if array.size and np.issubdtype(array.dtype, np.number) and float(np.max(array[:1000])) > 1.5:
        notes.append(
            f"Your code fit on images scaled 0..{float(np.max(array[:1000])):g}; the grader trains on "
            "float32 images scaled to [0, 1] (divided by 255)."
        )
    return notes


def shaped_at(parts: Sequence[Part], found: Capture) -> str:
    """The student's last line that reshapes the array their ``fit`` call was given as ``x``."""
    if found.at is None:
        return ""
    name = _x_name(parts, found.at)
    if not name:
        return ""
    last = ""
    for part in parts:
        tree = part.tree()
        for node in ast.walk(tree) if tree is not None else ():
            if not isinstance(node, ast.Assign) or not any(
                isinstance(target, ast.Name) and target.id == name for target in node.targets
            ):
                continue
            text = ast.get_source_segment(part.source, node.value) or ""
            if any(word in text for word in ("reshape", "expand_dims", "newaxis", "None]")):
                last = f"shaped at {part.label}, line {node.lineno}: {part.line(node.lineno)}"
    return last


def _x_name(parts: Sequence[Part], at: tuple[str, int, str]) -> str:
    part = next((part for part in parts if part.label == at[0]), None)
    tree = part.tree() if part is not None else None
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call) and node.lineno == at[1] and getattr(node.func, "attr", "") == "fit":
            given = (
                node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "x"), None)
            )
            return given.id if isinstance(given, ast.Name) else ""
    return ""


@contextlib.contextmanager
def _fit_stops(found: Capture) -> Iterator[None]:
    """``fit`` (and Keras 2's ``fit_generator``) on any Keras model records its call and stops."""
    import keras

    originals = {
        name: getattr(keras.Model, name) for name in ("fit", "fit_generator") if hasattr(keras.Model, name)
    }

    def stopper(name: str) -> Any:
        signature = inspect.signature(originals[name])

        def stop(self: Any, *args: Any, **kwargs: Any) -> None:
            if found.model is None:
                try:
                    bound = signature.bind(self, *args, **kwargs)
                    arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
                    arguments |= arguments.pop("kwargs", {})
                except TypeError as error:
                    raise TypeError(f"fit(): {error}") from None
                found.model, found.arguments, found.method = self, arguments, name
                found.at = _caller()
            raise Fitted

        return stop

    for name in originals:
        setattr(keras.Model, name, stopper(name))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(keras.Model, name, original)


def _caller() -> tuple[str, int, str] | None:
    """The student's line that is calling, from the innermost frame of their code."""
    frame = sys._getframe(2)
    while frame is not None:
        if (name := label(frame.f_code.co_filename)) is not None:
            import linecache

            return name, frame.f_lineno, linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        frame = frame.f_back  # type: ignore[assignment]
    return None


@contextlib.contextmanager
def _datasets(x_train: np.ndarray, y_train: np.ndarray) -> Iterator[None]:
    """Every MNIST and Fashion-MNIST ``load_data`` answers with the grader's training images.

    Keras re-exports each loader under several module paths (``keras.datasets``,
    ``tensorflow.keras.datasets``, ``keras.src.datasets``), some made lazily, so the function
    object itself is changed: its code is swapped for a call to ``_grader_load_data``, put in the
    loader's own module, and put back after."""
    x = np.asarray(x_train).reshape(-1, 28, 28).astype("uint8")
    y = np.asarray(y_train).reshape(-1).astype("uint8")
    held = max(1, len(x) // TEST_SHARE)

    def load_data(*args: Any, **kwargs: Any) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        return (x[:-held].copy(), y[:-held].copy()), (x[-held:].copy(), y[-held:].copy())

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        return _grader_load_data(*args, **kwargs)  # type: ignore[name-defined]  # noqa: F821

    swapped = []
    for function in _loaders():
        swapped.append((function, function.__code__))
        function.__globals__["_grader_load_data"] = load_data
        function.__code__ = stand_in.__code__
    try:
        yield
    finally:
        for function, code in swapped:
            function.__code__ = code


def _loaders() -> list[Any]:
    found: dict[int, Any] = {}
    for prefix in ("keras.src.datasets", "keras.datasets"):
        for name in DATASETS:
            try:
                module = importlib.import_module(f"{prefix}.{name}")
            except ImportError:
                continue
            function = getattr(module, "load_data", None)
            function = inspect.unwrap(function) if function is not None else None
            if inspect.isfunction(function) and not function.__code__.co_freevars:
                found[id(function)] = function
    return list(found.values())


@contextlib.contextmanager
def _quiet_matplotlib() -> Iterator[None]:
    """Plots are drawn off-screen and ``plt.show()`` says nothing."""
    os.environ["MPLBACKEND"] = "Agg"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="matplotlib")
        warnings.filterwarnings("ignore", message=".*non-interactive.*")
        yield


class _Shell:
    """What ``get_ipython()`` returns: every magic and shell line does nothing."""

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    def run_cell_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    def system(self, *args: Any, **kwargs: Any) -> None:
        return None

    def getoutput(self, *args: Any, **kwargs: Any) -> list[str]:
        return []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def _display(*objects: Any, **kwargs: Any) -> None:
    for item in objects:
        print(item)


def _no_input(prompt: Any = "") -> str:
    raise SubmissionError("the code calls input(), but no one is there to type: grading runs unattended.")


def _not_provided(error: ModuleNotFoundError) -> SubmissionError:
    """A module the grader does not install, named with the student's line that imports it."""
    import traceback

    module = (error.name or str(error)).split(".")[0]
    frames = [f for f in traceback.extract_tb(error.__traceback__) if label(f.filename)]
    line = f" ({label(frames[-1].filename)}, line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
    return SubmissionError(
        f"the code imports {module}{line}, which the grader does not install: grading provides "
        f"{PROVIDED} and Python's standard library. Remove the import and what uses it."
    )
