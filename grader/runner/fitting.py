"""What every role that builds or trains a model shares: the compile fallback, the input and loss
checks, the fit settings and their limits, the ``built`` report, and training and predicting on
the arrays the grader hands over (as .npy files in the child's scratch)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from grader.declaration import fit_problem
from grader.runner import training
from grader.runner.protocol import Channel, SubmissionError

FIT_KEYS = ("batch_size", "epochs", "validation_split", "callbacks", "shuffle", "verbose")
INPUT_SHAPE = (None, 28, 28, 1)
PROGRESS_INTERVAL_S = 0.25
PREDICT_BATCH = 256
SAVED_MODEL = "model.keras"


def compile_if_needed(model: Any, recipe_module: Any) -> str:
    """Who compiled ``model``: the submission, or (when it came uncompiled) the assignment, with
    its reference's optimizer and loss."""
    if getattr(model, "optimizer", None) is not None:
        return "submission"
    reference_model = recipe_module.build_model()
    optimizer = reference_model.optimizer
    model.compile(
        optimizer=type(optimizer).from_config(optimizer.get_config()),
        loss=reference_model.loss,
        metrics=["accuracy"],
    )
    return "assignment"


def check_input(model: Any, *, shaped: str = "") -> None:
    """Refuse a model that cannot take the grader's (N, 28, 28, 1) images; ``shaped`` says how the
    student's own code shaped the images it fit on, if that is known."""
    try:
        shape = tuple(model.inputs[0].shape)
    except (AttributeError, IndexError, TypeError, ValueError):
        return  # a subclassed model without a declared input: its first call will tell
    if len(model.inputs) != 1 or tuple(None if d is None else int(d) for d in shape)[1:] != INPUT_SHAPE[1:]:
        found = ", ".join(str(tuple(i.shape)) for i in model.inputs)
        raise SubmissionError(
            f"the model expects input {found}; the grader feeds one input of shape (None, 28, 28, 1)."
            + (f" {shaped}" if shaped else "")
        )


def sparse_labels(model: Any) -> bool:
    """Whether the compiled loss takes integer labels (else one-hot); refuses several losses or none."""
    loss = model.loss
    if isinstance(loss, dict | list | tuple):
        raise SubmissionError(
            "the model is compiled with several losses; it must have one output and one loss."
        )
    if loss is None:
        raise SubmissionError("the model is compiled without a loss.")
    return "sparse" in loss_name(loss).lower()


def loss_name(loss: Any) -> str:
    if isinstance(loss, str):
        return loss
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__)


def learning_rate(optimizer: Any) -> float | None:
    """The optimizer's starting learning rate, or None for a schedule or an unknown optimizer."""
    try:
        return float(np.asarray(optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None


def requested_fit(module: Any) -> dict[str, Any] | None:
    """What the module's ``fit_kwargs()`` asks for (None without one), its keys checked."""
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


def fit_settings(
    requested: dict[str, Any] | None, recipe: Any, *, callbacks: list[Any] | None = None
) -> dict[str, Any]:
    """The fit settings asked for (or, without ``fit_kwargs()``, the recipe's, with ``callbacks``),
    checked; the epoch cap is applied by whoever trains (``cap_epochs``)."""
    import keras

    if requested is None:
        validation = recipe.validation if isinstance(recipe.validation, float) else 0.0
        settings: dict[str, Any] = {
            "batch_size": recipe.batch_size,
            "epochs": recipe.epochs,
            "validation_split": validation,
            "callbacks": list(callbacks or []),
            "shuffle": True,
        }
    else:
        settings = {
            "batch_size": requested.get("batch_size", recipe.batch_size),
            "epochs": requested.get("epochs", recipe.epochs),
            "validation_split": requested.get("validation_split", 0.0),
            "callbacks": list(requested.get("callbacks") or []),
            "shuffle": requested.get("shuffle", True),
        }
    if problem := fit_problem(settings):
        raise SubmissionError(problem)
    if not all(isinstance(c, keras.callbacks.Callback) for c in settings["callbacks"]):
        raise SubmissionError("callbacks must be a list of keras.callbacks.Callback objects.")
    return settings


def cap_epochs(settings: dict[str, Any], cap: int, notes: list[str]) -> dict[str, Any]:
    """``settings`` with at most ``cap`` epochs, saying so when it cuts them."""
    if settings["epochs"] <= cap:
        return settings
    notes.append(f"Asked for {settings['epochs']} epochs; the assignment allows at most {cap}.")
    return {**settings, "epochs": cap}


def report(
    model: Any, *, compiled_by: str, sparse: bool, fit: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    """The ``built`` event's fields: the model's facts and how it is compiled and to be fit."""
    from grader.model_facts import describe_model

    return {
        "facts": describe_model(model).to_dict(),
        "compiled_by": compiled_by,
        "optimizer": type(model.optimizer).__name__,
        "learning_rate": learning_rate(model.optimizer),
        "loss": loss_name(model.loss),
        "labels": "integers" if sparse else "one-hot",
        "fit": {key: value for key, value in fit.items() if key != "callbacks"}
        | {"callbacks": [type(c).__name__ for c in fit["callbacks"]]},
        "notes": notes,
    }


class ModelRole:
    """What a role that trains a model holds (the builder under trainer = "submission", the
    grader's trainer): the model, its fit settings and its labels' form, and its two commands."""

    saves = False  # whether training saves the model for the verifier to load

    def __init__(self, args: argparse.Namespace, channel: Channel) -> None:
        self.args = args
        self.channel = channel
        self.work: Path = args.work
        self.model: Any = None
        self.fit: dict[str, Any] = {}
        self.sparse = False

    def train(self) -> dict[str, Any]:
        return train(
            self.model,
            self.work,
            sparse=self.sparse,
            settings=self.fit,
            target=self.args.target_accuracy,
            channel=self.channel,
            save=self.saves,
        )

    def predict(self) -> dict[str, Any]:
        return predict(self.model, self.work)


def train(
    model: Any,
    work: Path,
    *,
    sparse: bool,
    settings: dict[str, Any],
    target: float | None,
    channel: Channel,
    save: bool,
) -> dict[str, Any]:
    """Train on the grader's ``x_train.npy``/``y_train.npy`` with ``settings`` (with a ``target``,
    until the held-out ``x_val.npy`` reaches it); with ``save``, save the model for the verifier."""
    x = np.load(work / "x_train.npy", allow_pickle=False)
    labels = np.load(work / "y_train.npy", allow_pickle=False)
    x = x.reshape(-1, 28, 28, 1).astype("float32") / 255.0
    y = labels.astype("int64") if sparse else np.eye(10, dtype="float32")[labels]
    settings = dict(settings)
    if target is not None:
        x_val = np.load(work / "x_val.npy", allow_pickle=False).reshape(-1, 28, 28, 1)
        y_val = np.load(work / "y_val.npy", allow_pickle=False)
        stop = _target_callback(x_val.astype("float32") / 255.0, y_val, target)
        settings["callbacks"] = [*settings["callbacks"], stop]
    history = training.fit(model, x, y, settings=settings, progress=progress_callback(channel))
    if save:
        model.save(work / SAVED_MODEL)
    epochs_run = len(getattr(history, "epoch", []) or [])
    final = {
        key: float(values[-1])
        for key, values in (getattr(history, "history", {}) or {}).items()
        if values and isinstance(values[-1], int | float | np.floating)
    }
    return {"epochs": epochs_run, "final": final}


def predict(model: Any, work: Path) -> dict[str, Any]:
    """The model's outputs on the grader's ``x_test.npy``, written to ``predictions.npy``."""
    x = np.load(work / "x_test.npy", allow_pickle=False)
    x = x.reshape(-1, 28, 28, 1).astype("float32") / 255.0
    outputs = model.predict(x, batch_size=PREDICT_BATCH, verbose=0)
    if isinstance(outputs, dict | list | tuple):
        raise SubmissionError("the model returns several outputs; it must return one array of class scores.")
    predictions = np.asarray(outputs, dtype="float32")
    np.save(work / "predictions.npy", predictions, allow_pickle=False)
    return {"shape": list(predictions.shape)}


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


def progress_callback(channel: Channel) -> Any:
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
