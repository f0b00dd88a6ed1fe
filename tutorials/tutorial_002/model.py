"""Tutorial 002, "Building a CNN model in Keras using MNIST dataset" (2019): its listing as printed.

Adapted to the submission contract only: the model code is inside build_model(), and its
model.fit arguments (batch 128, 5 epochs) come from fit_kwargs();
``validation_data=(x_test, y_test)`` is gone because the test set never reaches a submission.
The listing lacks the Flatten and Dropout layers its text and printed summary have.
"""

from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense, Dropout
from keras.optimizers import Adam


def build_model():
    model = Sequential()
    model.add(Conv2D(32, kernel_size=(5,5), input_shape=(28,28,1), padding='same', activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, kernel_size=(5,5), padding='same', activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dense(1024, activation='relu'))
    model.add(Dense(10, activation='softmax'))
    model.compile(Adam(lr=0.0001), loss='categorical_crossentropy', metrics=['accuracy'])
    return model


def fit_kwargs():
    return dict(batch_size=128, epochs=5, verbose=2)
