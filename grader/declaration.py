"""What a submission declares, as plain data, and the vetting that decides whether the grader will
train it.

Under ``training.trainer = "grader"`` a submission's code runs only to build and compile its model
and to say how it is to be fit. Its child hands over a ``Declaration``: the model's Keras
configuration (``model.to_json()``), its compile configuration, its fit settings and its
callbacks by name and settings. The grader's trainer rebuilds the model from that, with fresh
weights from the assignment's seed, and trains it itself (grader/runner/roles/trainer.py).

A configuration is the student's word, and deserialising it is a door: Keras 2 runs a Lambda's
marshalled bytecode from ``model_from_json``, Keras 3 resolves functions by module and name, and
a built-in initializer such as ``Constant(W)`` carries whole weight matrices into a "fresh"
model. So ``vet`` reads it as plain JSON, before anything deserialises it, on every Keras
version, and refuses:

- any class that is not one of Keras's own layers, models, initializers, regularizers,
  constraints, dtype policies, optimizers, learning-rate schedules, losses, metrics or the
  callbacks below, or that names a module outside Keras;
- any function (an activation, a loss, a metric) that is not one of Keras's by name;
- more than ``MAX_NUMBERS`` numbers in any one argument of a layer (and more than one in an
  initializer's), so weights cannot travel inside a configuration;
- text longer than ``MAX_TEXT`` characters (marshalled code is long), more than ``MAX_LAYERS``
  layers, nesting deeper than ``MAX_DEPTH`` or a declaration over ``MAX_BYTES``.

This module imports nothing but the standard library: the grader's own process uses it too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FORMAT = 1
REFUSAL = "the grader cannot train this model"  # how every refusal's message starts
MAX_BYTES = 512 << 10
MAX_DEPTH = 40
MAX_LAYERS = 512
MAX_NUMBERS = 16  # in one argument of a layer: kernel sizes, strides, paddings, a channel's statistics
MAX_INITIALIZER_NUMBERS = 1  # an initializer's arguments are scalars: a seed, a mean, a constant
MAX_TEXT = 256
MAX_CALLBACKS = 16

MODELS = frozenset({"Sequential", "Functional", "Model"})
LAYERS = frozenset(
    {
        # core
        *("InputLayer", "Dense", "EinsumDense", "Activation", "Identity", "Masking"),
        *("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"),
        *("GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"),
        *("Flatten", "Reshape", "Permute", "RepeatVector"),
        # convolution
        *("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"),
        *("SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D"),
        # pooling
        *("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D"),
        *("AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D"),
        *("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D"),
        # normalization and preprocessing that holds no learned state of its own
        *("BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization"),
        *("Normalization", "Rescaling", "CenterCrop", "Resizing"),
        *("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D"),
        *("UpSampling1D", "UpSampling2D", "UpSampling3D"),
        *("RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast"),
        *("RandomCrop", "RandomBrightness"),
        # merging
        *("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"),
        # activations as layers
        *("ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ThresholdedReLU"),
        # recurrent (MNIST read row by row)
        *("SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed"),
        *("SimpleRNNCell", "LSTMCell", "GRUCell"),
    }
)
INITIALIZERS = frozenset(
    {
        *("Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal"),
        *("VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform"),
        *("LecunNormal", "LecunUniform", "Orthogonal", "Identity", "IdentityInitializer"),
    }
)
REGULARIZERS = frozenset({"L1", "L2", "L1L2", "OrthogonalRegularizer"})
CONSTRAINTS = frozenset({"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "RadialConstraint"})
DTYPE_POLICIES = frozenset({"DTypePolicy", "FloatDTypePolicy", "Policy"})
OPTIMIZERS = frozenset(
    {
        *("SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "Adafactor", "Nadam", "RMSprop"),
        *("Ftrl", "Lion", "Lamb", "LossScaleOptimizer"),
    }
)
OPTIMIZER_NAMES = frozenset(name.lower() for name in OPTIMIZERS - {"LossScaleOptimizer"})
SCHEDULES = frozenset(
    {
        *("ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay"),
        *("CosineDecay", "CosineDecayRestarts"),
    }
)
LOSSES = frozenset(
    {
        *("CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy"),
        *("CategoricalFocalCrossentropy", "BinaryFocalCrossentropy", "KLDivergence", "Poisson"),
        *("MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError"),
        *("MeanSquaredLogarithmicError", "Hinge", "SquaredHinge", "CategoricalHinge", "Huber"),
        *("LogCosh", "CosineSimilarity"),
    }
)
METRICS = frozenset(
    {
        *("Accuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "BinaryAccuracy"),
        *("TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "AUC", "Precision", "Recall"),
        *("F1Score", "Mean", "MeanMetricWrapper"),
        *LOSSES,  # each loss is also a metric of the same name
    }
)
ACTIVATIONS = frozenset(
    {
        *("relu", "relu6", "sigmoid", "softmax", "softplus", "softsign", "tanh", "selu", "elu"),
        *("exponential", "linear", "swish", "silu", "gelu", "hard_sigmoid", "hard_silu"),
        *("hard_swish", "leaky_relu", "log_softmax", "mish", "celu", "glu", "log_sigmoid"),
        *("hard_tanh", "squareplus", "sparse_plus", "soft_shrink", "hard_shrink", "tanh_shrink"),
        *("sparsemax", "threshold"),
    }
)
LOSS_NAMES = frozenset(
    {
        *("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"),
        *("categorical_focal_crossentropy", "binary_focal_crossentropy", "kl_divergence", "kld"),
        *("kullback_leibler_divergence", "poisson", "mean_squared_error", "mse"),
        *("mean_absolute_error", "mae", "mean_absolute_percentage_error", "mape"),
        *("mean_squared_logarithmic_error", "msle", "hinge", "squared_hinge", "categorical_hinge"),
        *("huber", "log_cosh", "logcosh", "cosine_similarity"),
    }
)
METRIC_NAMES = frozenset(
    {
        *("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy"),
        *("binary_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"),
        *("crossentropy", "ce", "auc", "precision", "recall"),
        *LOSS_NAMES,
    }
)
FUNCTIONS = ACTIVATIONS | LOSS_NAMES | METRIC_NAMES
NAMED_FUNCTION_KEYS = ("activation", "recurrent_activation", "fn")
# Keras's own records inside a configuration: a tensor passed between layers, a small array.
TENSOR_RECORD = "__keras_tensor__"
ARRAY_RECORDS = frozenset({"__numpy__", "__tensor__"})
# Arguments that wire layers together or give shapes: Keras never turns them into weights.
STRUCTURAL = frozenset(
    {
        *("layers", "inbound_nodes", "input_layers", "output_layers", "build_config", "shape"),
        *("batch_shape", "batch_input_shape", "input_shape", "build_input_shape", "keras_history"),
        *("name", "dtype", "trainable"),
    }
)
ALLOWED_CLASSES = (
    MODELS
    | LAYERS
    | INITIALIZERS
    | REGULARIZERS
    | CONSTRAINTS
    | DTYPE_POLICIES
    | OPTIMIZERS
    | SCHEDULES
    | LOSSES
    | METRICS
)
COMPILE_KEYS = (
    "optimizer",
    "loss",
    "metrics",
    "loss_weights",
    "weighted_metrics",
    "run_eagerly",
    "steps_per_execution",
    "jit_compile",
)
FIT_KEYS = ("batch_size", "epochs", "validation_split", "shuffle")
# Callbacks the grader's trainer rebuilds from their settings and runs, each with the settings it
# takes; and those it accepts but does not run (they write files or talk to a server).
RUN_CALLBACKS: dict[str, tuple[str, ...]] = {
    "EarlyStopping": (
        *("monitor", "min_delta", "patience", "mode", "baseline", "restore_best_weights"),
        "start_from_epoch",
    ),
    "ReduceLROnPlateau": ("monitor", "factor", "patience", "mode", "min_delta", "cooldown", "min_lr"),
    "TerminateOnNaN": (),
}
NOT_RUN_CALLBACKS = frozenset(
    {"ModelCheckpoint", "TensorBoard", "CSVLogger", "BackupAndRestore", "ProgbarLogger", "RemoteMonitor"}
)
CALLBACK_MODES = ("auto", "min", "max")


class Refused(ValueError):
    """The declaration cannot be trained by the grader. ``name`` is the class or function that
    made it so (the submission's child looks for the line that made it), ``where`` the layer and
    argument it sits in, and the message says both."""

    def __init__(self, message: str, *, name: str = "", where: str = "") -> None:
        super().__init__(message)
        self.name = name
        self.where = where


@dataclass(frozen=True)
class Declaration:
    """A model as plain data: architecture, compile settings, fit settings, callbacks."""

    model: dict[str, Any]
    compile: dict[str, Any]
    fit: dict[str, Any]
    callbacks: tuple[dict[str, Any], ...] = ()
    not_run: tuple[str, ...] = field(default=())  # callbacks accepted but not run, by class name

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": self.model,
            "compile": self.compile,
            "fit": self.fit,
            "callbacks": list(self.callbacks),
            "not_run": list(self.not_run),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def vet(data: Any) -> Declaration:
    """The declaration ``data`` (parsed JSON, or its text) as the grader will train it; raises
    ``Refused`` naming the first thing it will not build. Keras's ``compile_config`` inside the
    model is dropped: the compile settings are vetted and applied on their own."""
    if isinstance(data, str | bytes):
        if len(data) > MAX_BYTES:
            raise Refused(
                f"the model's configuration is {len(data):,} bytes; at most {MAX_BYTES:,} are read."
            )
        try:
            data = json.loads(data)
        except ValueError as error:
            raise Refused(f"the model's configuration is not JSON ({error}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Refused("the model's declaration is not one the grader reads.")
    if len(json.dumps(data)) > MAX_BYTES:
        raise Refused(f"the model's configuration is over {MAX_BYTES:,} bytes.")
    unknown = set(data) - {"format", "model", "compile", "fit", "callbacks", "not_run"}
    if unknown:
        raise Refused(f"the declaration holds unknown parts: {', '.join(sorted(map(str, unknown)))}.")
    model = _vet_model(data.get("model"))
    compiled = _vet_compile(data.get("compile"))
    fit = _vet_fit(data.get("fit"))
    callbacks, not_run = _vet_callbacks(data.get("callbacks"), data.get("not_run"))
    return Declaration(model, compiled, fit, callbacks, not_run)


# -- the model ---------------------------------------------------------------------------------
class _Walk:
    """One pass over a model's configuration, counting layers; ``where`` names the innermost layer."""

    def __init__(self) -> None:
        self.layers = 0

    def object(self, value: dict[str, Any], where: str, depth: int, kinds: frozenset[str]) -> dict[str, Any]:
        """A ``{"class_name": ..., "config": ...}`` record: its class, module and arguments."""
        if depth > MAX_DEPTH:
            raise Refused(f"{where}: the configuration is nested more than {MAX_DEPTH} deep.", where=where)
        name = value.get("class_name")
        if not isinstance(name, str):
            raise Refused(f"{where}: a class name is not text.", where=where)
        if name == TENSOR_RECORD:
            return {key: self.value(item, where, key, depth + 1) for key, item in value.items()}
        if name == "function":
            return self.function(value, where)
        if name in ARRAY_RECORDS:
            return {key: self.value(item, where, key, depth + 1) for key, item in value.items()}
        _check_origin(value, name, where)
        if name not in kinds:
            raise Refused(f"{where}: {_what_is_refused(name, kinds)}", name=name, where=where)
        config = value.get("config", {})
        if not isinstance(config, dict):
            raise Refused(f"{where} ({name}): its configuration is not a table.", name=name, where=where)
        inner = where
        if name in LAYERS or name in MODELS:
            self.layers += 1
            if self.layers > MAX_LAYERS:
                raise Refused(f"the model has more than {MAX_LAYERS} layers.")
            label = config.get("name")
            inner = f"layer {label!r} ({name})" if isinstance(label, str) else f"a {name} layer"
        limit = MAX_INITIALIZER_NUMBERS if name in INITIALIZERS else MAX_NUMBERS
        checked: dict[str, Any] = {}
        for key, item in config.items():
            if name in MODELS and key == "compile_config":
                continue  # the compile settings travel, and are vetted, on their own
            if not isinstance(key, str) or len(key) > MAX_TEXT:
                raise Refused(f"{inner}: an argument's name is not short text.", where=inner)
            if key not in STRUCTURAL and (count := _numbers(item)) > limit:
                kind = "an initializer's argument" if name in INITIALIZERS else "one argument"
                raise Refused(
                    f"{inner}: the {name}'s {key!r} holds {count:,} numbers; {kind} may hold at "
                    f"most {limit}: weights cannot travel in a model's configuration, the grader "
                    "initialises every weight itself.",
                    name=name,
                    where=f"{inner}, {key}",
                )
            checked[key] = self.value(item, inner, key, depth + 1)
        found = {
            key: self.value(item, inner, key, depth + 1)
            for key, item in value.items()
            if key not in ("config", "class_name", "module", "registered_name")
            and not (name in MODELS and key == "compile_config")
        }
        return {**found, **_origin_fields(value), "class_name": name, "config": checked}

    def function(self, value: dict[str, Any], where: str) -> dict[str, Any]:
        """Keras 3 (and 2.13+) write a function as ``{"class_name": "function", "config": NAME}``."""
        named = value.get("config")
        module = value.get("module")
        if not isinstance(named, str) or named not in FUNCTIONS:
            shown = named if isinstance(named, str) else "a function"
            raise Refused(
                f"{where}: {shown!r} is not one of Keras's built-in functions (activations, losses, metrics).",
                name=shown,
                where=where,
            )
        if module is not None and not (module == "builtins" or _keras_module(module)):
            raise Refused(
                f"{where}: {named!r} comes from module {module!r}, not Keras.", name=named, where=where
            )
        return {"class_name": "function", "config": named}

    def value(self, item: Any, where: str, key: str, depth: int) -> Any:
        """Any argument's value: plain data, records of Keras classes, or named functions."""
        if depth > MAX_DEPTH:
            raise Refused(f"{where}: the configuration is nested more than {MAX_DEPTH} deep.", where=where)
        if isinstance(item, dict):
            if "class_name" in item:
                return self.object(item, f"{where}, argument {key!r}", depth, _kinds(key))
            if key in NAMED_FUNCTION_KEYS:  # Keras writes a lambda here as {"value": [bytecode, ...]}
                raise Refused(
                    f"{where}, argument {key!r}: a function of your own (a lambda?) is not one of "
                    "Keras's built-in functions.",
                    name="lambda",
                    where=where,
                )
            return {
                _short(name, where): self.value(inner, where, str(name), depth + 1)
                for name, inner in item.items()
            }
        if isinstance(item, list | tuple):
            return [self.value(inner, where, key, depth + 1) for inner in item]
        if isinstance(item, str):
            if key in NAMED_FUNCTION_KEYS and item not in FUNCTIONS:
                raise Refused(
                    f"{where}, argument {key!r}: {item!r} is not one of Keras's built-in functions.",
                    name=item,
                    where=where,
                )
            return _short(item, where)
        if item is None or isinstance(item, bool | int):
            return item
        if isinstance(item, float):
            if math.isnan(item):
                raise Refused(f"{where}, argument {key!r} is not a number (NaN).", where=where)
            return item
        raise Refused(f"{where}, argument {key!r} holds {type(item).__name__}, not plain data.", where=where)


def _vet_model(model: Any) -> dict[str, Any]:
    if not isinstance(model, dict) or "class_name" not in model:
        raise Refused("the declaration holds no model configuration.")
    name = model.get("class_name")
    if name not in MODELS:
        raise Refused(
            f"the model is a {name} (a subclassed model?); the grader rebuilds only "
            "keras.Sequential and functional keras.Model(inputs, outputs) models.",
            name=str(name),
        )
    return _Walk().object(model, "the model", 0, MODELS | LAYERS)


def _kinds(key: str) -> frozenset[str]:
    """The classes an argument may hold, by the argument's name."""
    if key.endswith("initializer") or key.endswith("initializers"):
        return INITIALIZERS
    if key.endswith("regularizer"):
        return REGULARIZERS
    if key.endswith("constraint"):
        return CONSTRAINTS
    if key in ("dtype", "dtype_policy"):
        return DTYPE_POLICIES
    if key in ("layer", "backward_layer", "cell", "cells", "layers"):
        return LAYERS | MODELS
    if key in ("learning_rate",):
        return SCHEDULES
    if key in ("inner_optimizer", "optimizer"):
        return OPTIMIZERS
    return LAYERS | MODELS | INITIALIZERS | REGULARIZERS | CONSTRAINTS | DTYPE_POLICIES


def _check_origin(value: dict[str, Any], name: str, where: str) -> None:
    module, registered = value.get("module"), value.get("registered_name")
    if module is not None and not (isinstance(module, str) and _keras_module(module)):
        raise Refused(
            f"{where}: {name} comes from module {module!r}, not from Keras: the grader builds only "
            "Keras's own classes.",
            name=name,
            where=where,
        )
    if registered is not None and registered != name:
        raise Refused(
            f"{where}: {name} is registered as {registered!r}, a class of your own.", name=name, where=where
        )


def _origin_fields(value: dict[str, Any]) -> dict[str, Any]:
    return {key: value[key] for key in ("module", "registered_name") if key in value}


def _keras_module(module: str) -> bool:
    return module == "keras" or module.startswith("keras.")


def _what_is_refused(name: str, kinds: frozenset[str]) -> str:
    if name == "Lambda":
        return "a Lambda layer runs code of your own, which the grader does not run."
    if name in ("TFOpLambda", "SlicingOpLambda"):
        return (
            f"{name} is a TensorFlow operation applied to a Keras tensor outside a layer "
            "(x / 255.0, tf.one_hot(...)); use a Keras layer instead (Rescaling(1 / 255))."
        )
    if name in ALLOWED_CLASSES:
        return f"{name} is a Keras class, but not one that belongs here."
    return (
        f"{name} is not one of Keras's built-in classes that the grader builds (a layer, "
        "initializer, regularizer or constraint of your own, or an operation applied to a Keras "
        "tensor outside a layer?)."
    )


def _short(text: Any, where: str) -> str:
    if not isinstance(text, str):
        raise Refused(f"{where}: a key is not text.", where=where)
    if len(text) > MAX_TEXT:
        raise Refused(
            f"{where} holds text of {len(text):,} characters (at most {MAX_TEXT}): code or data does "
            "not travel in a model's configuration.",
            where=where,
        )
    return text


def _numbers(value: Any) -> int:
    """How many numbers ``value`` holds, Keras's small arrays included, not counting those inside
    records of other classes (each is counted on its own)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return 0
    if isinstance(value, int | float):
        return 1
    if isinstance(value, list | tuple):
        return sum(_numbers(item) for item in value)
    if isinstance(value, dict):
        if "class_name" in value and value.get("class_name") not in ARRAY_RECORDS:
            return 0
        return sum(_numbers(item) for item in value.values())
    return 0


# -- compile, fit, callbacks -------------------------------------------------------------------
def _vet_compile(table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise Refused("the declaration holds no compile settings.")
    unknown = set(table) - set(COMPILE_KEYS)
    if unknown:
        raise Refused(f"the compile settings hold unknown keys: {', '.join(sorted(map(str, unknown)))}.")
    walk = _Walk()
    optimizer = table.get("optimizer")
    if isinstance(optimizer, str):
        if optimizer.lower() not in OPTIMIZER_NAMES:
            raise Refused(f"the optimizer {optimizer!r} is not one of Keras's.", name=optimizer)
    elif isinstance(optimizer, dict):
        optimizer = walk.object(optimizer, "the optimizer", 0, OPTIMIZERS)
    else:
        raise Refused("the model is compiled without an optimizer.")
    loss = _vet_named(table.get("loss"), "the loss", LOSS_NAMES, LOSSES, walk)
    metrics = table.get("metrics") or []
    if not isinstance(metrics, list) or len(metrics) > MAX_NUMBERS:
        raise Refused(f"the metrics must be a list of at most {MAX_NUMBERS}.")
    metrics = [_vet_named(metric, "a metric", METRIC_NAMES, METRICS, walk) for metric in metrics]
    if table.get("loss_weights") is not None:
        raise Refused("the model is compiled with loss_weights; it must have one output and one loss.")
    if table.get("weighted_metrics"):
        raise Refused("weighted_metrics need sample weights, which the grader does not give.")
    run_eagerly = table.get("run_eagerly")
    jit_compile = table.get("jit_compile")
    if run_eagerly not in (None, True, False):
        raise Refused(f"run_eagerly must be true or false, not {run_eagerly!r}.")
    if jit_compile not in (None, True, False, "auto"):
        raise Refused(f"jit_compile must be true, false or 'auto', not {jit_compile!r}.")
    return {
        "optimizer": optimizer,
        "loss": loss,
        "metrics": metrics,
        "run_eagerly": run_eagerly,
        "jit_compile": jit_compile,
    }


def _vet_named(
    value: Any, what: str, names: frozenset[str], classes: frozenset[str], walk: _Walk
) -> str | dict[str, Any]:
    """A loss or metric: a built-in name, a built-in function, or a built-in class's record."""
    if isinstance(value, str):
        if value not in names:
            raise Refused(f"{what} {value!r} is not one of Keras's built-in ones.", name=value)
        return value
    if isinstance(value, dict) and value.get("class_name") == "function":
        return str(walk.function(value, what)["config"])
    if isinstance(value, dict):
        return walk.object(value, what, 0, classes)
    if value is None:
        raise Refused(f"{what} is missing: the model is compiled without one.")
    raise Refused(f"{what} is {type(value).__name__}; it must be a built-in name or Keras object.")


def fit_problem(settings: dict[str, Any]) -> str:
    """What is wrong with ``batch_size``, ``epochs``, ``validation_split`` and ``shuffle`` in
    ``settings``, in a student's words (empty when nothing is): the builder checks a submission's
    ``fit_kwargs()`` with it, and ``vet`` a declaration."""
    batch, epochs = settings.get("batch_size"), settings.get("epochs")
    split, shuffle = settings.get("validation_split", 0.0), settings.get("shuffle", True)
    if type(batch) is not int or batch < 1:
        return f"batch_size must be a whole number of at least 1, not {batch!r}."
    if type(epochs) is not int or epochs < 1:
        return f"epochs must be a whole number of at least 1, not {epochs!r}."
    if isinstance(split, bool) or not isinstance(split, int | float) or not 0 <= split < 1:
        return f"validation_split must be a fraction from 0 up to 1, not {split!r}."
    if not isinstance(shuffle, bool):
        return f"shuffle must be True or False, not {shuffle!r}."
    return ""


def _vet_fit(table: Any) -> dict[str, Any]:
    if not isinstance(table, dict) or set(table) - set(FIT_KEYS):
        raise Refused(f"the fit settings must hold only {', '.join(FIT_KEYS)}.")
    if problem := fit_problem(table):
        raise Refused(problem)
    return {
        "batch_size": table["batch_size"],
        "epochs": table["epochs"],
        "validation_split": float(table.get("validation_split", 0.0)),
        "shuffle": table.get("shuffle", True),
    }


def _vet_callbacks(callbacks: Any, not_run: Any) -> tuple[tuple[dict[str, Any], ...], tuple[str, ...]]:
    callbacks = callbacks or []
    not_run = not_run or []
    if not isinstance(callbacks, list) or not isinstance(not_run, list):
        raise Refused("the callbacks must be a list.")
    if len(callbacks) + len(not_run) > MAX_CALLBACKS:
        raise Refused(f"at most {MAX_CALLBACKS} callbacks are accepted.")
    kept = []
    for callback in callbacks:
        if not isinstance(callback, dict) or not isinstance(callback.get("config", {}), dict):
            raise Refused("a callback is not a record of its class and settings.")
        name = callback.get("class_name")
        if name not in RUN_CALLBACKS:
            raise Refused(f"the callback {name!r} is not one the grader runs.", name=str(name))
        settings = callback.get("config", {})
        unknown = set(settings) - set(RUN_CALLBACKS[name])
        if unknown:
            raise Refused(f"{name}: unknown settings {', '.join(sorted(map(str, unknown)))}.", name=name)
        for key, value in settings.items():
            if not (value is None or isinstance(value, bool | int | float | str)):
                raise Refused(f"{name}: {key} must be a number or text.", name=name)
            if isinstance(value, str):
                _short(value, name)
            if isinstance(value, float) and math.isnan(value):
                raise Refused(f"{name}: {key} is not a number (NaN).", name=name)
        if settings.get("mode", "auto") not in CALLBACK_MODES:
            raise Refused(f"{name}: mode must be one of {', '.join(CALLBACK_MODES)}.", name=name)
        kept.append({"class_name": name, "config": dict(settings)})
    names = [str(name) for name in not_run]
    refused = [name for name in names if name not in NOT_RUN_CALLBACKS]
    if refused:
        raise Refused(f"the callback {refused[0]!r} is not one the grader accepts.", name=refused[0])
    return tuple(kept), tuple(names)


def described(names: Iterable[str]) -> str:
    """``a, b and c``."""
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
