"""Tries to write its own results, another student's submission, the grader's source and its
own submission folder (the first three paths are in targets.txt beside it)."""

import pathlib

HERE = pathlib.Path(__file__).resolve().parent
TARGETS = [*(HERE / "targets.txt").read_text().split(), str(HERE / "edited.txt")]
for target in TARGETS:
    try:
        pathlib.Path(target).write_text('{"score": 100}')
        print("WROTE", target)
    except OSError as error:
        print("refused", target, type(error).__name__)


def build_model():
    raise RuntimeError("nothing to build")
