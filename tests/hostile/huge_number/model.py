"""Reports its model as built with a learning rate of 10**400 (too large for any float) in a
"built" message of its own, written on the runner's channel before the real one."""

import json
import os
import sys

import keras

CHANNEL = int(sys.argv[sys.argv.index("--messages-fd") + 1])


def build_model():
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    facts = {"layers": [], "total_params": 7850, "trainable_params": 7850}
    message = {
        "event": "built",
        "facts": facts,
        "compiled_by": "submission",
        "optimizer": "Adam",
        "loss": "categorical_crossentropy",
        "labels": "one-hot",
        "fit": {},
        "notes": [],
        "learning_rate": "LEARNING_RATE",
    }
    line = json.dumps(message).replace('"LEARNING_RATE"', str(10**400))
    os.write(CHANNEL, (line + "\n").encode())
    return model
