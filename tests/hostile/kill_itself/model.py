"""Kills its own process during training."""

import os
import signal

import keras


class Vanish(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        os.kill(os.getpid(), signal.SIGKILL)


def build_model():
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fit_kwargs():
    return {"batch_size": 128, "callbacks": [Vanish()]}
