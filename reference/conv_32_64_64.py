"""Tutorial 000, "Building First CNN Model" (TensorFlow 2.3): the 32-64-64 conv model.

Three 3x3 'same' convolutions with 32, 64 and 64 he_uniform filters, the first two followed by
max pooling and dropout, then Flatten, Dense 128 and a softmax: 458,570 parameters. The
tutorial stops early at epoch 20 and reports 0.9934 test accuracy.

Its code listing leaves out the Dropout and Flatten layers that its own printed summary shows;
built as listed, the Dense layers act on (7, 7, 64) maps. This reference follows the summary.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import keras
from keras import layers

from reference.tutorial import Choice, Documented, Recipe, layer

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
CONV_DROPOUT = 0.25
DENSE_DROPOUT = 0.5


def build_model() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"),
            layers.MaxPooling2D((2, 2)),
            layers.Dropout(CONV_DROPOUT),
            layers.Conv2D(64, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"),
            layers.MaxPooling2D((2, 2)),
            layers.Dropout(CONV_DROPOUT),
            layers.Conv2D(64, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"),
            layers.Flatten(),
            layers.Dense(128, activation="relu", kernel_initializer="he_uniform"),
            layers.Dropout(DENSE_DROPOUT),
            layers.Dense(NUM_CLASSES, activation="softmax", kernel_initializer="glorot_uniform"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _tensorboard_runs() -> bool:
    """Keras's TensorBoard callback needs the tensorboard package and TensorFlow as the backend."""
    return importlib.util.find_spec("tensorboard") is not None and keras.backend.backend() == "tensorflow"


def callbacks(run_dir: Path) -> list[keras.callbacks.Callback]:
    """The tutorial's four callbacks, writing into ``run_dir`` (TensorBoard's needs its package and
    the TensorFlow backend; on JAX or PyTorch it is left out)."""
    tensorboard = [keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs" / "fit"), histogram_freq=1)]
    return [
        *(tensorboard if _tensorboard_runs() else []),
        keras.callbacks.ModelCheckpoint(
            str(run_dir / "model_mnist.keras"), monitor="loss", save_best_only=True
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=6),
        keras.callbacks.CSVLogger(str(run_dir / "mnist.log"), separator=",", append=False),
    ]


RECIPE = Recipe(optimizer="Adam()", batch_size=32, epochs=100, validation=0.3, callbacks=callbacks)

DOCUMENTED = Documented(
    tutorial="000",
    title="Building First CNN Model",
    layers=(
        layer("InputLayer", (None, 28, 28, 1), 0),
        layer("Conv2D", (None, 28, 28, 32), 320),
        layer("MaxPooling2D", (None, 14, 14, 32), 0),
        layer("Dropout", (None, 14, 14, 32), 0),
        layer("Conv2D", (None, 14, 14, 64), 18_496),
        layer("MaxPooling2D", (None, 7, 7, 64), 0),
        layer("Dropout", (None, 7, 7, 64), 0),
        layer("Conv2D", (None, 7, 7, 64), 36_928),
        layer("Flatten", (None, 3136), 0),
        layer("Dense", (None, 128), 401_536),
        layer("Dropout", (None, 128), 0),
        layer("Dense", (None, 10), 1_290),
    ),
    layers_source="printed summary",
    total_params=458_570,
    trainable_params=458_570,
    test_accuracy=0.9934,
    test_loss=0.0263,
    result="early stopping at epoch 20; train loss 0.0218 / acc 0.9934, val loss 0.0371 / acc 0.9917",
)

CHOICES = (
    Choice(
        "dropout rates",
        "not given",
        f"{CONV_DROPOUT} after each pooling layer, {DENSE_DROPOUT} after Dense 128",
    ),
    Choice(
        "layers",
        "the code listing omits Dropout and Flatten",
        "follows the printed summary, which has them (the listing is kept as a test fixture)",
    ),
    Choice(
        "checkpoint file",
        "'modelmnist.hdf5' (HDF5)",
        "model_mnist.keras in the run folder (the format both Keras 2.12+ and Keras 3 write)",
    ),
    Choice(
        "TensorBoard logs",
        "written with histogram_freq=1",
        "the same when the tensorboard package is installed (TF 2.16+ no longer brings it) and Keras runs "
        "on TensorFlow; skipped otherwise",
    ),
    Choice("prediction", "model.predict_classes (removed in TF 2.6)", "argmax of model.predict"),
)

if __name__ == "__main__":
    from reference.script import main

    main(sys.modules[__name__])
