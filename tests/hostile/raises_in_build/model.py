"""A bug in the student's own helper."""

import keras


def units(classes):
    return classes // 0


def build_model():
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(units(10))])
