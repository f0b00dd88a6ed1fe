"""A built model and its fit settings as a ``Declaration`` (grader/declaration.py): what the
builder hands the grader's trainer under ``training.trainer = "grader"``.

This runs in the builder, beside the student's code, so nothing here is trusted: the trainer vets
the declaration again as plain data before it deserialises anything. What this side adds is the
student's view: when the model cannot be trained by the grader (a custom layer, a Lambda, a
callback of their own), the message names the object and the line of the student's code that
made it, and says what to change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.declaration import (
    COMPILE_KEYS,
    FORMAT,
    NOT_RUN_CALLBACKS,
    REFUSAL,
    RUN_CALLBACKS,
    Declaration,
    Refused,
    vet,
)
from grader.runner.program import Part, made_at
from grader.runner.protocol import SubmissionError

ADVICE = (
    'This assignment trains on the grader\'s side (training.trainer = "grader"): the grader '
    "rebuilds your model from its configuration, with Keras's built-in layers, losses, optimizers "
    "and callbacks only, and trains it itself. Use Keras's own instead; an instructor who wants "
    'submissions to train themselves sets trainer = "submission" under [training].'
)
KERAS_MODULES = ("keras", "tensorflow", "tf_keras")


def declare(model: Any, fit: dict[str, Any], *, parts: Sequence[Part]) -> Declaration:
    """``model`` (built and compiled) and ``fit`` (settings with callback objects) as plain data,
    vetted; refusals name the line of the student's code (``parts``) that made the refused object."""
    try:
        try:
            architecture = json.loads(model.to_json())
        except Exception as error:  # a subclassed model cannot say what it is made of
            kind = type(model).__name__
            raise Refused(
                f"build_model() returned a {kind}, whose layers Keras cannot write down as a "
                f"configuration ({type(error).__name__}: {_first_line(error)}); the grader rebuilds only "
                "keras.Sequential and functional keras.Model(inputs, outputs) models.",
                name=kind,
            ) from None
        compiled = {key: value for key, value in _compile_config(model).items() if key in COMPILE_KEYS}
        callbacks, not_run = _callbacks(fit["callbacks"])
        data = {
            "format": FORMAT,
            "model": architecture,
            "compile": compiled,
            "fit": {key: fit[key] for key in ("batch_size", "epochs", "validation_split", "shuffle")},
            "callbacks": callbacks,
            "not_run": not_run,
        }
        return vet(json.loads(json.dumps(data, default=_plain)))
    except Refused as refused:
        line = made_at(parts, refused.name) if refused.name else ""
        raise SubmissionError(f"{REFUSAL}: {refused}{f' See {line}.' if line else ''} {ADVICE}") from None


def _compile_config(model: Any) -> dict[str, Any]:
    config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if not isinstance(config, dict):
        raise Refused("the model's compile settings cannot be read (is it compiled?).")
    return config


def _callbacks(callbacks: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Each callback as its class name and settings (those the grader runs), or its name alone
    (those it accepts and does not run); any other callback is refused."""
    run, not_run = [], []
    for callback in callbacks:
        kind = type(callback)
        name = kind.__name__
        own = not kind.__module__.startswith(KERAS_MODULES)
        if own or name not in (*RUN_CALLBACKS, *NOT_RUN_CALLBACKS):
            which = "a callback of your own" if own else "a Keras callback that runs code of your own"
            if name in ("LearningRateScheduler", "LambdaCallback"):
                which = f"{name} runs a function of your own"
            raise Refused(
                f"the callback {name} is {which}; the grader runs EarlyStopping, ReduceLROnPlateau and "
                "TerminateOnNaN, and accepts ModelCheckpoint, TensorBoard and CSVLogger without running them.",
                name=name,
            )
        if name in NOT_RUN_CALLBACKS:
            not_run.append(name)
            continue
        run.append({"class_name": name, "config": _settings(callback, RUN_CALLBACKS[name])})
    return run, not_run


def _settings(callback: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """The settings a built-in callback was made with, read back from the object."""
    found: dict[str, Any] = {}
    for key in keys:
        if key == "mode":
            found[key] = _mode(callback)
        elif hasattr(callback, key):
            value = getattr(callback, key)
            found[key] = abs(value) if key == "min_delta" and isinstance(value, int | float) else value
    return found


def _mode(callback: Any) -> str:
    """Keras 3 keeps ``mode``; Keras 2's EarlyStopping keeps only the comparison it chose."""
    mode = getattr(callback, "mode", None)
    if mode in ("min", "max", "auto"):
        return str(mode)
    op = getattr(callback, "monitor_op", None)
    if op is np.less:
        return "min"
    return "max" if op is np.greater else "auto"


def _plain(value: Any) -> Any:
    """NumPy scalars and small arrays as JSON numbers and lists (anything else is refused)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise Refused(f"the configuration holds a {type(value).__name__}, which is not plain data.")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else "no message"
