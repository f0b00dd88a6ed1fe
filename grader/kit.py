"""``grader init ASSIGNMENT DIR``: the starting kit an instructor hands out.

It holds what a student needs to begin and to run ``grader check`` anywhere: a ``model.py``
skeleton (or, with ``--notebook``, a notebook written as the tutorials are) that builds and
trains, and fails the layer checks until the student writes the tutorial's layers;
``submission.toml`` naming the assignment, the assignment file itself, and ``check-images.npz``,
a few hundred images from the training split, never the test split.
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


NOTEBOOK_FILE = "mnist_cnn.ipynb"
NOTEBOOK_CELLS = (
    "import keras\nfrom keras import layers\nfrom keras.datasets import mnist",
    "(x_train, y_train), (x_test, y_test) = mnist.load_data()\n"
    'x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255\n'
    'x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255',
    "# A start that builds and trains: replace it with the tutorial's layers.\n"
    "model = keras.Sequential(\n"
    "    [\n"
    "        keras.Input(shape=(28, 28, 1)),\n"
    "        layers.Flatten(),\n"
    '        layers.Dense(10, activation="softmax"),\n'
    "    ]\n"
    ")\n"
    'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])\n'
    "model.summary()",
    "history = model.fit(x_train, y_train, batch_size=128, epochs={epochs}, validation_split=0.1)",
    "model.evaluate(x_test, y_test)",
)
NOTEBOOK_INTRO = """# {title}

Build, compile and fit a Keras model for 28x28x1 images and 10 classes. The grader runs this
notebook up to its first `model.fit` call and grades that model with that call's settings
(training it itself); nothing after it runs. Grading checks:

{rules}

Check your work before you submit (no test data needed, a few seconds): `grader check .`
"""


class KitError(ValueError):
    """The kit cannot be written where asked."""


def write_kit(
    assignment: str | Path, out: Path, *, data_dir: Path | None = None, notebook: bool = False
) -> list[Path]:
    """Write the starting kit for ``assignment`` into ``out`` (a new or empty folder), with a
    ``model.py`` skeleton or, with ``notebook``, a starter notebook."""
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
    if notebook:
        model = out / NOTEBOOK_FILE
        write_text_atomic(model, starter_notebook(task.title, rules, task.training.max_epochs))
    else:
        model = out / MODEL_FILE
        write_text_atomic(
            model, SKELETON.format(title=task.title, rules=rules, epochs=task.training.max_epochs)
        )
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


def starter_notebook(title: str, rules: str, epochs: int) -> str:
    """The kit's notebook, as nbformat writes one (version 4)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = [new_markdown_cell(NOTEBOOK_INTRO.format(title=title, rules=rules))]
    cells += [new_code_cell(source.format(epochs=epochs)) for source in NOTEBOOK_CELLS]
    return nbformat.writes(new_notebook(cells=cells)) + "\n"


def describe_kit(paths: list[Path]) -> str:
    return textwrap.dedent(
        f"""\
        Wrote the starting kit to {paths[0].parent}: {", ".join(path.name for path in paths)}.
        Students edit {paths[0].name} and run `grader check {paths[0].parent}`; it needs no test data."""
    )
