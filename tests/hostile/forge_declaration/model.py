"""Writes its own "built" message on the runner's channel before the real one, declaring the
linear classifier with Constant initializers that hold weights fitted offline: the grader's
trainer must refuse it as plain data, whatever the builder says."""

import json
import os
import pathlib
import sys

import keras
import numpy as np

OFFLINE = np.load(pathlib.Path(__file__).parent / "offline.npz")
CHANNEL = int(sys.argv[sys.argv.index("--messages-fd") + 1])


def constant(values):
    return {"class_name": "Constant", "config": {"value": values.tolist()}}


def build_model():
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    architecture = json.loads(model.to_json())
    dense = architecture["config"]["layers"][-1]["config"]
    dense["kernel_initializer"], dense["bias_initializer"] = (
        constant(OFFLINE["kernel"]),
        constant(OFFLINE["bias"]),
    )
    declaration = {
        "format": 1,
        "model": architecture,
        "compile": {"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]},
        "fit": {"batch_size": 32, "epochs": 1, "validation_split": 0.0, "shuffle": True},
        "callbacks": [],
        "not_run": [],
    }
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
        "declaration": declaration,
    }
    os.write(CHANNEL, (json.dumps(message) + "\n").encode())
    return model
