"""Holds on to ever more memory, 64 MB at a time, every page written."""

HOARD = []


def build_model():
    while True:
        HOARD.append(b"\x01" * (64 << 20))
