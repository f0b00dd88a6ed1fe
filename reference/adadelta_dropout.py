"""Tutorial 004, "A simple 2D CNN for MNIST digit recognition" (2020): Adadelta with dropout.

Two 3x3 valid convolutions (32, 64), max pooling, dropout 0.25, Flatten, Dense 128, dropout 0.5
and a softmax: 320 + 18,496 + 1,179,776 + 1,290 = 1,199,882 parameters. Batch 128, 10 epochs,
validated on the test set; documented 0.9904 test accuracy, loss 0.0296.

Version trap: the tutorial ran standalone Keras, where ``Adadelta()`` meant learning rate 1.0.
In tf.keras and Keras 3 the default is 0.001 and the same line barely trains, so this reference
passes ``Adadelta(learning_rate=1.0, rho=0.95)``, which is what the documented curve used.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
from keras import layers

from reference.tutorial import Choice, Documented, Recipe, layer

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
LEARNING_RATE = 1.0
RHO = 0.95


def build_model() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    )
    model.compile(
        loss=keras.losses.categorical_crossentropy,
        optimizer=keras.optimizers.Adadelta(learning_rate=LEARNING_RATE, rho=RHO),
        metrics=["accuracy"],
    )
    return model


def save(model: keras.Model, run_dir: Path) -> None:
    """The tutorial's last step: architecture as JSON, weights as HDF5."""
    (run_dir / "model_digit.json").write_text(model.to_json())
    model.save_weights(str(run_dir / "model_digit.weights.h5"))


RECIPE = Recipe(
    optimizer=f"Adadelta(learning_rate={LEARNING_RATE}, rho={RHO})",
    batch_size=128,
    epochs=10,
    validation="test",
)

DOCUMENTED = Documented(
    tutorial="004",
    title="A simple 2D CNN for MNIST digit recognition",
    layers=(
        layer("Conv2D", (None, 26, 26, 32), 320),
        layer("Conv2D", (None, 24, 24, 64), 18_496),
        layer("MaxPooling2D", (None, 12, 12, 64), 0),
        layer("Dropout", (None, 12, 12, 64), 0),
        layer("Flatten", (None, 9216), 0),
        layer("Dense", (None, 128), 1_179_776),
        layer("Dropout", (None, 128), 0),
        layer("Dense", (None, 10), 1_290),
    ),
    layers_source="derived from the listed layers (no summary printed)",
    total_params=1_199_882,
    trainable_params=1_199_882,
    test_accuracy=0.9904,
    test_loss=0.0296,
    result="val accuracy 0.9801 after epoch 1 up to 0.9904 after epoch 10; about 270 s per epoch",
)

CHOICES = (
    Choice(
        "optimizer",
        "keras.optimizers.Adadelta() in standalone Keras (learning rate 1.0)",
        f"Adadelta(learning_rate={LEARNING_RATE}, rho={RHO}); tf.keras's default 0.001 trains far slower",
    ),
    Choice(
        "saving",
        "architecture as JSON, weights as HDF5",
        "model_digit.json and model_digit.weights.h5 in the run folder",
    ),
)

if __name__ == "__main__":
    from reference.script import main

    main(sys.modules[__name__])
