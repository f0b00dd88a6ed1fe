"""Why a declaration's 128 numbers cannot buy a grade (grader/declaration.py, ``NUMBER_BUDGET``).

A number in a declaration carries at most one weight into a model, so a declaration within the
budget carries at most a classifier of that many weights. Here the strongest such classifiers we
could build are fitted as well as they can be, on the very images they are scored on (all
10,000 of the MNIST sample, its test images included, 60 epochs of Adam): what a student who
fitted them offline on the public digits could hope to smuggle in. Every one stays far below
what the references reach by training (97% and more, ``reference/``'s documented figures), and
below an honest linear classifier trained for one epoch (about 88% on the sample). The figures
are in docs/security.md.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow

HONEST_FLOOR = 0.97  # the lowest accuracy a reference's tutorial documents after training, rounded down


def families():
    """Classifiers of at most 128 weights: averages of the image read by dense layers, and small
    convolutions."""
    from keras import layers

    return {
        "9 averages, dense 10": [
            layers.AveragePooling2D(10, padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        "16 averages, dense 4, dense 10": [
            layers.AveragePooling2D(7),
            layers.Flatten(),
            layers.Dense(4, activation="relu"),
            layers.Dense(10),
        ],
        "conv 2, conv 3, global average, dense 10": [
            layers.Conv2D(2, 3, strides=2, activation="relu"),
            layers.Conv2D(3, 3, strides=2, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, use_bias=False),
        ],
        "conv 2 of 4 x 4, 8 averages, dense 10": [
            layers.Conv2D(2, 4, strides=3, activation="relu", use_bias=False),
            layers.AveragePooling2D(5, padding="same"),
            layers.Flatten(),
            layers.Dense(10, use_bias=False),
        ],
    }


def test_no_classifier_of_128_weights_comes_near_an_honest_model(sample):
    import keras

    from grader.declaration import NUMBER_BUDGET
    from reference import REFERENCES, load

    x = np.concatenate([sample.x_train, sample.x_test]).reshape(-1, 28, 28, 1).astype("float32") / 255.0
    y = np.concatenate([sample.y_train, sample.y_test])
    x_test = sample.x_test.reshape(-1, 28, 28, 1).astype("float32") / 255.0
    found = {}
    for name, stack in families().items():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((28, 28, 1)), *stack, keras.layers.Activation("softmax")])
        assert model.count_params() <= NUMBER_BUDGET, name
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=128, epochs=60, verbose=0)
        scores = model.predict(x_test, verbose=0)
        found[name] = (model.count_params(), float(np.mean(np.argmax(scores, axis=1) == sample.y_test)))
    print({name: f"{weights} weights: {accuracy:.2%}" for name, (weights, accuracy) in found.items()})
    documented = [load(name).DOCUMENTED.test_accuracy for name in REFERENCES]
    assert min(accuracy for accuracy in documented if accuracy) >= HONEST_FLOOR - 0.01
    assert max(accuracy for _, accuracy in found.values()) < HONEST_FLOOR - 0.15
