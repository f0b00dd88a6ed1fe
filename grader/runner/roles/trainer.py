"""The trainer: rebuilds a declared model and trains it, running no submission code.

Under ``training.trainer = "grader"`` this is the child whose training the clock measures and
whose predictions on the test images the grader scores. It reads the builder's ``declaration.json`` from its
scratch, vets it as plain data (grader/declaration.py) before anything deserialises it, and then
rebuilds the model from Keras's built-in classes only, with every weight initialised afresh from
the layers' own initializers under the assignment's seed. Nothing the submission's process did
after building (weights it shipped, set or swapped) can reach it. The callbacks it runs are
Keras's own, rebuilt from their settings (EarlyStopping, ReduceLROnPlateau, TerminateOnNaN);
ModelCheckpoint, TensorBoard and CSVLogger are accepted and not run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.declaration import LAYERS, MAX_BYTES, MODELS, REFUSAL, Declaration, Refused, described, vet
from grader.runner import fitting, training
from grader.runner.protocol import SubmissionError

DECLARATION = "declaration.json"  # grader.runner.supervisor writes it


class Trainer(fitting.ModelRole):
    """Rebuilds the model declared in ``DECLARATION`` and trains it on the grader's side. It
    never saves the model: it predicts itself, so nothing it trained leaves it but predictions."""

    def commands(self) -> dict[str, Callable[[], dict[str, Any]]]:
        return {"build": self.build, "train": self.train, "predict": self.predict}

    def build(self) -> dict[str, Any]:
        declaration = read_declaration(self.work / DECLARATION)
        self.model = rebuild(declaration, seed=self.args.seed, precision=self.args.precision)
        fitting.check_input(self.model)
        self.sparse = fitting.sparse_labels(self.model)
        notes: list[str] = []
        self.fit = fitting.cap_epochs(
            {**declaration.fit, "callbacks": callbacks(declaration)}, self.args.max_epochs, notes
        )
        if declaration.reseeded:
            many = declaration.reseeded > 1
            notes.append(
                f"{declaration.reseeded} seed{'s' if many else ''} given in the model's declaration "
                f"{'were' if many else 'was'} dropped: the grader draws every weight from a seed of its own."
            )
        if declaration.not_run:
            notes.append(
                f"Not run by the grader: {described(declaration.not_run)} (the grader trains the model "
                "itself, and these callbacks write files that it would not keep)."
            )
        found = fitting.report(
            self.model, compiled_by="submission", sparse=self.sparse, fit=self.fit, notes=notes
        )
        found["fit"]["not_run"] = list(declaration.not_run)
        return found


def read_declaration(path: Path) -> Declaration:
    """The declaration in ``path``, vetted; a refusal is the submission's to fix."""
    try:
        with path.open("rb") as file:
            text = file.read(MAX_BYTES + 1)
    except OSError:
        raise SubmissionError("the grader's trainer was given no declaration to train.") from None
    try:
        return vet(text)
    except Refused as refused:
        raise SubmissionError(f"{REFUSAL}: {refused}") from None


def rebuild(declaration: Declaration, *, seed: int, precision: str) -> Any:
    """The declared model built afresh (weights from its initializers under ``seed`` mixed with the
    declaration's digest, ``Declaration.seed``) and compiled."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(declaration.seed(seed))
    training.set_precision(precision)
    try:
        model = keras.models.model_from_json(json.dumps(declaration.model))
    except Exception as error:  # a configuration Keras cannot build is the submission's to fix
        raise SubmissionError(
            f"{REFUSAL}: Keras cannot rebuild it from its configuration ({_said(error)})."
        ) from None
    check_graph(model)
    if not model.trainable_weights:
        raise SubmissionError(
            f"{REFUSAL}: every layer is frozen (trainable=False), so training would change nothing; "
            "the grader trains every model it grades from fresh weights."
        )
    compiled = copy.deepcopy(
        declaration.compile
    )  # Keras may change what it deserialises; the digest must not
    options = {key: compiled[key] for key in ("run_eagerly", "jit_compile") if compiled.get(key) is not None}
    try:
        model.compile(
            optimizer=_optimizer(compiled["optimizer"]),
            loss=_named(compiled["loss"], keras.losses.deserialize),
            metrics=[_named(metric, keras.metrics.deserialize) for metric in compiled["metrics"]],
            **options,
        )
    except Exception as error:
        raise SubmissionError(f"{REFUSAL}: Keras cannot compile it as declared ({_said(error)}).") from None
    rate = fitting.learning_rate(model.optimizer)
    if rate is not None and not rate > 0:
        raise SubmissionError(
            f"{REFUSAL}: its learning rate is {rate:g}; training at a learning rate of 0 or below "
            "changes nothing, and the grader trains every model it grades."
        )
    return model


def check_graph(model: Any) -> None:
    """Every node of the rebuilt graph is one of Keras's own layers, of exactly the public class
    its name says, and listed in ``model.layers``, so the facts the checks read count all of it.
    The vetting already refuses anything else as plain data; this is what Keras actually built."""
    import keras

    listed = {id(layer) for layer in model.layers}
    for node in getattr(model, "operations", model.layers):
        if not isinstance(node, keras.layers.Layer) or id(node) not in listed:
            raise SubmissionError(
                f"{REFUSAL}: its graph holds {type(node).__name__} ({type(node).__module__}), an "
                "operation applied to a Keras tensor outside a layer; write it with Keras layers."
            )
    for layer in model.layers:
        _known_layer(layer, keras)


def _known_layer(layer: Any, keras: Any) -> None:
    kind = type(layer)
    if isinstance(layer, keras.Model):
        if kind.__name__ not in MODELS or not kind.__module__.startswith("keras"):
            raise SubmissionError(f"{REFUSAL}: it holds a model of class {kind.__name__}, not a Keras one.")
        check_graph(layer)
        return
    if kind.__name__ not in LAYERS or getattr(keras.layers, kind.__name__, None) is not kind:
        raise SubmissionError(
            f"{REFUSAL}: it holds a layer of class {kind.__name__} ({kind.__module__}), which is not "
            "the Keras layer of that name."
        )
    for inner in ("layer", "forward_layer", "backward_layer"):  # Bidirectional, TimeDistributed
        if isinstance(getattr(layer, inner, None), keras.layers.Layer):
            _known_layer(getattr(layer, inner), keras)


def callbacks(declaration: Declaration) -> list[Any]:
    """The callbacks the grader runs, built from their declared settings (silent)."""
    import keras

    return [
        getattr(keras.callbacks, callback["class_name"])(
            **callback["config"], **_quiet(callback["class_name"])
        )
        for callback in declaration.callbacks
    ]


def _quiet(name: str) -> dict[str, Any]:
    return {} if name == "TerminateOnNaN" else {"verbose": 0}


def _optimizer(declared: str | dict[str, Any]) -> Any:
    import keras

    return (
        keras.optimizers.get(declared)
        if isinstance(declared, str)
        else keras.optimizers.deserialize(declared)
    )


def _named(declared: str | dict[str, Any], deserialize: Callable[[dict[str, Any]], Any]) -> Any:
    """A loss or metric: its built-in name as compile() takes it, or a built-in class rebuilt."""
    return declared if isinstance(declared, str) else deserialize(declared)


def _said(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300]}" if text else type(error).__name__
