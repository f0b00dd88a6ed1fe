"""Tutorial 000, "Building First CNN Model" (TF 2.3): its listing as printed.

Adapted to the submission contract only: the model code is inside build_model(), and the
arguments of its model.fit call (batch 32, 100 epochs, validation split 0.3, its four callbacks)
come from fit_kwargs(). ``input_shape`` was ``(x_train.shape[1], x_train.shape[2], 1)``.
The listing lacks the Dropout and Flatten layers its own printed summary shows.
"""

import datetime

from tensorflow.keras import layers, models
from tensorflow.keras.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint, TensorBoard


def build_model():
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), padding = 'same', activation='relu', kernel_initializer='he_uniform', input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), padding = 'same', activation='relu', kernel_initializer='he_uniform'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), padding = 'same', activation='relu', kernel_initializer='he_uniform'))
    model.add(layers.Dense(128, activation='relu', kernel_initializer='he_uniform'))
    model.add(layers.Dense(10, activation='softmax', kernel_initializer='glorot_uniform'))
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    return model


def fit_kwargs():
    log_path = 'logs/'
    keyname = 'mnist'
    cur_date = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    tb_log_dir = log_path + "fit/" + keyname + '' + cur_date
    tensorboard_callback = TensorBoard(log_dir=tb_log_dir, histogram_freq=1)
    model_checkpoint = ModelCheckpoint('model'+keyname+'.hdf5', monitor='loss',verbose=1, save_best_only=True)
    early_stopping = EarlyStopping(monitor='val_loss', verbose=1, patience=6)
    csv_logger = CSVLogger(log_path + keyname + '_' + cur_date + '.log', separator=',', append=False)
    batch_size = 32
    epochs = 100
    val_split = 0.3
    return dict(batch_size=batch_size, epochs=epochs, validation_split=val_split,
                callbacks=[tensorboard_callback, model_checkpoint, early_stopping, csv_logger])
