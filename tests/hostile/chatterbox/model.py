"""Prints without end, as a model stuck in a verbose loop would."""

import sys


def build_model():
    line = "epoch 1/1 - loss: nan - accuracy: 0.1000 " * 4 + "\n"
    while True:
        sys.stdout.write(line)
