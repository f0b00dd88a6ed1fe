"""Training throughput of each reference for one epoch on 60,000 Fashion-MNIST images, and its
fraction of this machine's float32 matmul peak measured in the same run.

    nox -s bench        (or: pytest benchmarks --benchmark-enable)
"""

from __future__ import annotations

import pytest

import reference
from grader.flops import training_flops_per_image


def test_matmul_peak(benchmark, peak):
    benchmark.extra_info.update({f"{dtype}_gflops": round(value / 1e9, 1) for dtype, value in peak.items()})
    benchmark.pedantic(lambda: None, rounds=1)


@pytest.mark.parametrize("name", list(reference.REFERENCES))
def test_epoch_throughput(benchmark, name, fashion, peak):
    import keras

    module = reference.load(name)
    x, y = fashion
    batch_size = module.RECIPE.batch_size

    built = []

    def setup():
        keras.utils.set_random_seed(module.RECIPE.seed)
        model = module.build_model()
        built.append(model)
        model.fit(
            x[: batch_size * 4], y[: batch_size * 4], batch_size=batch_size, epochs=1, verbose=0
        )  # trace
        return (model,), {}

    def one_epoch(model):
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)

    benchmark.pedantic(one_epoch, setup=setup, rounds=1, iterations=1)
    seconds = benchmark.stats.stats.mean
    images_per_s = len(x) / seconds
    flops = training_flops_per_image(built[-1])
    achieved = images_per_s * flops
    benchmark.extra_info.update(
        {
            "batch_size": batch_size,
            "images_per_s": round(images_per_s),
            "training_mflops_per_image": round(flops / 1e6, 2),
            "achieved_gflops": round(achieved / 1e9, 1),
            "float32_peak_gflops": round(peak["float32"] / 1e9, 1),
            "fraction_of_float32_peak": round(achieved / peak["float32"], 3),
        }
    )
