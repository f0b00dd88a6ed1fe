"""Returns the model's summary text instead of the model."""

import keras


def build_model():
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    return str(model)
