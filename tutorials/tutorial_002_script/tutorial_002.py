"""Tutorial 002, "Building a CNN model in Keras using MNIST dataset" (2019), typed in as a script.

Its code as printed, one `# %%` cell per step, with its `%matplotlib inline` line kept as a
comment (a script is plain Python; the notebook form keeps the magic). Where the article's text
lost part of a line, it is restored from its own steps: the float conversion and scaling of
step 4 and the model.fit call's start; its fit call names x_test where every other line says
X_test. The listing lacks the Flatten and Dropout layers its text and printed summary have, and
passes Adam(lr=...), which Keras 3 rejects.
"""

# %%
from keras.datasets import mnist
from keras.utils import to_categorical
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense, Dropout
from keras.optimizers import Adam
import matplotlib.pyplot as plt
# %matplotlib inline

# %%
(X_train, y_train), (X_test, y_test) = mnist.load_data()
print(X_train.shape, X_test.shape, y_train.shape, y_test.shape)
plt.imshow(X_train[0], cmap='gray')

# %%
X_train = X_train.reshape(X_train.shape[0], 28, 28, 1)
X_test = X_test.reshape(X_test.shape[0], 28, 28, 1)

# %%
X_train = X_train.astype('float32')
X_test = X_test.astype('float32')
X_train /= 255
X_test /= 255

# %%
y_train = to_categorical(y_train)
y_test = to_categorical(y_test)

# %%
model = Sequential()
model.add(Conv2D(32, kernel_size=(5,5), input_shape=(28,28,1), padding='same', activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Conv2D(64, kernel_size=(5,5), padding='same', activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dense(1024, activation='relu'))
model.add(Dense(10, activation='softmax'))
model.summary()

# %%
model.compile(Adam(lr=0.0001), loss='categorical_crossentropy', metrics=['accuracy'])

# %%
history_cnn = model.fit(X_train, y_train, validation_data=(X_test, y_test), batch_size=128, epochs=5, verbose=2)

# %%
score = model.evaluate(X_test, y_test, verbose=0)
print('Loss:', score[0])
print('Accuracy:', score[1])
