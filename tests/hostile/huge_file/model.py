"""Writes a 4 GB checkpoint into its scratch folder."""

import os


def build_model():
    block = bytes(1 << 20)
    with open(os.path.join(os.environ["HOME"], "checkpoint.bin"), "wb") as file:
        for _ in range(4096):
            file.write(block)
