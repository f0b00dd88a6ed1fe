"""The reference (tutorial 000's 32-64-64 network) with 450 parameter-free Activation layers after
its first convolution: every cheap check passes, and each step costs many times the reference's."""

import keras
from keras import layers

ACTIVATION = "relu"  # the early-stop benchmark swaps in a costlier one


def build_model():
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_uniform"),
            *(layers.Activation(ACTIVATION) for _ in range(450)),
            layers.MaxPooling2D(),
            layers.Dropout(0.25),
            layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_uniform"),
            layers.MaxPooling2D(),
            layers.Dropout(0.25),
            layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_uniform"),
            layers.Flatten(),
            layers.Dense(128, activation="relu", kernel_initializer="he_uniform"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def fit_kwargs():
    return {"batch_size": 32, "epochs": 1}
