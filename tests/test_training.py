"""The grader's training loop learns what plain ``model.fit`` learns, and the precision option
holds every reference's accuracy close to float32."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import reference
from grader.assignment import load_assignment
from grader.calibration import calibrate
from grader.device import precision_problem
from tests.conftest import BACKEND

ALICE = Path(__file__).parent.parent / "submissions" / "alice"
BFLOAT16_TOLERANCE = 0.03  # accuracy points (as a fraction) after one epoch on the 2,000 sample test images


def test_only_callbacks_that_want_every_batch_keep_one_step_per_call(tmp_path):
    import keras

    from grader.runner.training import wants_every_batch

    class EveryBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    per_epoch = [
        keras.callbacks.EarlyStopping(),
        keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
        keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras")),
    ]
    assert not wants_every_batch(per_epoch)
    assert not wants_every_batch([keras.callbacks.TensorBoard(log_dir=str(tmp_path / "tb"))])
    assert wants_every_batch([*per_epoch, EveryBatch()])
    assert wants_every_batch([keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq=100)])
    assert wants_every_batch([keras.callbacks.TensorBoard(log_dir=str(tmp_path / "tb"), update_freq="batch")])
    assert wants_every_batch([keras.callbacks.TerminateOnNaN()])
    assert wants_every_batch([keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None)])
    assert not wants_every_batch([keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: None)])


def test_the_grader_loop_takes_the_same_steps_as_plain_fit(sample):
    """Same seed, model, data and batch size: the same number of optimizer steps, and weights that
    agree to float32 rounding (multi-threaded kernels do not promise bit-identical sums)."""
    import keras

    from grader.data import prepare
    from grader.runner import training

    module = reference.load("conv_32_64_64")
    x, y = prepare(sample.x_train[:3000], sample.y_train[:3000])
    models = []
    for loop in ("plain", "grader"):
        keras.utils.set_random_seed(7)
        model = module.build_model()
        if loop == "plain":
            history = model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
        else:
            settings = {"batch_size": 32, "epochs": 1, "callbacks": [], "shuffle": False}
            history = training.fit(model, x, y, settings=settings, progress=keras.callbacks.Callback())
            fused = keras.backend.backend() in training.FUSED_BACKENDS  # PyTorch allows one step per call
            assert training.steps_per_execution(model) == (training.STEPS_PER_EXECUTION if fused else 1)
        models.append((model, history.history["loss"][-1]))
    (plain, plain_loss), (fast, fast_loss) = models
    assert int(plain.optimizer.iterations) == int(fast.optimizer.iterations) == 94  # ceil(3000 / 32)
    assert fast_loss == pytest.approx(plain_loss, rel=1e-3)
    for a, b in zip(plain.get_weights(), fast.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_a_mixed_policy_computes_in_bfloat16_and_keeps_float32_weights():
    import keras

    from grader.runner import training

    with pytest.raises(ValueError, match="precision must be one of"):
        training.set_precision("bfloat16")
    try:
        training.set_precision("mixed_bfloat16")
        model = reference.load("one_conv_dense32").build_model()
    finally:
        training.set_precision("float32")
    dense = model.layers[-1]
    assert dense.compute_dtype == "bfloat16" and dense.variable_dtype == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize("name", list(reference.REFERENCES))
def test_bfloat16_keeps_each_reference_within_tolerance_of_float32(name, sample, grading_cache):
    if problem := precision_problem("mixed_bfloat16", backend=BACKEND):
        pytest.skip(problem)
    task = load_assignment(name).with_backend(BACKEND)
    one_epoch = dataclasses.replace(task, training=dataclasses.replace(task.training, max_epochs=1))
    bf16 = dataclasses.replace(
        one_epoch, training=dataclasses.replace(one_epoch.training, precision="mixed_bfloat16")
    )
    float32 = calibrate(one_epoch, sample, cache_root=grading_cache).baseline
    bfloat16 = calibrate(bf16, sample, cache_root=grading_cache).baseline
    assert bfloat16.facts == float32.facts
    assert abs(bfloat16.accuracy - float32.accuracy) <= BFLOAT16_TOLERANCE, (
        bfloat16.accuracy,
        float32.accuracy,
    )


def test_a_bfloat16_assignment_grades_alice_end_to_end(grading_cache, tmp_path):
    """The precision reaches the student's child and the reference alike, and the verifier loads
    the mixed-precision model it saved."""
    from io import StringIO

    from rich.console import Console

    from grader.grade import grade
    from tests.conftest import CLASS_ASSIGNMENT

    if problem := precision_problem("mixed_bfloat16", backend=BACKEND):
        pytest.skip(problem)
    task = load_assignment(CLASS_ASSIGNMENT).with_backend(BACKEND)
    bf16 = dataclasses.replace(task, training=dataclasses.replace(task.training, precision="mixed_bfloat16"))
    result = grade(ALICE, assignment=bf16, cache_root=grading_cache, console=Console(file=StringIO()))
    assert result.score == result.possible, result.problem
    assert result.environment["precision"] == "mixed_bfloat16"
    assert result.baseline["accuracy"] > 0.8 and result.metrics.accuracy > 0.8
