"""Tutorial 000's convnet with 5x5 kernels instead of 3x3.

'same' padding keeps every layer's output shape, but the three convolutions grow from 55,744
to 154,560 parameters, taking the model to 557,386: over the assignment's budget of 500,000.
Fails the parameter check only; training is skipped. The model is returned uncompiled, so the
grader compiles it with the assignment's optimizer and loss.
"""

import keras
from keras import layers


def build_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, (5, 5), padding="same", activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Dropout(0.25),
            layers.Conv2D(64, (5, 5), padding="same", activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Dropout(0.25),
            layers.Conv2D(64, (5, 5), padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
