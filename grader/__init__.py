"""Grader for the classic Keras MNIST CNN tutorials: references, data, checks and reports."""

__version__ = "0.2.8"
