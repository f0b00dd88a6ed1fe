"""Running a notebook or script until its first ``model.fit`` (grader/runner/capture.py), here in
the test's own process on real Keras models and the MNIST sample's real images: what the
student's code sees, what is taken from it, and what stops it."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.runner.capture import VALIDATION_SPLIT, capture
from grader.runner.program import read_program
from grader.runner.protocol import SubmissionError, where

pytestmark = pytest.mark.spread

MODEL = """
import keras
from keras import layers
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
"""
DATA = """
from keras.datasets import mnist
(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
y_train = keras.utils.to_categorical(y_train, 10)
"""


@pytest.fixture(scope="module")
def images(sample):
    return sample.x_train[:700], sample.y_train[:700]


def notebook(folder, *cells: str, name: str = "homework.ipynb"):
    path = folder / name
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Homework"), *map(new_code_cell, cells)]), path)
    return path


def run(path, images):
    return capture(read_program(path), path, *images)


def test_a_notebook_is_graded_by_its_first_fit_call_and_nothing_after_it_runs(tmp_path, images):
    path = notebook(
        tmp_path,
        "%matplotlib inline\n!pip install nothing\n" + MODEL,
        DATA + "import matplotlib.pyplot as plt\nplt.imshow(x_train[0, :, :, 0]); plt.show()",
        "history = model.fit(x_train, y_train, batch_size=64, epochs=3, validation_data=(x_test, y_test))",
        "open('after.txt', 'w').write('ran')\nmodel.predict_classes(x_test)",
    )
    import keras

    fit = keras.Model.fit
    model, requested, notes = run(path, images)
    assert isinstance(model, keras.Sequential) and model.count_params() == 7_850
    assert requested == {"batch_size": 64, "epochs": 3, "validation_split": VALIDATION_SPLIT}
    assert not (tmp_path / "after.txt").exists()
    assert keras.Model.fit is fit  # put back: the builder trains with it under trainer = "submission"
    assert (
        notes[0]
        == "IPython lines skipped (the grader runs Python only): %matplotlib inline, !pip install nothing"
    )
    assert notes[1].startswith(
        "Graded the model and the settings of the fit call at homework.ipynb, code cell 3, line 1"
    )
    assert (
        "validation_data=(...) at homework.ipynb, code cell 3, line 1 was replaced by validation_split=0.1"
        in notes[2]
    )


def test_load_data_returns_the_grader_s_training_images_and_holds_its_test_part_out_of_them(tmp_path, images):
    """The "test" images a notebook gets are a slice of the training images it was handed: the real
    test set is not there to be found, under any of the import paths the tutorials use."""
    path = tmp_path / "train.py"
    path.write_text(
        "import numpy as np\nfrom keras.datasets import mnist, fashion_mnist\nimport keras\n"
        "a = mnist.load_data()\nb = keras.datasets.fashion_mnist.load_data()\n"
        "np.savez('seen.npz', xtr=a[0][0], ytr=a[0][1], xte=a[1][0], yte=a[1][1], same=b[1][0])\n"
        "raise SystemExit('stop here')\n"
    )
    with pytest.raises(SystemExit):
        run(path, images)
    seen = np.load(tmp_path / "seen.npz")
    x, y = images
    assert seen["xtr"].dtype == np.uint8 and seen["xtr"].shape == (600, 28, 28)
    np.testing.assert_array_equal(np.concatenate([seen["xtr"], seen["xte"]]), x.reshape(-1, 28, 28))
    np.testing.assert_array_equal(np.concatenate([seen["ytr"], seen["yte"]]), y)
    np.testing.assert_array_equal(seen["same"], seen["xte"])
    import keras

    assert keras.datasets.mnist.load_data.__code__.co_name == "load_data"  # put back


def test_a_bare_except_does_not_let_the_code_run_on_past_fit(tmp_path, images):
    path = notebook(
        tmp_path,
        MODEL + DATA,
        "try:\n    model.fit(x_train, y_train, epochs=2)\nexcept:\n    pass\nmodel.fit(x_train, y_train, epochs=9)",
        "open('after.txt', 'w').write('ran')",
    )
    _, requested, _ = run(path, images)
    assert requested == {"batch_size": 32, "epochs": 2}  # Keras's default batch, the first call's epochs
    assert not (tmp_path / "after.txt").exists()


def test_a_script_that_defines_build_model_and_never_fits_is_graded_as_a_model_py(tmp_path, images):
    path = tmp_path / "cnn.py"
    path.write_text(
        "import keras\ndef build_model():\n"
        + "\n".join("    " + line for line in MODEL.strip().splitlines())
        + "\n    return model\ndef fit_kwargs():\n    return {'epochs': 4}\n"
    )
    model, requested, notes = run(path, images)
    assert model.count_params() == 7_850 and requested == {"epochs": 4} and notes == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "homework.ipynb ran to its end without calling fit on a Keras model"),
        ("model.fit(x_train, y_train, class_weight={0: 2.0})", "passes class_weight= to fit"),
        ("model.fit(iter([x_train]))", "fit was given x as a list_iterator"),
        ("name = input('Your name? ')", "the code calls input(), but no one is there to type"),
        (
            "import keras_metrics as km",
            "the code imports keras_metrics (homework.ipynb, code cell 3, line 1: import keras_metrics as km), "
            "which the grader does not install",
        ),
    ],
)
def test_what_cannot_be_graded_says_why_and_where(tmp_path, images, code, message):
    path = notebook(tmp_path, MODEL, DATA, code)
    with pytest.raises(SubmissionError, match=None) as refused:
        run(path, images)
    assert message in str(refused.value)


def test_an_error_before_fit_names_the_cell_and_its_line(tmp_path, images):
    path = notebook(tmp_path, MODEL, "x = 1\ny = x_trian.shape")
    with pytest.raises(NameError):
        try:
            run(path, images)
        except NameError:
            assert where(path) == "homework.ipynb, code cell 2, line 2: y = x_trian.shape"
            raise


def test_a_syntax_error_names_the_cell(tmp_path, images):
    path = notebook(tmp_path, MODEL, "print('a'")
    with pytest.raises(SyntaxError):
        try:
            run(path, images)
        except SyntaxError:
            assert where(path).startswith("homework.ipynb, code cell 2, line 1")
            raise


def test_the_images_the_code_fit_on_are_compared_with_the_grader_s(tmp_path, images):
    path = notebook(
        tmp_path,
        MODEL.replace("keras.Input((28, 28, 1)), ", "keras.Input((784,)), ").replace(
            "layers.Flatten(), ", ""
        ),
        "from keras.datasets import mnist\n(x_train, y_train), _ = mnist.load_data()\n"
        "x_train = x_train.reshape(-1, 784)\ny_train = keras.utils.to_categorical(y_train)",
        "model.fit(x_train, y_train, epochs=1)",
    )
    _, _, notes = run(path, images)
    assert (
        "Your code fit on images of shape (600, 784) (shaped at homework.ipynb, code cell 2, line 3: "
        "x_train = x_train.reshape(-1, 784))" in " ".join(notes)
    )
    assert "Your code fit on images scaled 0..255" in " ".join(notes)


def test_a_notebook_that_is_not_json_is_told_to_save_it_again(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps({"cells": "nope"})[:-3])
    with pytest.raises(SubmissionError, match="cannot be read as a Jupyter notebook"):
        read_program(path)
