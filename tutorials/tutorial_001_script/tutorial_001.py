"""Tutorial 001, "Beginners: Keras Mnist Data Classification using CNN" (parts 1 and 2), typed in
as a top-level script.

Its code as printed, one `# %%` cell per listing, with the second ("with callbacks") model.fit
call. The model's layer lines and the EarlyStopping settings did not survive in the article's
text; they follow its prose (Convolution2D 32 3x3 relu, MaxPooling 2, Flatten, Dense 32,
Dropout 0.5, Dense 10 softmax) with EarlyStopping's defaults. It imports keras.layers.core and
keras.layers.convolutional, which Keras 2.13 and later do not have.
"""

# %%
#Importing some Important Keras modules or libraries
import keras
from keras.models import Sequential
from keras.datasets import mnist
from keras.layers.core import Dense, Dropout, Activation, Flatten
from keras.layers.convolutional import Convolution2D, MaxPooling2D
import numpy as np

# %%
#Loading Dataset
(x_train, y_train), (x_test, y_test) = mnist.load_data()
print(x_train.shape, y_train.shape, x_test.shape, y_test.shape)

# %%
# Appending extra chanell dimension at last position
x_train = np.expand_dims(x_train,axis=-1)
x_test = np.expand_dims(x_test,axis=-1)

# %%
#Converting labels into one hot encoded vectors
num_classes = 10
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

# %%
#Preprocessing the data
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255

# %%
#CNN model
model = Sequential()
model.add(Convolution2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(32))
model.add(Dropout(0.5))
model.add(Dense(10, activation='softmax'))
model.compile(loss='categorical_crossentropy', optimizer = 'adam', metrics = ['accuracy'])

# %%
#Training with callbacks
my_callbacks = [
    keras.callbacks.ModelCheckpoint(filepath='best_model.h5', save_best_only=True),
    keras.callbacks.EarlyStopping(),
]
history = model.fit(x_train,y_train,validation_split=0.2 , batch_size=256,epochs=100,callbacks=my_callbacks)

# %%
loss,acc = model.evaluate(x_test,y_test)
