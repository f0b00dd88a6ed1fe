"""Declarations: real Keras models written down as plain data, vetted before anything deserialises
them, and rebuilt by the grader's trainer with weights of its own.

Everything here runs the real Keras of the session (2.12 to 2.15's Keras 2, or Keras 3 on any
backend) in-process; only the trainer's rebuild is exercised, not its child (test_grade.py,
test_hostile.py and test_tutorials.py grade through the children).
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from grader.declaration import (
    MAX_LAYERS,
    MAX_NUMBERS,
    MAX_TEXT,
    NUMBER_BUDGET,
    REFUSAL,
    Refused,
    _vet_model,
    _Walk,
    vet,
)
from grader.model_facts import describe_model
from grader.pipeline import same_model
from grader.runner.declare import declare
from grader.runner.program import made_at, read_program
from grader.runner.protocol import SubmissionError
from grader.runner.roles.trainer import callbacks, check_graph, rebuild
from grader.runner.training import set_precision
from reference import REFERENCES, load
from tests.conftest import SUBMISSIONS

FIT = {"batch_size": 32, "epochs": 2, "validation_split": 0.1, "shuffle": True, "callbacks": []}


def small(
    *between: layers.Layer, activation: object = "softmax", compile_with: dict | None = None
) -> keras.Model:
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), *between, layers.Flatten(), layers.Dense(10, activation=activation)]
    )
    model.compile(**(compile_with or {"optimizer": "adam", "loss": "categorical_crossentropy"}))
    return model


def declared(model: keras.Model, fit: dict | None = None, model_file: Path | None = None) -> dict:
    parts = read_program(model_file) if model_file is not None else []
    return declare(model, {**FIT, **(fit or {})}, parts=parts).to_dict()


def weights(model: keras.Model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_every_reference_declares_and_rebuilds_to_the_same_layers(name):
    module = load(name)
    model = module.build_model()
    declaration = vet(declared(model))
    rebuilt = rebuild(declaration, seed=42, precision="float32")
    assert same_model(describe_model(rebuilt), describe_model(module.build_model()))
    assert type(rebuilt.optimizer).__name__ == type(model.optimizer).__name__
    assert float(np.asarray(rebuilt.optimizer.learning_rate)) == pytest.approx(
        float(np.asarray(model.optimizer.learning_rate))
    )


def test_the_same_declaration_rebuilds_to_the_same_weights_and_never_to_the_shipped_ones():
    """Weights set on the built model (as if fitted offline) do not travel: the rebuild draws its
    own from the layers' initializers under the seed, the same ones every time."""
    model = load("one_conv_dense32").build_model()
    offline = [np.full_like(w, 0.5) for w in weights(model)]
    model.set_weights(offline)
    declaration = vet(declared(model))
    first = weights(rebuild(declaration, seed=7, precision="float32"))
    again = weights(rebuild(declaration, seed=7, precision="float32"))
    other = weights(rebuild(declaration, seed=8, precision="float32"))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    kernels = [w for w in first if w.ndim > 1]
    assert kernels and not any(np.array_equal(w, 0.5 * np.ones_like(w)) for w in kernels)


def test_a_constant_initializer_cannot_carry_weights():
    """Measured on Keras 3.15: Dense(3, kernel_initializer=Constant(W)) comes back from to_json()
    and model_from_json() with exactly W as its kernel. Here the grader refuses it, naming the
    layer and the argument."""
    carried = np.random.default_rng(0).normal(size=(784, 10)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Flatten(),
            layers.Dense(10, kernel_initializer=keras.initializers.Constant(carried), name="smuggler"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(SubmissionError) as refused:
        declared(model)
    message = str(refused.value)
    assert (
        message.startswith(REFUSAL)
        and "layer 'smuggler' (Dense), argument 'kernel_initializer': the Constant's 'value'" in message
    )
    assert "7,840 numbers" in message and 'trainer = "submission"' in message


def test_a_scalar_constant_is_an_initializer_like_any_other():
    model = small(layers.Conv2D(4, 3, bias_initializer=keras.initializers.Constant(0.1)))
    rebuilt = rebuild(vet(declared(model)), seed=1, precision="float32")
    assert np.allclose(np.asarray(rebuilt.layers[0].get_weights()[1]), 0.1)


def test_a_lambda_layer_is_refused_with_its_line(tmp_path):
    source = tmp_path / "model.py"
    source.write_text(
        "import keras\n\n\ndef build_model():\n    twice = keras.layers.Lambda(lambda x: x * 2)\n"
    )
    model = small(layers.Lambda(lambda x: x * 2))
    with pytest.raises(SubmissionError) as refused:
        declared(model, model_file=source)
    message = str(refused.value)
    assert "Lambda" in message and "runs code of your own" in message
    assert "See model.py, line 5: twice = keras.layers.Lambda(lambda x: x * 2)." in message


def test_an_activation_of_ones_own_is_refused(tmp_path):
    def my_relu(x):
        return keras.activations.relu(x)

    source = tmp_path / "model.py"
    source.write_text("def my_relu(x):\n    return x\n")
    with pytest.raises(SubmissionError) as refused:
        declared(small(activation=my_relu), model_file=source)
    assert "my_relu" in str(refused.value) and "See model.py, line 1: def my_relu(x)." in str(refused.value)


def test_a_layer_of_ones_own_is_refused():
    class Doubling(layers.Layer):
        def call(self, x):
            return x * 2

    with pytest.raises(SubmissionError, match="Doubling"):
        declared(small(Doubling()))


def test_a_loss_of_ones_own_is_refused():
    def my_loss(y_true, y_pred):
        return keras.losses.categorical_crossentropy(y_true, y_pred)

    with pytest.raises(SubmissionError, match="my_loss"):
        declared(small(compile_with={"optimizer": "adam", "loss": my_loss}))


def test_a_subclassed_model_is_refused_in_words():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.flat, self.out = layers.Flatten(), layers.Dense(10)

        def call(self, x):
            return self.out(self.flat(x))

    net = Net()
    net(np.zeros((1, 28, 28, 1), "float32"))
    net.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(SubmissionError) as refused:
        declared(net)
    assert "Net" in str(refused.value) and "Sequential" in str(refused.value)


def test_callbacks_are_rebuilt_from_their_settings_or_listed_as_not_run(tmp_path):
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=3, min_delta=0.01, restore_best_weights=True
    )
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1, mode="max")
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"))
    logger = keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))
    declaration = vet(declared(small(), {"callbacks": [stop, plateau, checkpoint, logger]}))
    assert declaration.not_run == ("ModelCheckpoint", "CSVLogger")
    built = callbacks(declaration)
    assert [type(c).__name__ for c in built] == ["EarlyStopping", "ReduceLROnPlateau"]
    assert (built[0].monitor, built[0].patience, abs(built[0].min_delta)) == ("val_loss", 3, 0.01)
    assert built[0].restore_best_weights and (built[1].factor, built[1].patience) == (0.5, 1)


def test_a_callback_of_ones_own_is_refused_with_its_line(tmp_path):
    class Swap(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            pass

    source = tmp_path / "model.py"
    source.write_text("import keras\n\n\ndef fit_kwargs():\n    return {'callbacks': [Swap()]}\n")
    with pytest.raises(SubmissionError) as refused:
        declared(small(), {"callbacks": [Swap()]}, model_file=source)
    assert "the callback Swap is a callback of your own" in str(refused.value)
    assert "See model.py, line 5: return {'callbacks': [Swap()]}." in str(refused.value)
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, rate: rate)
    with pytest.raises(SubmissionError, match="LearningRateScheduler runs a function of your own"):
        declared(small(), {"callbacks": [schedule]})


# -- forged declarations: what a hostile builder could hand over instead of the truth -------------
@pytest.fixture(scope="module")
def honest() -> dict:
    return declared(load("conv_32_64_64").build_model())


def first_layer(data: dict, index: int = 1) -> dict:
    return data["model"]["config"]["layers"][index]


def forged(honest: dict, change) -> dict:
    data = copy.deepcopy(honest)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (lambda d: first_layer(d).update(class_name="Lambda"), "a Lambda layer runs code of your own"),
        (lambda d: first_layer(d).update(module="os"), "comes from module 'os', not from Keras"),
        (lambda d: first_layer(d).update(registered_name="Custom>Conv2D"), "a class of your own"),
        (
            lambda d: first_layer(d)["config"].update(activation="<lambda>"),
            "'<lambda>' is not one of Keras's",
        ),
        (
            lambda d: first_layer(d)["config"].update(activation={"value": ["4wEAAAAA", None, None]}),
            "a lambda?",
        ),
        (lambda d: first_layer(d)["config"].update(weights=[[0.5] * 320]), "holds 320 numbers"),
        (lambda d: first_layer(d)["config"].update(name="x" * (MAX_TEXT + 1)), f"at most {MAX_TEXT}"),
        (lambda d: first_layer(d)["config"].update(filters=float("nan")), "NaN"),
        (lambda d: d["model"].update(class_name="MyModel"), "a subclassed model?"),
        (lambda d: d["compile"].update(loss="my_loss"), "'my_loss' is not one of Keras's built-in ones"),
        (lambda d: d["compile"].update(optimizer={"class_name": "MyAdam", "config": {}}), "MyAdam"),
        (lambda d: d["compile"].update(loss_weights=[1.0]), "loss_weights"),
        (lambda d: d["fit"].update(x=[1, 2]), "the fit settings must hold only"),
        (lambda d: d["fit"].update(epochs=True), "epochs must be a whole number"),
        (lambda d: d.update(callbacks=[{"class_name": "LambdaCallback", "config": {}}]), "'LambdaCallback'"),
        (lambda d: d.update(not_run=["Swap"]), "'Swap' is not one the grader accepts"),
        (
            lambda d: d.update(callbacks=[{"class_name": "EarlyStopping", "config": {"on_epoch_end": "x"}}]),
            "unknown settings",
        ),
        (lambda d: d.update(extra={}), "unknown parts"),
    ],
)
def test_a_forged_declaration_is_refused_before_anything_deserialises_it(honest, change, refusal):
    with pytest.raises(Refused) as refused:
        vet(forged(honest, change))
    assert refusal in str(refused.value)


def test_weights_in_a_keras_array_record_are_counted():
    kernel = {"class_name": "__numpy__", "config": {"value": [[0.1] * 20], "dtype": "float32"}}
    data = forged(
        declared(load("conv_32_64_64").build_model()),
        lambda d: first_layer(d)["config"].update(
            kernel_initializer={"class_name": "Constant", "config": {"value": kernel}}
        ),
    )
    with pytest.raises(Refused, match="holds 20 numbers; an initializer's argument may hold at most 1"):
        vet(data)


def test_layers_past_the_limit_are_refused():
    data = declared(load("conv_32_64_64").build_model())
    dropout = next(layer for layer in data["model"]["config"]["layers"] if layer["class_name"] == "Dropout")
    data["model"]["config"]["layers"] += [copy.deepcopy(dropout) for _ in range(MAX_LAYERS)]
    with pytest.raises(Refused, match=f"more than {MAX_LAYERS} layers"):
        vet(data)


def test_the_declaration_of_the_tutorial_listing_keeps_its_keyword_arguments_small():
    """Every argument of every reference and of alice holds at most a handful of numbers."""
    assert MAX_NUMBERS == 16
    for name in REFERENCES:
        vet(json.loads(json.dumps(declared(load(name).build_model()))))


def test_made_at_names_the_first_call_else_the_definition(tmp_path):
    source = tmp_path / "model.py"
    source.write_text("class Mine:\n    pass\n\n\nx = [Mine(), Mine()]\nf = lambda: 1\n")
    parts = read_program(source)
    assert made_at(parts, "Mine") == "model.py, line 5: x = [Mine(), Mine()]"
    assert made_at(parts, "<lambda>") == "model.py, line 6: f = lambda: 1"
    assert made_at(parts, "Other") == "" and made_at([], "Mine") == ""


def test_alice_declares_what_she_built():
    spec = importlib.util.spec_from_file_location("alice_model", SUBMISSIONS / "alice" / "model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)  # never registered: no submission stays imported here
    spec.loader.exec_module(module)
    model = module.build_model()
    declaration = vet(declared(model, {"batch_size": 128, "epochs": 5, "validation_split": 0.1}))
    assert declaration.fit == {"batch_size": 128, "epochs": 5, "validation_split": 0.1, "shuffle": True}
    assert same_model(
        describe_model(rebuild(declaration, seed=42, precision="float32")), describe_model(model)
    )


# -- what a declaration can carry: the budget, operations, constants, training that changes nothing --
KERAS_OPS = hasattr(keras, "ops")


def test_every_reference_holds_a_few_numbers_of_the_budget():
    """The five references hold 4 to 14 numbers outside their shapes and wiring, far below the
    budget: the whole numbers that only shape a layer (filters, kernel sizes, strides) are not counted."""
    for name in REFERENCES:
        module = load(name)
        walk = _Walk()
        data = declared(module.build_model())
        _vet_model(data["model"], walk)
        assert 0 < walk.numbers <= 20 < NUMBER_BUDGET


def test_numbers_past_the_budget_are_refused_naming_where_most_are(honest):
    """Each argument under its own limit of 16, 40 of them past the budget of the whole declaration."""
    data = forged(honest, lambda d: first_layer(d)["config"].update({f"a{i}": [0.5] * 4 for i in range(40)}))
    with pytest.raises(Refused) as refused:
        vet(data)
    message = str(refused.value)
    assert (
        f"at most {NUMBER_BUDGET} are accepted" in message
        and "numbers outside its shapes and wiring" in message
    )
    assert "The most, 4, are in layer '" in message


def test_a_merges_inputs_past_its_first_count_against_the_budget():
    inputs = keras.Input((28, 28, 1))
    flat = layers.Flatten()(inputs)
    summed = layers.Add()([flat] * 200)  # the same tensor added 200 times: a weight of 200, in wiring
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(summed))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(SubmissionError, match="a merge's inputs past its first"):
        declared(model)


def test_a_float_in_a_shape_argument_is_counted_and_a_shape_holds_whole_numbers_only(honest):
    data = forged(honest, lambda d: first_layer(d)["config"].update(filters=32.5))
    walk = _Walk()
    _vet_model(data["model"], walk)
    assert any(where.endswith("argument 'filters'") for where, _ in walk.places)

    def fractional(d: dict) -> None:
        config = first_layer(d, 0)["config"]
        config["batch_shape" if "batch_shape" in config else "batch_input_shape"] = [None, 28.5, 28, 1]

    with pytest.raises(Refused, match="a shape holds whole numbers"):
        vet(forged(honest, fractional))


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (
            lambda d: d["compile"].update(optimizer={"class_name": "SGD", "config": {"learning_rate": 0.0}}),
            "the SGD's learning_rate is 0",
        ),
        (
            lambda d: d["compile"].update(
                optimizer={"class_name": "Adam", "config": {"learning_rate": -0.1}}
            ),
            "the Adam's learning_rate is -0.1",
        ),
        (
            lambda d: d["compile"].update(
                optimizer={
                    "class_name": "SGD",
                    "config": {
                        "learning_rate": {
                            "class_name": "PiecewiseConstantDecay",
                            "config": {"boundaries": [10], "values": [0.1, 0.0]},
                        }
                    },
                }
            ),
            "the PiecewiseConstantDecay's values is 0",
        ),
        (
            lambda d: d.update(callbacks=[{"class_name": "ReduceLROnPlateau", "config": {"factor": 0.0}}]),
            "factor must be above 0",
        ),
        (
            lambda d: first_layer(d)["config"].update(rate=float("inf")),
            "numbers in a declaration are at most",
        ),
        (lambda d: first_layer(d)["config"].update(groups=10**30), "numbers in a declaration are at most"),
        (lambda d: d["fit"].update(batch_size=10**12), "batch_size must be a whole number from 1 to"),
    ],
)
def test_settings_that_make_training_change_nothing_or_hold_huge_numbers_are_refused(honest, change, refusal):
    with pytest.raises(Refused) as refused:
        vet(forged(honest, change))
    assert refusal in str(refused.value)


def test_a_model_whose_every_layer_is_frozen_is_refused_when_rebuilt():
    model = small(layers.Conv2D(4, 3, trainable=False))
    model.layers[-1].trainable = False
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(SubmissionError, match="every layer is frozen"):
        rebuild(vet(declared(model)), seed=1, precision="float32")


def test_the_rebuilt_graph_of_every_reference_is_made_of_keras_layers_only():
    for name in REFERENCES:
        rebuilt = rebuild(vet(declared(load(name).build_model())), seed=1, precision="float32")
        check_graph(rebuilt)


def test_a_module_that_is_not_the_one_keras_writes_for_the_class_is_refused(honest):
    with pytest.raises(Refused, match="not from Keras"):
        vet(forged(honest, lambda d: first_layer(d).update(module="keras.initializers")))
    with pytest.raises(Refused, match="is an operation applied to a Keras tensor outside a layer"):
        vet(forged(honest, lambda d: first_layer(d).update(module="keras.src.ops.nn", class_name="Conv")))


@pytest.mark.skipif(not KERAS_OPS, reason="Keras 2 has no keras.ops")
def test_an_operation_on_a_keras_tensor_is_refused_with_its_line(tmp_path):
    """``ops.dot(x, W)`` on a Keras tensor is an operation node outside every layer (Keras writes
    it as ``keras.src.ops.numpy``'s ``Dot``, its array in the node's arguments): refused, naming the
    line that made it, though a layer named Dot exists."""
    source = tmp_path / "model.py"
    source.write_text("import keras\nfrom keras import ops\n\n\ndef build_model():\n    y = ops.dot(x, W)\n")
    inputs = keras.Input((28, 28, 1))
    flat = layers.Flatten()(inputs)
    weights = np.random.default_rng(0).normal(size=(784, 10)).astype("float32")
    model = keras.Model(inputs, keras.ops.softmax(keras.ops.dot(flat, weights)))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(SubmissionError) as refused:
        declared(model, model_file=source)
    message = str(refused.value)
    assert (
        "its node 'dot' (Dot from keras.src.ops.numpy) is an operation applied to a Keras tensor" in message
    )
    assert "See model.py, line 6: y = ops.dot(x, W)." in message


@pytest.mark.skipif(not KERAS_OPS, reason="Keras 2 records a constant input as a TFOpLambda's argument")
def test_a_constant_passed_to_a_layer_is_refused():
    inputs = keras.Input((28, 28, 1))
    logits = layers.Dense(10)(layers.Flatten()(inputs))
    shifted = layers.Add()([logits, np.ones((1, 10), "float32")])
    model = keras.Model(inputs, layers.Activation("softmax")(shifted))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(SubmissionError, match=r"it is called on a constant \('__numpy__'\)"):
        declared(model)


def test_layer_names_carry_nothing_into_the_rebuilt_weights():
    """Names are text the budget does not count, and the declaration's digest reads them only as
    the order they come in: the same model named otherwise rebuilds to exactly the same weights."""
    plain = weights(rebuild(vet(declared(named())), seed=3, precision="float32"))
    again = weights(rebuild(vet(declared(named(last="7" * MAX_TEXT))), seed=3, precision="float32"))
    assert all(np.array_equal(a, b) for a, b in zip(plain, again, strict=True))


def named(seed: int | None = None, units: int = 16, last: str = "out") -> keras.Model:
    """One small model with every layer named, so that two builds of it declare the same text."""
    initializer = keras.initializers.GlorotUniform(seed=seed) if seed is not None else "glorot_uniform"
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(4, 3, kernel_initializer=initializer, name="conv"),
            layers.Flatten(name="flat"),
            layers.Dense(units, name="hidden"),
            layers.Dense(10, activation="softmax", name=last),
        ],
        name="net",
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def test_a_seed_in_a_declaration_is_dropped_and_carries_nothing():
    """A seed picks a whole stream of random weights, which can be searched offline for one that
    fits; the vetting drops every seed, and the seeded model rebuilds to exactly the unseeded one."""
    assert declare(named(seed=1234), FIT, parts=[]).reseeded == 1
    seeded = vet(declared(named(seed=1234)))
    plain = vet(declared(named()))
    first = weights(rebuild(seeded, seed=5, precision="float32"))
    again = weights(rebuild(plain, seed=5, precision="float32"))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_any_change_to_a_declaration_draws_every_weight_afresh():
    """The rebuild's seed mixes the assignment's with a digest of the whole declaration: a choice
    of shapes cannot pick which of the grader's random weights a layer gets while keeping the rest.
    Two declarations that differ only in a later layer's width start from other first kernels."""
    narrow = rebuild(vet(declared(named(units=16))), seed=5, precision="float32")
    wide = rebuild(vet(declared(named(units=17))), seed=5, precision="float32")
    assert not np.array_equal(
        np.asarray(narrow.layers[0].get_weights()[0]), np.asarray(wide.layers[0].get_weights()[0])
    )
    same = rebuild(vet(declared(named(units=16))), seed=5, precision="float32")
    assert np.array_equal(
        np.asarray(narrow.layers[0].get_weights()[0]), np.asarray(same.layers[0].get_weights()[0])
    )


def test_the_precision_a_model_runs_at_draws_the_same_weights():
    """Dtypes are the assignment's precision, not a choice of the model: a model declared under
    mixed bfloat16 gets the same seed as under float32, so the two runs start from the same weights."""
    set_precision("mixed_bfloat16")
    try:
        mixed = vet(declared(named()))
    finally:
        set_precision("float32")
    plain = vet(declared(named()))
    assert json.dumps(mixed.model) != json.dumps(plain.model)  # the policy is in the declaration
    assert mixed.seed(42) == plain.seed(42)


def test_an_optimizer_as_keras_writes_it_on_pytorch_is_that_optimizer_and_no_other(honest):
    """On PyTorch, ``keras.optimizers.Adam()`` is Keras's torch subclass, written under its own
    module: that module passes for that optimizer only, never for another class or role."""
    torch_adam = "keras.src.backend.torch.optimizers.torch_adam"

    def optimizer(data: dict) -> dict:
        return data["compile"]["optimizer"]

    assert optimizer(honest)["class_name"] == "Adam"
    vetted = vet(forged(honest, lambda d: optimizer(d).update(module=torch_adam)))
    assert vetted.compile["optimizer"]["module"] == torch_adam
    with pytest.raises(Refused, match="not from Keras"):
        vet(
            forged(
                honest, lambda d: optimizer(d).update(module="keras.src.backend.torch.optimizers.torch_sgd")
            )
        )
    with pytest.raises(Refused, match="not from Keras"):
        vet(forged(honest, lambda d: first_layer(d).update(module=torch_adam)))
