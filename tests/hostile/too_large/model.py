"""A real model far too large to train here: one Dense layer of 2 million units (1.6 billion weights)."""

import keras


def build_model():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(2_000_000, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
