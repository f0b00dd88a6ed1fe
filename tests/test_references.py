"""The five references: documented parameter counts and shapes, recipes, and a short real training run."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import reference
from grader.compare import compare_facts
from grader.data import prepare
from grader.model_facts import describe_model
from tests.conftest import BACKEND

pytestmark = pytest.mark.spread  # each test trains or builds on its own

TOTALS = {
    "conv_32_64_64": 458_570,
    "one_conv_dense32": 173_738,
    "conv5x5_dense1024": 3_274_634,
    "functional_cnn": 1_207_498,  # follows from the reference's chosen Dense widths (128, 64)
    "adadelta_dropout": 1_199_882,
}

# One epoch on the 8,000-image MNIST sample, scored on its 2,000 test images. Measured with
# TF 2.21 / Keras 3.15 on 2 cores over seeds 1 and 2: 0.94-0.95, 0.82-0.84, 0.84-0.85,
# 0.95-0.95, 0.93-0.93. Thresholds leave about 0.1 of margin; chance is 0.10.
ONE_EPOCH_MINIMUM = {
    "conv_32_64_64": 0.84,
    "one_conv_dense32": 0.70,
    "conv5x5_dense1024": 0.74,
    "functional_cnn": 0.85,
    "adadelta_dropout": 0.83,
}


@pytest.mark.parametrize("name", list(reference.REFERENCES))
def test_reference_matches_its_documented_layers_and_totals(name):
    module = reference.load(name)
    model = module.build_model()
    facts = describe_model(model)
    assert facts.total_params == TOTALS[name] == module.DOCUMENTED.total_params
    assert facts.trainable_params == TOTALS[name]
    assert facts.output_shape == (None, 10)
    rows = compare_facts(module.DOCUMENTED.facts, facts)
    assert [row for row in rows if not row.ok] == []
    assert model.optimizer is not None and model.loss in (
        "categorical_crossentropy",
        keras.losses.categorical_crossentropy,
    )


@pytest.mark.parametrize("name", list(reference.REFERENCES))
def test_reference_declares_its_recipe_and_what_it_chose(name):
    module = reference.load(name)
    recipe, documented = module.RECIPE, module.DOCUMENTED
    assert recipe.batch_size in (32, 64, 128, 256) and recipe.epochs >= 5
    assert recipe.validation == "test" or 0 < recipe.validation < 1
    assert documented.seed is None  # no tutorial documents one
    assert module.CHOICES and all(choice.tutorial and choice.reference for choice in module.CHOICES)
    assert documented.tutorial == reference.REFERENCES[name]


def test_references_resolve_by_number_and_reject_unknown_names():
    assert reference.resolve("004") == "adadelta_dropout"
    with pytest.raises(KeyError, match="unknown reference '005'"):
        reference.resolve("005")


def test_recipe_callbacks_follow_the_tutorials(tmp_path):
    early = [
        cb
        for cb in reference.load("000").RECIPE.callbacks(tmp_path)
        if isinstance(cb, keras.callbacks.EarlyStopping)
    ]
    assert early and early[0].patience == 6 and early[0].monitor == "val_loss"
    kwargs = reference.load("002").RECIPE.fit_kwargs(x_test=1, y_test=2, run_dir=tmp_path, epochs=2)
    assert kwargs["validation_data"] == (1, 2) and kwargs["epochs"] == 2 and kwargs["batch_size"] == 128


def test_tensorboard_is_left_out_where_keras_runs_on_another_backend(tmp_path, monkeypatch):
    """Keras's TensorBoard callback needs TensorFlow: a reference trained on JAX or PyTorch where the
    tensorboard package happens to be installed must not ask for it."""
    module = reference.load("000")
    monkeypatch.setattr(module.importlib.util, "find_spec", lambda name: object())  # "installed"
    names = lambda: [type(cb).__name__ for cb in module.RECIPE.callbacks(tmp_path)]  # noqa: E731
    monkeypatch.setattr(module.keras.backend, "backend", lambda: "tensorflow")
    if BACKEND == "tensorflow":  # TensorBoard itself imports TensorFlow
        assert "TensorBoard" in names()
    monkeypatch.setattr(module.keras.backend, "backend", lambda: "jax")
    assert "TensorBoard" not in names()


@pytest.mark.matrix
def test_adadelta_reference_uses_the_standalone_keras_learning_rate():
    optimizer = reference.load("004").build_model().optimizer
    assert float(np.asarray(optimizer.learning_rate)) == pytest.approx(1.0)
    assert float(np.asarray(optimizer.rho)) == pytest.approx(0.95)  # a tensor on Keras 2.12


@pytest.mark.parametrize("name", list(reference.REFERENCES))
def test_one_epoch_on_the_mnist_sample_learns(name, sample):
    module = reference.load(name)
    keras.utils.set_random_seed(module.RECIPE.seed)
    model = module.build_model()
    x_train, y_train = prepare(sample.x_train, sample.y_train)
    x_test, y_test = prepare(sample.x_test, sample.y_test)
    model.fit(x_train, y_train, batch_size=module.RECIPE.batch_size, epochs=1, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)[:2]
    assert accuracy >= ONE_EPOCH_MINIMUM[name], f"{name}: {accuracy:.4f} after one epoch"


@pytest.mark.parametrize("name", list(reference.REFERENCES))
def test_a_fresh_reference_scores_near_chance_before_training(name, sample):
    """What the probe of a self-trained submission (grader.pipeline.probe) relies on: freshly
    built, every reference scores well under ``UNTRAINED_MAX`` on the probe's training images
    (3.9% to 16.1% over seeds 1 to 10 on TensorFlow 2.21)."""
    from grader.pipeline import PROBE_IMAGES, UNTRAINED_MAX
    from grader.scoring import accuracy

    x = sample.x_train[-PROBE_IMAGES:].reshape(-1, 28, 28, 1).astype("float32") / 255.0
    for seed in (1, 2, 3):
        keras.utils.set_random_seed(seed)
        scores = reference.load(name).build_model().predict(x, batch_size=256, verbose=0)
        assert accuracy(np.asarray(scores, "float32"), sample.y_train[-PROBE_IMAGES:]) <= UNTRAINED_MAX - 0.1
