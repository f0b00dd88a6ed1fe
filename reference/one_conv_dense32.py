"""Tutorial 001, "Beginners: Keras Mnist Data Classification using CNN": one conv, Dense 32.

One 3x3 valid convolution with 32 filters, max pooling, Flatten, a 32-unit Dense layer,
dropout 0.5 and a softmax: 320 + 173,088 + 330 = 173,738 parameters. The tutorial prints no
summary, so every layer row below follows from the layers it lists. Trained with Adam at batch
256 with early stopping, it reports about 98% test accuracy after about 30 epochs.

It imports ``keras.layers.core`` and ``keras.layers.convolutional``, which Keras 3 removed;
this reference uses ``keras.layers``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
from keras import layers

from reference.tutorial import Choice, Documented, Recipe, layer

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
DENSE_ACTIVATION = "relu"
EARLY_STOPPING_PATIENCE = 5


def build_model() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dense(32, activation=DENSE_ACTIVATION),
            layers.Dropout(0.5),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def callbacks(run_dir: Path) -> list[keras.callbacks.Callback]:
    return [
        keras.callbacks.ModelCheckpoint(str(run_dir / "best_model.keras"), save_best_only=True),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=EARLY_STOPPING_PATIENCE, restore_best_weights=True
        ),
    ]


RECIPE = Recipe(optimizer="Adam()", batch_size=256, epochs=100, validation=0.2, callbacks=callbacks)

DOCUMENTED = Documented(
    tutorial="001",
    title="Beginners: Keras Mnist Data Classification using CNN (parts 1 and 2)",
    layers=(
        layer("Conv2D", (None, 26, 26, 32), 320),
        layer("MaxPooling2D", (None, 13, 13, 32), 0),
        layer("Flatten", (None, 5408), 0),
        layer("Dense", (None, 32), 173_088),
        layer("Dropout", (None, 32), 0),
        layer("Dense", (None, 10), 330),
    ),
    layers_source="derived from the listed layers (no summary printed)",
    total_params=173_738,
    trainable_params=173_738,
    test_accuracy=0.98,
    result="about 99% train and 98% validation accuracy; stops after about 30 epochs; 'around 98%' on test",
)

CHOICES = (
    Choice("activation of Dense 32", "not given", DENSE_ACTIVATION),
    Choice(
        "EarlyStopping settings",
        "its line is cut from the listing",
        f"monitor val_loss, patience {EARLY_STOPPING_PATIENCE}",
    ),
    Choice(
        "best model",
        "reloads best_model.h5 (lowest val_loss) before testing",
        "restore_best_weights=True gives the same weights; best_model.keras is still written",
    ),
)

if __name__ == "__main__":
    from reference.script import main

    main(sys.modules[__name__])
