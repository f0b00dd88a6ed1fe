"""Benchmarks run on full-size Fashion-MNIST and share one matmul-peak measurement per run."""

from __future__ import annotations

import os
import time

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MATMUL_SIZE = 4096
MATMUL_REPEATS = 5


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
    from grader.runner.child import Channel, _progress_callback

    channel = Channel(os.open(os.devnull, os.O_WRONLY))
    settings = {"batch_size": batch_size, "epochs": epochs, "callbacks": list(callbacks)}
    try:
        return training.fit(model, x, y, settings=settings, progress=_progress_callback(channel))
    finally:
        channel.stream.close()


@pytest.fixture(scope="session")
def fashion_test():
    """The 10,000 Fashion-MNIST test images and their integer labels."""
    from grader.data import load_dataset

    data = load_dataset("fashion_mnist")
    return data.x_test.reshape(-1, 28, 28, 1).astype("float32") / 255.0, data.y_test


def matmul_flops_per_second(dtype: str) -> float:
    """Best of several large square matmuls in TensorFlow: the machine's practical peak."""
    import tensorflow as tf

    a = tf.random.uniform((MATMUL_SIZE, MATMUL_SIZE), dtype=tf.float32)
    a = tf.cast(a, dtype)
    matmul = tf.function(lambda x: tf.reduce_sum(tf.cast(tf.linalg.matmul(x, x), tf.float32)))
    matmul(a).numpy()  # trace and warm up
    best = float("inf")
    for _ in range(MATMUL_REPEATS):
        started = time.perf_counter()
        matmul(a).numpy()
        best = min(best, time.perf_counter() - started)
    return 2 * MATMUL_SIZE**3 / best


@pytest.fixture(scope="session")
def peak() -> dict[str, float]:
    return {dtype: matmul_flops_per_second(dtype) for dtype in ("float32", "bfloat16")}
