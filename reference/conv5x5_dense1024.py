"""Tutorial 002, "Building a CNN model in Keras using MNIST dataset" (2019): 5x5 convs, Dense 1024.

Two 5x5 'same' convolutions (32 and 64 filters) with max pooling, Flatten, Dense 1024, dropout
0.2 and a softmax: 3,274,634 parameters. Adam at learning rate 1e-4, batch 128, 5 epochs,
validated on the test set; documented 0.9887 test accuracy, loss 0.0352.

Its code listing omits the Flatten and Dropout layers that its text and summary have, and calls
``Adam(lr=0.0001)``, which Keras 3 rejects; this reference follows the summary and passes
``learning_rate``.
"""

from __future__ import annotations

import sys

import keras
from keras import layers

from reference.tutorial import Choice, Documented, Recipe, layer

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
LEARNING_RATE = 0.0001


def build_model() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, kernel_size=(5, 5), padding="same", activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(5, 5), padding="same", activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dense(1024, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


RECIPE = Recipe(optimizer=f"Adam(learning_rate={LEARNING_RATE})", batch_size=128, epochs=5, validation="test")

DOCUMENTED = Documented(
    tutorial="002",
    title="Building a CNN model in Keras using MNIST dataset",
    layers=(
        layer("Conv2D", (None, 28, 28, 32), 832),
        layer("MaxPooling2D", (None, 14, 14, 32), 0),
        layer("Conv2D", (None, 14, 14, 64), 51_264),
        layer("MaxPooling2D", (None, 7, 7, 64), 0),
        layer("Flatten", (None, 3136), 0),
        layer("Dense", (None, 1024), 3_212_288),
        layer("Dropout", (None, 1024), 0),
        layer("Dense", (None, 10), 10_250),
    ),
    layers_source="printed summary",
    total_params=3_274_634,
    trainable_params=3_274_634,
    test_accuracy=0.9887,
    test_loss=0.0352,
    result="val accuracy per epoch 0.9622, 0.9778, 0.9836, 0.9870, 0.9887; 252-371 s per epoch on CPU",
)

CHOICES = (
    Choice(
        "layers", "the code listing omits Flatten and Dropout", "follows the printed summary and the text"
    ),
    Choice(
        "optimizer argument", "Adam(lr=0.0001)", "Adam(learning_rate=0.0001): the same rate, valid on Keras 3"
    ),
)

if __name__ == "__main__":
    from reference.script import main

    main(sys.modules[__name__])
