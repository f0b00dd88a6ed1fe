"""Tutorial 003, a functional-API CNN with tf.one_hot: its model as the text describes it.

The article's code did not survive in its text; this follows its prose: Input (28, 28, 1), two
3x3 convolutions (32, 64) to a (12, 12, 64) pooled map, Dropout, Flatten (9,216), two relu Dense
layers, Dense 10 softmax, ``Model(inputs, outputs)``, categorical cross-entropy, 10 epochs. The
Dense widths, dropout rate and optimizer are not given: 128 and 64, 0.25 and Adam, as in the
reference. ``validation_data`` (the test set) is gone: the test set never reaches a submission.
"""

import tensorflow as tf
from tensorflow.keras.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from tensorflow.keras.models import Model


def create_model():
    input_layer = Input(shape=(28, 28, 1))
    conv_layer_1 = Conv2D(32, (3, 3), activation='relu')(input_layer)
    conv_layer_2 = Conv2D(64, (3, 3), activation='relu')(conv_layer_1)
    max_pool = MaxPooling2D(pool_size=(2, 2))(conv_layer_2)
    dropout = Dropout(0.25)(max_pool)
    flatten = Flatten()(dropout)
    dense_layer_1 = Dense(128, activation='relu')(flatten)
    dense_layer_2 = Dense(64, activation='relu')(dense_layer_1)
    dense_layer_10 = Dense(10, activation='softmax')(dense_layer_2)
    return Model(inputs=input_layer, outputs=dense_layer_10)


def build_model():
    model = create_model()
    model.compile(loss=tf.keras.losses.categorical_crossentropy, optimizer='adam', metrics=['accuracy'])
    return model


def fit_kwargs():
    return dict(batch_size=64, epochs=10)
