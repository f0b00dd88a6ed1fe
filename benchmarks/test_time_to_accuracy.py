"""Time-to-accuracy per reference: seconds of training until the MNIST sample's test accuracy
reaches ``TARGET``, checked after every epoch (evaluation counted, as MLPerf counts it), with
the tutorial's plain ``model.fit`` and with the grader's loop in float32 and mixed_bfloat16.

    nox -s bench -- -k time_to_accuracy
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import reference
from benchmarks.conftest import BACKEND
from grader.device import precision_problem

TARGET = 0.97
MAX_EPOCHS = 8
LOOPS = {"plain": "float32", "grader": "float32", "grader-bf16": "mixed_bfloat16"}


@pytest.fixture(scope="session")
def mnist_sample():
    from grader.data import load_dataset, prepare

    data = load_dataset("mnist_sample")
    x, y = prepare(data.x_train, data.y_train)
    return x, y, data.x_test.reshape(-1, 28, 28, 1).astype("float32") / 255.0, data.y_test


@pytest.mark.parametrize("loop", list(LOOPS))
@pytest.mark.parametrize("name", list(reference.REFERENCES))
def test_time_to_accuracy(benchmark, name, loop, mnist_sample, train_with):
    import keras

    from grader.runner import training

    precision = LOOPS[loop]
    if problem := precision_problem(precision, backend=BACKEND):
        pytest.skip(problem)
    module = reference.load(name)
    x, y, x_test, y_test = mnist_sample
    batch_size = module.RECIPE.batch_size
    curve: list[float] = []

    class StopAtTarget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            scores = self.model.predict(x_test, batch_size=256, verbose=0)
            curve.append(float(np.mean(np.argmax(scores, axis=1) == y_test)))
            self.model.stop_training = curve[-1] >= TARGET

    def setup():
        training.set_precision(precision)
        keras.utils.set_random_seed(module.RECIPE.seed)
        return (module.build_model(),), {}

    def train(model):
        curve.clear()
        train_with(loop, model, x, y, batch_size=batch_size, epochs=MAX_EPOCHS, callbacks=[StopAtTarget()])

    started = time.perf_counter()
    try:
        benchmark.pedantic(train, setup=setup, rounds=1, iterations=1)
    finally:
        training.set_precision("float32")
    reached = bool(curve) and curve[-1] >= TARGET
    benchmark.extra_info.update(
        {
            "reference": name,
            "loop": loop,
            "precision": precision,
            "target": TARGET,
            "reached": reached,
            "epochs": len(curve),
            "seconds_to_target": round(benchmark.stats.stats.mean, 2) if reached else None,
            "accuracy_per_epoch": [round(a, 4) for a in curve],
            "wall_s": round(time.perf_counter() - started, 1),
        }
    )
