"""The grader's training loop: the submission's own ``model.fit``, made cheaper without changing
what is learned.

Same model, optimizer, batch size, epochs, shuffling and callbacks as the submission asks for.
What changes is only how often Python sees a batch: with ``steps_per_execution`` one call into
the compiled graph runs up to ``STEPS_PER_EXECUTION`` steps. It pays where steps are short: on
2 cores one_conv_dense32 went from 17,067 to 19,636 images/s (1.15x), while the large models
stay within noise of plain ``fit`` (docs/performance.md). A callback that wants every
batch (``on_train_batch_*``) gets every batch: the loop then keeps one step per call.

Thread pools are left at TensorFlow's defaults, which follow the process's CPU affinity (the
grader pins each child to its share of cores); one inter-op thread was measured 0.64x.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.settings import PRECISIONS

STEPS_PER_EXECUTION = 64
FUSED_BACKENDS = ("tensorflow", "jax")  # Keras on PyTorch runs one step per call, always
BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")


def wants_every_batch(callbacks: Sequence[Any]) -> bool:
    """True when any callback acts per batch (Keras calls those hooks once per execution).
    ModelCheckpoint saving per epoch and TensorBoard writing per epoch without profiling have
    batch hooks that then do nothing, so they do not count."""
    return any(_acts_per_batch(callback) for callback in callbacks)


def _acts_per_batch(callback: Any) -> bool:
    import keras

    base = keras.callbacks.Callback
    hooked = any(
        hook in vars(callback) or getattr(type(callback), hook, None) is not getattr(base, hook, None)
        for hook in BATCH_HOOKS
    )  # vars(): LambdaCallback sets its hooks on the instance
    if not hooked:
        return False
    if type(callback) is keras.callbacks.ModelCheckpoint:
        return callback.save_freq != "epoch"
    if type(callback) is keras.callbacks.TensorBoard:
        profiling = getattr(callback, "_start_batch", 0) or getattr(callback, "_stop_batch", 0)
        return callback.update_freq != "epoch" or bool(profiling)
    return True


def steps_per_execution(model: Any) -> int:
    """How many training steps one call into the graph runs now."""
    current = getattr(model, "_steps_per_execution", None)  # tf.keras (Keras 2) keeps a variable
    if current is not None and hasattr(current, "numpy"):
        return int(current.numpy())
    return int(getattr(model, "steps_per_execution", 1) or 1)


def set_steps_per_execution(model: Any, steps: int) -> None:
    """Run ``steps`` training steps per call into the graph, on Keras 3 and on tf.keras 2."""
    if steps_per_execution(model) == steps:
        return  # unchanged: keep the traced train function
    if hasattr(model, "_configure_steps_per_execution"):  # tf.keras (Keras 2)
        model._configure_steps_per_execution(steps)
    else:
        model.steps_per_execution = steps
    # Each is rebuilt on its next call with the new setting. A predict function traced before (the
    # check of the fresh model, grader/pipeline.py's probe) and kept would run one batch per call of
    # the new count: 256 of 2,000 predictions came back, measured on Keras 3.15.
    model.train_function = model.test_function = model.predict_function = None


def set_precision(policy: str) -> None:
    """Make ``policy`` Keras's global dtype policy: every layer built from now on follows it."""
    import keras

    if policy not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {policy!r}")
    keras.mixed_precision.set_global_policy(policy)


def fit(model: Any, x: np.ndarray, y: np.ndarray, *, settings: dict[str, Any], progress: Any) -> Any:
    """``model.fit`` with the submission's settings and the grader's progress callback."""
    import keras

    callbacks = list(settings.get("callbacks") or [])
    if not wants_every_batch(callbacks) and keras.backend.backend() in FUSED_BACKENDS:
        set_steps_per_execution(model, STEPS_PER_EXECUTION)
    return model.fit(x, y, verbose=0, **{**settings, "callbacks": [*callbacks, progress]})
