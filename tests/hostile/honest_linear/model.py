"""The twin every attempt at unearned weights is measured against: the same linear classifier
(Flatten, Dense 10), trained honestly for the assignment's epoch on the grader's images."""

import keras


def build_model():
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def fit_kwargs():
    return {"batch_size": 32, "epochs": 1}
