"""Tutorial 004, "A simple 2D CNN for MNIST digit recognition" (2020): its listing as printed.

Adapted to the submission contract only: the model code is inside build_model(), and its
model.fit arguments (batch 128, 10 epochs, verbose 1) come from fit_kwargs();
``validation_data=(X_test, y_test)`` is gone because the test set never reaches a submission.
``input_shape`` came from ``k.image_data_format()``, which is channels_last here. The listing's
layer imports did not survive in its text; these are the standalone-Keras ones it ran with.
"""

import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Flatten
from keras.layers import Conv2D, MaxPooling2D

img_rows, img_cols = 28, 28
input_shape = (img_rows, img_cols, 1)
#set number of categories
num_category = 10


def build_model():
    ##model building
    model = Sequential()
    #convolutional layer with rectified linear unit activation
    model.add(Conv2D(32, kernel_size=(3, 3),
                     activation='relu',
                     input_shape=input_shape))
    #32 convolution filters used each of size 3x3
    #again
    model.add(Conv2D(64, (3, 3), activation='relu'))
    #64 convolution filters used each of size 3x3
    #choose the best features via pooling
    model.add(MaxPooling2D(pool_size=(2, 2)))
    #randomly turn neurons on and off to improve convergence
    model.add(Dropout(0.25))
    #flatten since too many dimensions, we only want a classification output
    model.add(Flatten())
    #fully connected to get all relevant data
    model.add(Dense(128, activation='relu'))
    #one more dropout for convergence' sake :)
    model.add(Dropout(0.5))
    #output a softmax to squash the matrix into output probabilities
    model.add(Dense(num_category, activation='softmax'))
    #Adaptive learning rate (adaDelta) is a popular form of gradient descent rivaled only by adam and adagrad
    #categorical ce since we have multiple classes (10)
    model.compile(loss=keras.losses.categorical_crossentropy,
                  optimizer=keras.optimizers.Adadelta(),
                  metrics=['accuracy'])
    return model


def fit_kwargs():
    batch_size = 128
    num_epoch = 10
    return dict(batch_size=batch_size, epochs=num_epoch, verbose=1)
