"""Benchmarks run on full-size Fashion-MNIST and share one matmul-peak measurement per run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The backend every grade of this run trains on, and the one Keras loads here (bench_keras3 sets it).
BACKEND = os.environ.setdefault("KERAS_BACKEND", "tensorflow")

MATMUL_SIZES = (512, 1024, 2048, 4096)
CONV_BATCH = 128
PEAK_REPEATS = 5


@pytest.fixture(scope="session", autouse=True)
def no_kept_zygote(tmp_path_factory) -> None:
    """Grades measured here fork from zygotes of their own, not from one this machine's user keeps
    warm (``grader warm``), unless a benchmark keeps one itself."""
    from grader.runner import kept

    kept.FOLDER = tmp_path_factory.getbasetemp() / "no-kept-zygote"


@pytest.fixture(scope="session")
def fashion():
    from grader.data import load_dataset, prepare

    data = load_dataset("fashion_mnist")
    return prepare(data.x_train, data.y_train)


@pytest.fixture(scope="session")
def train_with():
    """``train_with(loop, model, x, y, batch_size=, epochs=, callbacks=)``: one ``fit`` as the
    ``plain`` tutorial loop or as the grader's (``grader``, ``grader-bf16``)."""
    return _train_with


def _train_with(loop: str, model, x, y, *, batch_size: int, epochs: int, callbacks=()):
    """The grader's loop runs with the runner's own progress callback, writing to nowhere."""
    if loop == "plain":
        return model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=list(callbacks))
    from grader.runner import training
    from grader.runner.fitting import progress_callback
    from grader.runner.protocol import Channel

    channel = Channel(os.open(os.devnull, os.O_WRONLY))
    settings = {"batch_size": batch_size, "epochs": epochs, "callbacks": list(callbacks)}
    try:
        return training.fit(model, x, y, settings=settings, progress=progress_callback(channel))
    finally:
        channel.stream.close()


@pytest.fixture(scope="session")
def fashion_test():
    """The 10,000 Fashion-MNIST test images and their integer labels."""
    from grader.data import load_dataset

    data = load_dataset("fashion_mnist")
    return data.x_test.reshape(-1, 28, 28, 1).astype("float32") / 255.0, data.y_test


def _best_rate(function, argument, flops: float) -> float:
    _wait(function(argument))  # trace and warm up
    best = float("inf")
    for _ in range(PEAK_REPEATS):
        started = time.perf_counter()
        _wait(function(argument))
        best = min(best, time.perf_counter() - started)
    return flops / best


def _wait(value) -> None:
    """Bring a result to the host, so its time is counted (tf.keras 2 has no keras.ops)."""
    if hasattr(value, "numpy") and not hasattr(value, "cpu"):  # TensorFlow's eager tensors
        value.numpy()
    else:
        import keras

        keras.ops.convert_to_numpy(value)


def kernel_rates(dtype: str) -> dict[str, float]:
    """FLOP/s of several of the backend's kernels in ``dtype``: square matmuls of four sizes and
    the convolutions the references train (a 3x3 32-to-64 layer: forward and both gradients on
    TensorFlow, forward only through ``keras.ops`` on JAX and PyTorch)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return _keras_ops_rates(dtype)
    import tensorflow as tf

    rates = {}
    for size in MATMUL_SIZES:
        a = tf.cast(tf.random.uniform((size, size)), dtype)
        matmul = tf.function(lambda x: tf.reduce_sum(tf.cast(tf.linalg.matmul(x, x), tf.float32)))
        rates[f"matmul {size}"] = _best_rate(matmul, a, 2 * size**3)
    images = tf.cast(tf.random.uniform((CONV_BATCH, 28, 28, 32)), dtype)
    kernel = tf.Variable(tf.cast(tf.random.uniform((3, 3, 32, 64)), dtype))

    @tf.function
    def conv(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(tf.cast(tf.nn.conv2d(x, kernel, 1, "SAME"), tf.float32))
        gradients = tape.gradient(total, [x, kernel])
        return tf.reduce_sum(tf.cast(gradients[0], tf.float32)) + tf.reduce_sum(
            tf.cast(gradients[1], tf.float32)
        )

    rates["conv 3x3 32-64, forward and backward"] = _best_rate(
        conv, images, 3 * 2 * 3 * 3 * 32 * 64 * 28 * 28 * CONV_BATCH
    )
    return rates


def _keras_ops_rates(dtype: str) -> dict[str, float]:
    """The same kernels through ``keras.ops`` (JAX, PyTorch): matmuls, and the convolution forward."""
    import keras
    import numpy as np

    ops = keras.ops
    rates = {}
    random = np.random.default_rng(0)
    for size in MATMUL_SIZES:
        a = ops.cast(ops.convert_to_tensor(random.random((size, size), dtype="float32")), dtype)
        rates[f"matmul {size}"] = _best_rate(
            lambda x: ops.sum(ops.cast(ops.matmul(x, x), "float32")), a, 2 * size**3
        )
    images = ops.cast(ops.convert_to_tensor(random.random((CONV_BATCH, 28, 28, 32), dtype="float32")), dtype)
    kernel = ops.cast(ops.convert_to_tensor(random.random((3, 3, 32, 64), dtype="float32")), dtype)
    rates["conv 3x3 32-64, forward"] = _best_rate(
        lambda x: ops.sum(ops.cast(ops.conv(x, kernel, padding="same"), "float32")),
        images,
        2 * 3 * 3 * 32 * 64 * 28 * 28 * CONV_BATCH,
    )
    return rates


def theoretical_peak() -> dict[str, float | str | None]:
    """The processor's float32 peak from its vector width, two FMA units a core, its highest
    (boost) clock and the cores this process may use: what a datasheet would say, where the
    kernel tells the boost clock (cpufreq's ``cpuinfo_max_freq``). /proc/cpuinfo's "cpu MHz" is
    the clock now, often the base clock, which kernels running at boost exceed, so without
    cpufreq the limit is unknown (None) rather than a figure measurements can beat."""
    from grader.device import cpu_flags

    flags = cpu_flags()
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    cores = len(os.sched_getaffinity(0))
    boost = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if not boost.is_file():
        return {"float32": None, "basis": "unknown: the kernel does not say this processor's boost clock"}
    megahertz = int(boost.read_text()) / 1000  # kHz
    flops = cores * megahertz * 1e6 * lanes * 2 * 2  # FMA: a multiply and an add per lane, two units
    return {
        "float32": flops,
        "basis": f"{cores} cores x {megahertz:.0f} MHz (boost) x {lanes} float32 lanes x 2 FMA units x 2",
    }


@pytest.fixture(scope="session")
def kernels() -> dict[str, dict[str, float]]:
    """Every kernel's rate per precision, measured once per run."""
    return {dtype: kernel_rates(dtype) for dtype in ("float32", "bfloat16")}


@pytest.fixture(scope="session")
def peak(kernels) -> dict[str, float]:
    """The practical peak per precision: the best of several kernels, not one matmul's rate."""
    return {dtype: max(rates.values()) for dtype, rates in kernels.items()}


def share_of_peak(flops_per_second: float, peak: float, what: str) -> float:
    """``flops_per_second`` as a fraction of ``peak``; a share above 1 means a timing or the peak is
    wrong, so the benchmark refuses it rather than print it."""
    share = flops_per_second / peak
    if share > 1:
        raise AssertionError(
            f"{what} measured {share:.1%} of the peak ({flops_per_second / 1e9:.1f} against "
            f"{peak / 1e9:.1f} GFLOP/s): a share above 100% is a measuring error, not a result"
        )
    return share
