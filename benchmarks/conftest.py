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
