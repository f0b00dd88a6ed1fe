"""Tries to write its own results, into the grader's code and into its own submission folder."""

import os
import pathlib

TARGETS = [
    os.environ.get("HOSTILE_TARGET", "/tmp/hostile-target/results.json"),
    str(pathlib.Path(__file__).resolve().parent / "edited.txt"),
]
for target in TARGETS:
    try:
        pathlib.Path(target).write_text('{"score": 100}')
        print("WROTE", target)
    except OSError as error:
        print("refused", target, type(error).__name__)


def build_model():
    raise RuntimeError("nothing to build")
