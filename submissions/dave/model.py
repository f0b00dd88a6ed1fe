"""Tutorial 004's model with the tutorial's optimizer line copied as written: ``Adadelta()``.

In the standalone Keras of the tutorial, ``Adadelta()`` meant learning rate 1.0; in tf.keras and
Keras 3 it means 0.001, so the same line learns far more slowly. The architecture is right
(every build check passes); the test accuracy check fails.
"""

import keras
from keras import layers


def build_model() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        loss=keras.losses.categorical_crossentropy,
        optimizer=keras.optimizers.Adadelta(),
        metrics=["accuracy"],
    )
    return model


def fit_kwargs() -> dict:
    return {"batch_size": 128, "epochs": 10}
