"""Spins in build_model(): the CPU-time limit (set below the wall-time limit here) stops it."""


def build_model():
    total = 0
    while True:
        total += 1
