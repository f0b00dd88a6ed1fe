"""Tutorial 003, a functional-API CNN with ``tf.one_hot`` labels (TensorFlow).

Input, two 3x3 valid convolutions (32 then 64 filters), max pooling to the (12, 12, 64) map the
text describes, dropout, Flatten to 9,216 features, two ReLU Dense layers and a softmax, built
with ``keras.Model(inputs, outputs)``. The tutorial never prints the hidden Dense widths, the
dropout rate, the optimizer or the batch size; the values below are this reference's choices,
so its parameter count, 1,207,498, follows from them and is not a documented figure. The
tutorial reports 0.9864 training accuracy at epoch 10 and no test figure.
"""

from __future__ import annotations

import sys

import keras
from keras import layers

from reference.tutorial import Choice, Documented, Recipe, layer

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
HIDDEN_UNITS = (128, 64)
DROPOUT = 0.25
BATCH_SIZE = 64


def build_model() -> keras.Model:
    inputs = keras.Input(shape=INPUT_SHAPE)
    x = layers.Conv2D(32, (3, 3), activation="relu")(inputs)
    x = layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=(2, 2))(x)
    x = layers.Dropout(DROPOUT)(x)
    x = layers.Flatten()(x)
    for units in HIDDEN_UNITS:
        x = layers.Dense(units, activation="relu")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


RECIPE = Recipe(optimizer="Adam()", batch_size=BATCH_SIZE, epochs=10, validation="test")

DOCUMENTED = Documented(
    tutorial="003",
    title="Functional-API CNN with tf.one_hot (TensorFlow)",
    layers=(
        layer("InputLayer", (None, 28, 28, 1), 0),
        layer("Conv2D", (None, 26, 26, 32), 320),
        layer("Conv2D", (None, 24, 24, 64), 18_496),
        layer("MaxPooling2D", (None, 12, 12, 64), 0),
        layer("Dropout", (None, 12, 12, 64), 0),
        layer("Flatten", (None, 9216), 0),
        layer("Dense", (None, HIDDEN_UNITS[0]), 9216 * HIDDEN_UNITS[0] + HIDDEN_UNITS[0]),
        layer("Dense", (None, HIDDEN_UNITS[1]), HIDDEN_UNITS[0] * HIDDEN_UNITS[1] + HIDDEN_UNITS[1]),
        layer("Dense", (None, 10), HIDDEN_UNITS[1] * 10 + 10),
    ),
    layers_source="pooled map (12, 12, 64) and 9,216 features from the text; Dense widths chosen",
    total_params=1_207_498,
    trainable_params=1_207_498,
    result="training accuracy 0.9864 (loss about 0.05) at epoch 10; test accuracy 'great', no figure",
)

CHOICES = (
    Choice("hidden Dense widths", "not given", f"{HIDDEN_UNITS[0]} and {HIDDEN_UNITS[1]} units"),
    Choice("dropout rate", "not given", str(DROPOUT)),
    Choice("optimizer", "not given", "Adam() with Keras defaults"),
    Choice("batch size", "not given", str(BATCH_SIZE)),
    Choice("labels", "tf.one_hot(labels, 10)", "one-hot float32, the same encoding"),
)

if __name__ == "__main__":
    from reference.script import main

    main(sys.modules[__name__])
