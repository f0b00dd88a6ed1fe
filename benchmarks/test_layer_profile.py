"""Where a training step's time goes, layer by layer: the profile behind each reference's
fraction of the matmul peak.

For every layer of a reference, its forward and backward pass alone (gradients for its input,
except the first layer's, and its weights, in a compiled ``tf.function``, less the time of a call
that does nothing, at the recipe's batch size, on the real activations that reach it from a
batch of Fashion-MNIST images) is timed and set against its FLOPs. The sum
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

REPEATS = 30


def _median_seconds(function, *args) -> float:
    function(*args)  # trace
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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
    call = _median_seconds(tf.function(lambda inputs: inputs + 0), batch_x)  # a call that does nothing
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for number, layer in enumerate(layers):
        weights = layer.trainable_weights
        needs_input_gradient = number > 0  # a training step never differentiates the images

        @tf.function
        def forward_backward(inputs, layer=layer, weights=weights, watch=needs_input_gradient):
            with tf.GradientTape() as tape:
                if watch:
                    tape.watch(inputs)
                outputs = layer(inputs, training=True)
                total = tf.reduce_sum(tf.cast(outputs, tf.float32))
            return tape.gradient(total, [inputs, *weights] if watch else weights)

        seconds = max(_median_seconds(forward_backward, activations) - call, 1e-6)
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
            "call_ms": round(call * 1e3, 3),
        }
    )
