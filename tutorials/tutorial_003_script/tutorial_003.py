"""Tutorial 003, a functional-API CNN with tf.one_hot, typed in as a top-level script.

The article's code did not survive in its text; this follows its prose: load MNIST, add the
channel dimension and scale to [0, 1], one-hot the labels with tf.one_hot, Input (28, 28, 1),
two 3x3 convolutions (32, 64) to a (12, 12, 64) pooled map, Dropout, Flatten, two relu Dense
layers, Dense 10 softmax, Model(inputs, outputs), categorical cross-entropy, 10 epochs with the
test set as validation_data. The Dense widths, dropout rate, optimizer and batch size are not
given: 128 and 64, 0.25, Adam and 64, as in the reference.
"""

# %%
import numpy as np
import tensorflow as tf
from tensorflow.keras.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from tensorflow.keras.models import Model

# %%
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 28, 28, 1) / 255.0
x_test = x_test.reshape(-1, 28, 28, 1) / 255.0

# %%
y_train = tf.one_hot(y_train.astype(np.int32), depth=10)
y_test = tf.one_hot(y_test.astype(np.int32), depth=10)

# %%
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


model = create_model()
model.compile(loss=tf.keras.losses.categorical_crossentropy, optimizer='adam', metrics=['accuracy'])

# %%
batch_size = 64
epochs = 10
model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_data=(x_test, y_test))

# %%
model.evaluate(x_test, y_test)
