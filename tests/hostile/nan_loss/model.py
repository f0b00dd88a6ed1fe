"""A learning rate so large that the weights overflow and the loss turns to NaN in the first epoch."""

import keras


def build_model():
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        keras.optimizers.SGD(learning_rate=1e38),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model
