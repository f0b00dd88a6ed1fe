"""``grader init ASSIGNMENT DIR``: the starting kit an instructor hands out.

It holds what a student needs to begin and to run ``grader check`` anywhere: a ``model.py``
skeleton that builds and trains (and fails the layer checks until the student writes the
tutorial's layers), ``submission.toml`` naming the assignment, the assignment file itself, and
``check-images.npz``, a few hundred images from the training split, never the test split.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from grader.assignment import load_assignment
from grader.atomic import atomic_open, write_text_atomic
from grader.check import CHECK_COUNT, CHECK_IMAGES, KIT_ASSIGNMENT
from grader.data import load_dataset
from grader.submission import MODEL_FILE, SETTINGS_FILE

SKELETON = '''\
"""{title}

build_model() returns a compiled Keras model for 28x28x1 images and 10 classes. Grading checks:
{rules}

Check your work before you submit (no test data needed, a few seconds):

    grader check .
"""

import keras
from keras import layers


def build_model() -> keras.Model:
    # A start that builds and trains: replace it with the tutorial's layers.
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fit_kwargs() -> dict:
    return {{"batch_size": 128, "epochs": {epochs}}}
'''


class KitError(ValueError):
    """The kit cannot be written where asked."""


def write_kit(assignment: str | Path, out: Path, *, data_dir: Path | None = None) -> list[Path]:
    """Write the starting kit for ``assignment`` into ``out`` (a new or empty folder)."""
    task = load_assignment(assignment)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise KitError(f"{out} is not empty: give a new folder for the starting kit.")
    data = load_dataset(task.dataset, data_dir=data_dir, allow_download=False)
    out.mkdir(parents=True, exist_ok=True)
    rules = "\n".join(
        f"- {check.name}: {check.describe()} ({check.points:g} point{'' if check.points == 1 else 's'})"
        for check in task.checks
    )
    model = out / MODEL_FILE
    write_text_atomic(model, SKELETON.format(title=task.title, rules=rules, epochs=task.training.max_epochs))
    settings = out / SETTINGS_FILE
    write_text_atomic(
        settings,
        f'assignment = "{task.name}"\n'
        '# display_name = "a name for the leaderboard (optional; without one you appear under a pseudonym)"\n',
    )
    copy = out / KIT_ASSIGNMENT
    write_text_atomic(copy, Path(task.path).read_text(encoding="utf-8") if task.path else "")
    images = out / CHECK_IMAGES
    with atomic_open(images) as handle:
        np.savez_compressed(handle, x=data.x_train[:CHECK_COUNT], y=data.y_train[:CHECK_COUNT])
    return [model, settings, copy, images]


def describe_kit(paths: list[Path]) -> str:
    return textwrap.dedent(
        f"""\
        Wrote the starting kit to {paths[0].parent}: {", ".join(path.name for path in paths)}.
        Students edit {MODEL_FILE} and run `grader check {paths[0].parent}`; it needs no test data."""
    )
