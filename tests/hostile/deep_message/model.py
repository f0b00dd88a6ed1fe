"""Writes one line of JSON nested 100,000 deep on the runner's channel while its model builds,
hoping the grader's own reading of it fails and the grade becomes the grader's internal error."""

import os
import sys

import keras

CHANNEL = int(sys.argv[sys.argv.index("--messages-fd") + 1])


def build_model():
    os.write(CHANNEL, b"[" * 100_000 + b"]" * 100_000 + b"\n")
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
