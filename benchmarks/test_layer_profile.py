"""Where a training step's time goes, layer by layer: the profile behind each reference's
fraction of the matmul peak.

For every layer of a reference, its forward and backward pass alone (gradients for its input,
except the first layer's, and its weights, at the recipe's batch size, on the real activations
that reach it from a batch of Fashion-MNIST images) is timed and set against its FLOPs. A layer's
pass can take well under a millisecond, no longer than a call into TensorFlow, so it is repeated
inside one compiled ``tf.function`` (a ``tf.while_loop`` whose every turn feeds on the last, so
no turn can be skipped) until one call takes at least ``MIN_CALL_S``, and the median call is
divided by its turns. The sum
over layers is set against one whole training step (loss, metrics and the optimizer's update
included), timed in the same run.

    nox -s bench -- -k layer_profile
"""

from __future__ import annotations

import statistics
import time

import pytest

import reference
from benchmarks.conftest import share_of_peak
from benchmarks.flops import TRAINING_TO_FORWARD, layer_forward_flops

REPEATS = 30  # whole training steps
CALLS = 7  # calls of a layer's repeated pass; the median is taken
MIN_CALL_S = 0.05


def _median_seconds(function, *args) -> float:
    function(*args)  # trace
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _seconds_per_pass(one_pass, inputs) -> float:
    """The time of one ``one_pass(inputs)``, from calls that each repeat it enough turns to last
    ``MIN_CALL_S``. Each turn's input moves by the last turn's result times zero-ish (1e-30), so
    the turns depend on each other and none is hoisted out of the loop."""
    import tensorflow as tf

    def repeated(turns: int):
        @tf.function
        def run(x):
            def body(i, x, carried):
                gradients = one_pass(x)
                total = tf.add_n([tf.reduce_sum(tf.cast(g, tf.float32)) for g in gradients])
                return i + 1, x + tf.cast(total * 1e-30, x.dtype), carried + total

            return tf.while_loop(lambda i, x, c: i < turns, body, (tf.constant(0), x, tf.constant(0.0)))[2]

        return run

    turns = 1
    while True:
        seconds = _median_seconds(repeated(turns), inputs)
        if seconds >= MIN_CALL_S or turns >= 4096:
            return seconds / turns
        turns *= max(2, min(64, int(MIN_CALL_S / max(seconds, 1e-6)) + 1))


@pytest.mark.parametrize("name", list(reference.REFERENCES))
def test_layer_profile(benchmark, name, fashion, peak):
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the layer profile times TensorFlow's own gradient tape")
    import tensorflow as tf

    module = reference.load(name)
    keras.utils.set_random_seed(module.RECIPE.seed)
    model = module.build_model()
    batch_size = module.RECIPE.batch_size
    x, y = fashion
    batch_x, batch_y = tf.constant(x[:batch_size]), tf.constant(y[:batch_size])
    rows = []
    activations = batch_x
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for number, layer in enumerate(layers):
        weights = layer.trainable_weights
        needs_input_gradient = number > 0  # a training step never differentiates the images

        def forward_backward(inputs, layer=layer, weights=weights, watch=needs_input_gradient):
            with tf.GradientTape() as tape:
                if watch:
                    tape.watch(inputs)
                outputs = layer(inputs, training=True)
                total = tf.reduce_sum(tf.cast(outputs, tf.float32))
            return tape.gradient(total, [inputs, *weights] if watch else weights)

        seconds = _seconds_per_pass(forward_backward, activations)
        passes = TRAINING_TO_FORWARD if needs_input_gradient else TRAINING_TO_FORWARD - 1
        flops = passes * layer_forward_flops(layer) * batch_size
        rows.append(
            {
                "layer": type(layer).__name__,
                "output": list(layer.output.shape)[1:],
                "ms": round(seconds * 1e3, 3),
                "gflops_per_s": round(flops / seconds / 1e9, 1),
                "fraction_of_peak": round(
                    share_of_peak(flops / seconds, peak["float32"], f"{name} layer {number + 1}"), 3
                ),
            }
        )
        activations = layer(activations, training=False)

    def one_step():
        model.train_on_batch(batch_x, batch_y)

    benchmark.pedantic(one_step, setup=None, rounds=REPEATS, iterations=1, warmup_rounds=2)
    step = statistics.median(benchmark.stats.stats.data)
    layer_sum = sum(row["ms"] for row in rows) / 1e3
    benchmark.extra_info.update(
        {
            "reference": name,
            "batch_size": batch_size,
            "layers": rows,
            "layers_ms": round(layer_sum * 1e3, 2),
            "step_ms": round(step * 1e3, 2),
            "outside_layers_fraction": round(1 - layer_sum / step, 3),
        }
    )
