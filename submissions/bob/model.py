"""Tutorial 000's code listing typed in as printed.

The listing leaves out the Flatten layer (and the Dropout layers) that the tutorial's own
summary shows, so the Dense layers act on (7, 7, 64) feature maps and the model outputs
(None, 7, 7, 10). Fails the output-shape and layer-shape checks; training is skipped.
"""

from keras import layers, models


def build_model():
    model = models.Sequential()
    model.add(layers.Input(shape=(28, 28, 1)))
    model.add(layers.Conv2D(32, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"))
    model.add(layers.Dense(128, activation="relu", kernel_initializer="he_uniform"))
    model.add(layers.Dense(10, activation="softmax", kernel_initializer="glorot_uniform"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
