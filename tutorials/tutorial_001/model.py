"""Tutorial 001, "Beginners: Keras Mnist Data Classification using CNN": its listing as printed.

Adapted to the submission contract only: the model code is inside build_model(), and the
arguments of its second model.fit call (validation split 0.2, batch 256, 100 epochs, its
callbacks) come from fit_kwargs(). The listing's layer lines and EarlyStopping settings did not
survive in the text; they follow its prose (Convolution2D 32 3x3 relu, MaxPooling 2, Flatten,
Dense 32, Dropout 0.5, Dense 10 softmax) with EarlyStopping's defaults.
"""

import keras
from keras.models import Sequential
from keras.layers.core import Dense, Dropout, Activation, Flatten
from keras.layers.convolutional import Convolution2D, MaxPooling2D


def build_model():
    #CNN model
    model = Sequential()
    model.add(Convolution2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(32))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer = 'adam', metrics = ['accuracy'])
    return model


def fit_kwargs():
    #Training with callbacks
    my_callbacks = [
        keras.callbacks.ModelCheckpoint(filepath='best_model.h5', save_best_only=True),
        keras.callbacks.EarlyStopping(),
    ]
    return dict(validation_split=0.2, batch_size=256, epochs=100, callbacks=my_callbacks)
