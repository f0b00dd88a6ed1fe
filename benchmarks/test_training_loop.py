"""The grader's training loop against the tutorial's plain ``model.fit`` on NumPy arrays, per
reference: same architecture, seed, data and batch size.

Three models train side by side through one epoch of the 60,000 Fashion-MNIST images, in
``CHUNKS`` interleaved chunks so that this machine's drift hits all three alike: ``plain`` (the
tutorial's ``model.fit(x, y, batch_size)``), ``grader`` (``grader.runner.training.fit`` with the
runner's own progress callback, float32; the timed function) and ``grader-bf16`` (the same loop
under ``mixed_bfloat16``). Each records its images/s in its best chunk (this machine's noise is
bimodal: a chunk now and then takes 1.6x as long, whichever loop runs it; the fastest chunk is
the least disturbed), that throughput as a fraction of the matmul peak measured in the same run,
and its test accuracy after the epoch.

    nox -s bench -- -k training_loop
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

import reference
from benchmarks.conftest import BACKEND, share_of_peak, theoretical_peak
from benchmarks.flops import training_flops_per_image
from grader.device import precision_problem

CHUNKS = 5
LOOPS = {"plain": "float32", "grader": "float32", "grader-bf16": "mixed_bfloat16"}


def test_matmul_peak(benchmark, peak, kernels):
    """The peak every share is measured against: the best of several kernels per precision, with
    each kernel's rate and the processor's theoretical float32 figure beside it."""
    benchmark.extra_info.update({f"{dtype}_gflops": round(value / 1e9, 1) for dtype, value in peak.items()})
    benchmark.extra_info["kernels_gflops"] = {
        dtype: {kernel: round(rate / 1e9, 1) for kernel, rate in rates.items()}
        for dtype, rates in kernels.items()
    }
    theoretical = theoretical_peak()
    limit = theoretical["float32"]
    benchmark.extra_info["theoretical_float32_gflops"] = (
        None if limit is None else round(float(limit) / 1e9, 1)
    )
    benchmark.extra_info["theoretical_basis"] = theoretical["basis"]
    benchmark.pedantic(lambda: None, rounds=1)


@pytest.mark.parametrize("name", list(reference.REFERENCES))
def test_training_loop(benchmark, name, fashion, fashion_test, peak, train_with):
    import keras

    from grader.runner import training

    loops = {
        loop: precision
        for loop, precision in LOOPS.items()
        if not precision_problem(precision, backend=BACKEND)
    }
    module = reference.load(name)
    x, y = fashion
    batch_size = module.RECIPE.batch_size
    models = {}
    for loop, precision in loops.items():
        training.set_precision(precision)
        keras.utils.set_random_seed(module.RECIPE.seed)
        models[loop] = module.build_model()
    training.set_precision("float32")
    bounds = np.linspace(0, len(x), CHUNKS + 1, dtype=int)
    chunks = [slice(start, stop) for start, stop in itertools.pairwise(bounds)]

    def train(loop, part):
        train_with(loop, models[loop], x[part], y[part], batch_size=batch_size, epochs=1)

    warm = slice(0, batch_size * training.STEPS_PER_EXECUTION)
    for loop in loops:
        train(loop, warm)  # trace each loop's functions before the clock; every model sees the same images
    seconds: dict[str, list[float]] = {loop: [] for loop in loops}
    rounds = iter(chunks)

    def others():
        part = next(rounds)
        for loop in loops:
            if loop != "grader":
                started = time.perf_counter()
                train(loop, part)
                seconds[loop].append(time.perf_counter() - started)
        return (part,), {}

    benchmark.pedantic(lambda part: train("grader", part), setup=others, rounds=CHUNKS, iterations=1)
    seconds["grader"] = list(benchmark.stats.stats.data)
    x_test, y_test = fashion_test
    flops = training_flops_per_image(models["grader"])
    chunk = len(x) / CHUNKS
    info = {"reference": name, "batch_size": batch_size, "chunks": CHUNKS, "loops": {}}
    for loop, precision in loops.items():
        images_per_s = chunk / min(seconds[loop])
        scores = models[loop].predict(x_test, batch_size=256, verbose=0)
        info["loops"][loop] = {
            "precision": precision,
            "images_per_s": round(images_per_s),
            "fraction_of_peak": round(
                share_of_peak(images_per_s * flops, peak[precision.removeprefix("mixed_")], f"{name} {loop}"),
                3,
            ),
            "test_accuracy": float(np.mean(np.argmax(scores, axis=1) == y_test)),
            "chunk_seconds": [round(s, 2) for s in seconds[loop]],
        }
    info["training_mflops_per_image"] = round(flops / 1e6, 2)
    benchmark.extra_info.update(info)
