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

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from grader import wire

FORMAT = 1
REFUSAL = "the grader cannot train this model"  # how every refusal's message starts
MAX_BYTES = 512 << 10
MAX_DEPTH = 40
MAX_LAYERS = 512
MAX_NUMBERS = 16  # in one argument of a layer: kernel sizes, strides, paddings, a channel's statistics
MAX_INITIALIZER_NUMBERS = 1  # an initializer's arguments are scalars: a seed, a mean, a constant
MAX_TEXT = 256
MAX_CALLBACKS = 16
# Every number in a declaration outside its shapes and wiring, wherever it sits (layers' and
# optimizers' arguments, schedules, callbacks' settings, fit settings), counts against one budget
# for the whole declaration, and so does every tensor a layer is called on past its first (a merge's
# fan-in). The whole numbers that only set a layer's shape (``SHAPE_ARGUMENTS``: filters, kernel
# sizes, strides, croppings) are shapes too, and never become a value the model computes with. The
# five references hold 4 to 14 counted numbers; a number carries at most one weight into a model,
# and the best classifiers of 128 weights measured, fitted on the test images themselves, score
# 45% to 71% (tests/test_budget.py), where every reference scores 97% and more after training.
NUMBER_BUDGET = 128
MAX_MAGNITUDE = 2**53  # any one whole number (a seed, a step count); a float need only be finite
MAX_DIMENSION = 1 << 24  # one dimension of a shape
MAX_FIT_COUNT = 1 << 20  # a batch size, a number of epochs

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
# Shapes and wiring: whole numbers Keras checks against the graph it rebuilds and never turns
# into weights, so they are checked for their form and not counted.
SHAPES = frozenset(
    {"batch_shape", "batch_input_shape", "input_shape", "build_input_shape", "shape", "build_config"}
)
WIRING = frozenset({"input_layers", "output_layers"})
SHAPE_ARGUMENTS = frozenset(
    {
        *("filters", "units", "kernel_size", "strides", "dilation_rate", "pool_size", "groups"),
        *("axis", "cropping", "padding", "size", "target_shape", "dims", "n", "depth_multiplier"),
        *("output_padding", "height", "width", "output_shape", "num_heads"),
    }
)  # their whole numbers: a layer's shape, checked like one and not counted
# Arguments that hold other records or text rather than a layer's own numbers.
STRUCTURAL = SHAPES | WIRING | {"layers", "inbound_nodes", "keras_history", "name", "dtype", "trainable"}
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
TORCH_OPTIMIZERS = ("Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "Lion", "Nadam", "RMSprop", "SGD")
TORCH_OPTIMIZER_MODULE = "keras.src.backend.torch.optimizers."
# The module Keras writes for each kind of class, on every version (2.12 writes none): a record
# naming another module for a class of that name is not that class.
MODULES: tuple[tuple[frozenset[str], frozenset[str]], ...] = (
    (LAYERS, frozenset({"keras.layers"})),
    (
        MODELS,
        frozenset({"keras", "keras.models", "keras.src.models.functional", "keras.src.models.sequential"}),
    ),
    (INITIALIZERS, frozenset({"keras.initializers"})),
    (REGULARIZERS, frozenset({"keras.regularizers"})),
    (CONSTRAINTS, frozenset({"keras.constraints"})),
    (DTYPE_POLICIES, frozenset({"keras", "keras.mixed_precision", "keras.dtype_policies"})),
    (
        OPTIMIZERS,
        frozenset({"keras.optimizers", "keras.optimizers.experimental", "keras.optimizers.legacy"}),
    ),
    # On PyTorch, Keras hands back its own torch subclass of each of these (``keras.optimizers.Adam()``
    # is ``keras.src.backend.torch.optimizers.torch_adam.Adam``), written under that module.
    *(
        (frozenset({name}), frozenset({f"{TORCH_OPTIMIZER_MODULE}torch_{name.lower()}"}))
        for name in TORCH_OPTIMIZERS
    ),
    (SCHEDULES, frozenset({"keras.optimizers.schedules"})),
    (LOSSES, frozenset({"keras.losses"})),
    (METRICS, frozenset({"keras.metrics"})),
)
FUNCTION_MODULES = frozenset({None, "builtins", "keras.activations", "keras.losses", "keras.metrics"})
# Where Keras 3 keeps the operations it records when one is applied to a Keras tensor outside a
# layer (``keras.ops.dot(x, W)`` is ``{"module": "keras.src.ops.numpy", "class_name": "Dot"}``).
OPERATION_MODULES = ("keras.src.ops", "keras.ops", "keras.src.backend", "tensorflow", "tf.")
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
    reseeded: int = 0  # seeds the declaration gave (initializers', layers'), dropped by the vetting
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # as it was given

    def seed(self, seed: int) -> int:
        """The seed the grader rebuilds and trains this declaration with: the assignment's ``seed``
        mixed with a digest of the whole declaration, its names replaced by their order. Any change
        to it, a shape or an offset as much as a layer, draws every weight afresh, so no choice in
        it can pick which of the grader's random weights one layer gets; names choose nothing, and
        the same declaration always gets the same. Dtypes are left out: the assignment's precision
        sets them, and a float32 and a bfloat16 run of one model start from the same weights."""
        text = json.dumps(_renamed(self.to_dict()), sort_keys=True)
        digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
        return int.from_bytes(digest[:4], "big") % (2**31 - 1)

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


UNSEEDED = frozenset({"dtype", "dtype_policy"})  # precision: the assignment's, not the model's


def _renamed(data: dict[str, Any]) -> Any:
    """``data`` with every name (each value under a ``name`` key, wherever it is used) replaced by
    the order it first appears in, and without its dtypes: the same model, whatever its layers were
    called and whatever precision it runs at."""
    names: dict[str, str] = {}

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value.keys() - UNSEEDED):
                if key == "name" and isinstance(value[key], str):
                    names.setdefault(value[key], f"#{len(names)}")
                collect(value[key])
        elif isinstance(value, list):
            for item in value:
                collect(item)

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: rename(item) for key, item in value.items() if key not in UNSEEDED}
        if isinstance(value, list):
            return [rename(item) for item in value]
        return names.get(value, value) if isinstance(value, str) else value

    collect(data)
    return rename(data)


def vet(data: Any) -> Declaration:
    """The declaration ``data`` (parsed JSON, or its text) as the grader will train it; raises
    ``Refused`` naming the first thing it will not build. Keras's ``compile_config`` inside the
    model is dropped: the compile settings are vetted and applied on their own."""
    try:
        if isinstance(data, str | bytes):
            data = wire.loads(data, max_bytes=MAX_BYTES, what="model's declaration")
        else:
            wire.bounded(data, "model's declaration")
    except wire.Malformed as malformed:
        raise Refused(f"{malformed}.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Refused("the model's declaration is not one the grader reads.")
    if len(json.dumps(data)) > MAX_BYTES:
        raise Refused(f"the model's configuration is over {MAX_BYTES:,} bytes.")
    unknown = set(data) - {"format", "model", "compile", "fit", "callbacks", "not_run"}
    if unknown:
        raise Refused(f"the declaration holds unknown parts: {', '.join(sorted(map(str, unknown)))}.")
    walk = _Walk()
    model = _vet_model(data.get("model"), walk)
    compiled = _vet_compile(data.get("compile"), walk)
    fit = _vet_fit(data.get("fit"), walk)
    callbacks, not_run = _vet_callbacks(data.get("callbacks"), data.get("not_run"), walk)
    _budget(walk)
    return Declaration(model, compiled, fit, callbacks, not_run, reseeded=walk.reseeded, source=data)


# -- the model ---------------------------------------------------------------------------------
class _Walk:
    """One pass over a declaration: it counts layers and every number outside shapes and wiring
    (``numbers``, with where they sit, for the budget), and checks each value as it goes; ``where``
    names the innermost layer."""

    def __init__(self) -> None:
        self.layers = 0
        self.numbers = 0
        self.places: Counter[tuple[str, str]] = Counter()  # (where, class) -> numbers there
        self.references = 0  # tensors the layers are called on
        self.reseeded = 0  # seeds given and dropped

    def count(self, where: str, name: str, numbers: int = 1) -> None:
        self.numbers += numbers
        self.places[(where, name)] += numbers

    def object(
        self, value: dict[str, Any], where: str, depth: int, kinds: frozenset[str], owner: str = ""
    ) -> dict[str, Any]:
        """A ``{"class_name": ..., "config": ...}`` record: its class, module and arguments."""
        if depth > MAX_DEPTH:
            raise Refused(f"{where}: the configuration is nested more than {MAX_DEPTH} deep.", where=where)
        name = value.get("class_name")
        if not isinstance(name, str):
            raise Refused(f"{where}: a class name is not text.", where=where)
        if name == "function":
            return self.function(value, where)
        if name == TENSOR_RECORD or name in ARRAY_RECORDS:
            if name == TENSOR_RECORD:
                raise Refused(f"{where}: a tensor is not an argument a layer is made with.", where=where)
            return {key: self.value(item, where, key, depth + 1, owner) for key, item in value.items()}
        _check_origin(value, name, where, kinds)
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
            if key in SHAPES:
                checked[key] = self.shape(item, inner, depth + 1)
                continue
            if key in WIRING:
                checked[key] = self.wiring(item, inner, depth + 1)
                continue
            if key in SHAPE_ARGUMENTS and _whole(item):
                checked[key] = item
                continue
            if key == "seed" and (name in INITIALIZERS or name in LAYERS):
                # A seed picks a whole stream of random weights, searched offline for the one that
                # fits: dropped, so that every weight comes from the grader's seed (Declaration.seed).
                self.reseeded += item is not None
                checked[key] = None
                continue
            checked[key] = self.value(item, inner, key, depth + 1, name)
            if key not in STRUCTURAL and (count := _numbers(item)) > limit:
                kind = "an initializer's argument" if name in INITIALIZERS else "one argument"
                raise Refused(
                    f"{inner}: the {name}'s {key!r} holds {count:,} numbers; {kind} may hold at "
                    f"most {limit}: weights cannot travel in a model's configuration, the grader "
                    "initialises every weight itself.",
                    name=name,
                    where=f"{inner}, {key}",
                )
        _trains(name, checked, inner)
        found: dict[str, Any] = {}
        for key, item in value.items():
            if key in ("config", "class_name", "module", "registered_name"):
                continue
            if name in MODELS and key == "compile_config":
                continue
            if key == "inbound_nodes":
                before = self.references
                found[key] = self.nodes(item, inner, name, depth + 1)
                if (fan_in := self.references - before) > 1:  # every input past the first
                    self.count(f"{inner}, its inputs", name, fan_in - 1)
            elif key in SHAPES:
                found[key] = self.shape(item, inner, depth + 1)
            else:
                found[key] = self.value(item, inner, str(key), depth + 1, name)
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
        if not (module is None or isinstance(module, str)) or module not in FUNCTION_MODULES:
            raise Refused(
                f"{where}: {named!r} comes from module {module!r}, not Keras.", name=named, where=where
            )
        return {"class_name": "function", "config": named}

    def value(self, item: Any, where: str, key: str, depth: int, owner: str = "") -> Any:
        """Any argument's value: plain data, records of Keras classes, or named functions; every
        number in it is counted against the budget (``owner`` is the class it belongs to)."""
        if depth > MAX_DEPTH:
            raise Refused(f"{where}: the configuration is nested more than {MAX_DEPTH} deep.", where=where)
        if isinstance(item, dict):
            if "class_name" in item:
                inside = where if key == "layers" else f"{where}, argument {key!r}"  # a model's own layers
                return self.object(item, inside, depth, _kinds(key), owner)
            if key in NAMED_FUNCTION_KEYS:  # Keras writes a lambda here as {"value": [bytecode, ...]}
                raise Refused(
                    f"{where}, argument {key!r}: a function of your own (a lambda?) is not one of "
                    "Keras's built-in functions.",
                    name="lambda",
                    where=where,
                )
            return {
                _short(name, where): self.value(inner, where, str(name), depth + 1, owner)
                for name, inner in item.items()
            }
        if isinstance(item, list | tuple):
            return [self.value(inner, where, key, depth + 1, owner) for inner in item]
        if isinstance(item, str):
            if key in NAMED_FUNCTION_KEYS and item not in FUNCTIONS:
                raise Refused(
                    f"{where}, argument {key!r}: {item!r} is not one of Keras's built-in functions.",
                    name=item,
                    where=where,
                )
            return _short(item, where)
        if item is None or isinstance(item, bool):
            return item
        if isinstance(item, int | float):
            _finite(item, f"{where}, argument {key!r}")
            self.count(f"{where}, argument {key!r}", owner)
            return item
        raise Refused(f"{where}, argument {key!r} holds {type(item).__name__}, not plain data.", where=where)

    def shape(self, item: Any, where: str, depth: int) -> Any:
        """A shape (``batch_shape``, ``build_config``): whole numbers and None only, not counted:
        Keras checks each against the graph it rebuilds, and none becomes a weight."""
        if depth > MAX_DEPTH:
            raise Refused(f"{where}: the configuration is nested more than {MAX_DEPTH} deep.", where=where)
        if item is None:
            return None
        if isinstance(item, dict):
            return {_short(key, where): self.shape(inner, where, depth + 1) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [self.shape(inner, where, depth + 1) for inner in item]
        if type(item) is int and 0 <= item <= MAX_DIMENSION:
            return item
        raise Refused(
            f"{where}: a shape holds {_shown(item)}; a shape holds whole numbers up to {MAX_DIMENSION:,}.",
            where=where,
        )

    def wiring(self, item: Any, where: str, depth: int) -> Any:
        """What connects layers: names and small indices (``input_layers``, ``keras_history``),
        not counted, since none becomes a weight."""
        if depth > MAX_DEPTH:
            raise Refused(f"{where}: the configuration is nested more than {MAX_DEPTH} deep.", where=where)
        if isinstance(item, list | tuple):
            return [self.wiring(inner, where, depth + 1) for inner in item]
        if isinstance(item, str):
            return _short(item, where)
        if type(item) is int and 0 <= item <= MAX_LAYERS:
            return item
        raise Refused(
            f"{where}: the model's wiring holds {_shown(item)}, not a layer's name or index.", where=where
        )

    def nodes(self, item: Any, where: str, name: str, depth: int) -> Any:
        """A layer's ``inbound_nodes``: the tensors it is called on, and nothing else. A number or
        an array there is a constant in the graph (``ops.add(x, W)``, ``Add()([x, W])``): it
        computes with numbers no layer holds as weights, so it is refused, whatever its size."""
        if depth > MAX_DEPTH:
            raise Refused(f"{where}: the configuration is nested more than {MAX_DEPTH} deep.", where=where)
        if isinstance(item, dict):
            kind = item.get("class_name")
            if kind == TENSOR_RECORD:
                self.references += 1
                config = item.get("config")
                if not isinstance(config, dict):
                    raise Refused(f"{where}: a tensor's record is not a table.", where=where)
                return {
                    **{key: _short(text, where) for key, text in item.items() if key not in ("config",)},
                    "config": {
                        _short(key, where): self.shape(inner, where, depth + 1)
                        if key == "shape"
                        else self.wiring(inner, where, depth + 1)
                        if key == "keras_history"
                        else _short(inner, where)
                        for key, inner in config.items()
                    },
                }
            if kind is not None:
                raise Refused(
                    f"{where}: it is called on a constant ({_shown(kind)}) as well as on the model's "
                    "tensors. " + CONSTANTS_ADVICE,
                    name=name,
                    where=where,
                )
            return {
                _short(key, where): self.nodes(inner, where, name, depth + 1) for key, inner in item.items()
            }
        if isinstance(item, list | tuple):
            if _keras_2_node(item):  # [layer name, node index, tensor index, call arguments]
                self.references += 1
                return [
                    *self.wiring(list(item[:3]), where, depth + 1),
                    *(self.nodes(item[3:], where, name, depth + 1)),
                ]
            return [self.nodes(inner, where, name, depth + 1) for inner in item]
        if item is None or isinstance(item, bool):
            return item
        if isinstance(item, str):
            return _short(item, where)
        raise Refused(
            f"{where}: it is called with the number {_shown(item)} as well as the model's tensors. "
            + CONSTANTS_ADVICE,
            name=name,
            where=where,
        )


CONSTANTS_ADVICE = (
    "Every number a model computes with must be a weight of one of its layers, which the grader "
    "initialises itself: use a Keras layer (Rescaling, Dense, ...) in place of the constant."
)


def _whole(item: Any, depth: int = 0) -> bool:
    """Whole numbers (or None) only, as a shape argument holds them: ``3``, ``[3, 3]``, ``[[1, 1], [2, 2]]``."""
    if item is None or (type(item) is int and abs(item) <= MAX_DIMENSION):
        return True
    return isinstance(item, list | tuple) and depth < 3 and all(_whole(inner, depth + 1) for inner in item)


def _keras_2_node(item: list[Any] | tuple[Any, ...]) -> bool:
    return (
        len(item) in (3, 4)
        and isinstance(item[0], str)
        and all(type(index) is int for index in item[1:3])
        and (len(item) == 3 or isinstance(item[3], dict))
    )


def _trains(name: str, config: dict[str, Any], where: str) -> None:
    """Refuse an optimizer or schedule whose learning rate makes training change nothing."""
    if name in OPTIMIZERS:
        keys = {"learning_rate"}
    elif name in SCHEDULES:
        keys = {"initial_learning_rate", "values"}
    else:
        return
    for key in sorted(keys & set(config)):
        rates = config[key] if isinstance(config[key], list) else [config[key]]
        for rate in rates:
            if isinstance(rate, int | float) and not isinstance(rate, bool) and rate <= 0:
                raise Refused(
                    f"{where}: the {name}'s {key} is {rate:g}; training at a learning rate of 0 or "
                    "below changes nothing, and the grader trains every model it grades.",
                    name=name,
                    where=where,
                )


def _finite(number: float, where: str) -> None:
    if isinstance(number, float) and math.isnan(number):
        raise Refused(f"{where} is not a number (NaN).", where=where)
    if abs(number) > MAX_MAGNITUDE if isinstance(number, int) else not math.isfinite(number):
        raise Refused(
            f"{where} is {_shown(number)}: numbers in a declaration are at most {MAX_MAGNITUDE:.0e}.",
            where=where,
        )


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:40] + "…"


def _vet_model(model: Any, walk: _Walk) -> dict[str, Any]:
    if not isinstance(model, dict) or "class_name" not in model:
        raise Refused("the declaration holds no model configuration.")
    name = model.get("class_name")
    if not isinstance(name, str) or name not in MODELS:
        raise Refused(
            f"the model is a {name} (a subclassed model?); the grader rebuilds only "
            "keras.Sequential and functional keras.Model(inputs, outputs) models.",
            name=str(name),
        )
    return walk.object(model, "the model", 0, MODELS | LAYERS)


def _budget(walk: _Walk) -> None:
    """Refuse a declaration holding more numbers than ``NUMBER_BUDGET``, naming where most are."""
    if walk.numbers <= NUMBER_BUDGET:
        return
    (where, name), most = walk.places.most_common(1)[0]
    raise Refused(
        f"the declaration holds {walk.numbers:,} numbers outside its shapes and wiring (layer and "
        f"optimizer arguments, callbacks' settings, a merge's inputs past its first); at most "
        f"{NUMBER_BUDGET:,} are accepted, because "
        "a model's numbers are its architecture and a handful of settings, never its weights, which "
        f"the grader initialises itself. The most, {most:,}, are in {where}.",
        name=name,
        where=where,
    )


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


def _check_origin(value: dict[str, Any], name: str, where: str, kinds: frozenset[str]) -> None:
    """The record's module must be the one Keras writes for a class of that name in the role the
    argument holds (an operation ``Dot`` from ``keras.src.ops.numpy`` is not the layer ``Dot``)."""
    module, registered = value.get("module"), value.get("registered_name")
    allowed = {found for group, modules in MODULES for found in modules if name in group and name in kinds}
    if (
        isinstance(module, str)
        and module.startswith(OPERATION_MODULES)
        and module not in allowed
        and not module.startswith(TORCH_OPTIMIZER_MODULE)
    ):
        operation = _snake(name)
        config = value.get("config")
        label = config.get("name") if isinstance(config, dict) else None
        called = f" {label!r}" if isinstance(label, str) and len(label) <= MAX_TEXT else ""
        raise Refused(
            f"{where}: its node{called} ({name} from {module}) is an operation applied to a Keras "
            "tensor outside a layer "
            f"(keras.ops.{operation}(...) or a TensorFlow function called on a layer's output). "
            "Such an operation is not one of the model's layers: the grader neither counts nor "
            "checks it, and its arguments are constants no layer holds. Write it with Keras layers "
            "(layers.Dense, layers.Add, layers.Activation, layers.Reshape, ...).",
            name=operation,
            where=where,
        )
    if module is not None and (not isinstance(module, str) or (allowed and module not in allowed)):
        expected = " or ".join(sorted(repr(found) for found in allowed if found))
        raise Refused(
            f"{where}: {name} comes from module {module!r}, not from Keras"
            + (f" ({expected})" if expected else "")
            + ": the grader builds only Keras's own classes.",
            name=name,
            where=where,
        )
    if module is not None and not allowed and not _keras_module(module):
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


def _snake(name: str) -> str:
    """``ExpandDims`` as Keras's function for it is called: ``expand_dims``."""
    return "".join(
        f"_{char.lower()}" if char.isupper() and index else char.lower() for index, char in enumerate(name)
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
    records of other classes (each is counted on its own). Called only on values the walk has
    already checked, so its depth is bounded."""
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
def _vet_compile(table: Any, walk: _Walk) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise Refused("the declaration holds no compile settings.")
    unknown = set(table) - set(COMPILE_KEYS)
    if unknown:
        raise Refused(f"the compile settings hold unknown keys: {', '.join(sorted(map(str, unknown)))}.")
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
    if type(batch) is not int or not 1 <= batch <= MAX_FIT_COUNT:
        return f"batch_size must be a whole number from 1 to {MAX_FIT_COUNT:,}, not {_shown(batch)}."
    if type(epochs) is not int or not 1 <= epochs <= MAX_FIT_COUNT:
        return f"epochs must be a whole number from 1 to {MAX_FIT_COUNT:,}, not {_shown(epochs)}."
    if isinstance(split, bool) or not isinstance(split, int | float) or not 0 <= split < 1:
        return f"validation_split must be a fraction from 0 up to 1, not {split!r}."
    if not isinstance(shuffle, bool):
        return f"shuffle must be True or False, not {shuffle!r}."
    return ""


def _vet_fit(table: Any, walk: _Walk) -> dict[str, Any]:
    if not isinstance(table, dict) or set(table) - set(FIT_KEYS):
        raise Refused(f"the fit settings must hold only {', '.join(FIT_KEYS)}.")
    if problem := fit_problem(table):
        raise Refused(problem)
    walk.count("the fit settings", "fit", 3)
    return {
        "batch_size": table["batch_size"],
        "epochs": table["epochs"],
        "validation_split": float(table.get("validation_split", 0.0)),
        "shuffle": table.get("shuffle", True),
    }


def _vet_callbacks(
    callbacks: Any, not_run: Any, walk: _Walk
) -> tuple[tuple[dict[str, Any], ...], tuple[str, ...]]:
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
        if not isinstance(name, str) or name not in RUN_CALLBACKS:
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
            elif isinstance(value, int | float) and not isinstance(value, bool):
                _finite(value, f"{name}: {key}")
                walk.count(f"the callback {name}", name)
        if name == "ReduceLROnPlateau" and not _positive(settings.get("factor", 0.1)):
            raise Refused(
                f"{name}: factor must be above 0 (a factor of 0 or below would stop training).", name=name
            )
        if settings.get("mode", "auto") not in CALLBACK_MODES:
            raise Refused(f"{name}: mode must be one of {', '.join(CALLBACK_MODES)}.", name=name)
        kept.append({"class_name": name, "config": dict(settings)})
    names = [str(name) for name in not_run]
    refused = [name for name in names if name not in NOT_RUN_CALLBACKS]
    if refused:
        raise Refused(f"the callback {refused[0]!r} is not one the grader accepts.", name=refused[0])
    return tuple(kept), tuple(names)


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def described(names: Iterable[str]) -> str:
    """``a, b and c``."""
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
