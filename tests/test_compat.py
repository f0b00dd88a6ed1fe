"""grader compat: the matrix, the reasons it gives, the table it writes, and a real run."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from grader.backends import TITLES, version
from grader.cli import main
from grader.compat.explain import explain, first_sentence
from grader.compat.matrix import COLUMNS, NEWEST, VERSIONS, column_backend, install_steps, keras_major
from grader.compat.run import compat
from grader.compat.table import Cell, Column, CompatTable
from tests.conftest import BACKEND, TUTORIALS

pytestmark = pytest.mark.matrix  # runs on every TensorFlow version in CI

RUNNING = ".".join((version("tensorflow") or "").split(".")[:2])


def test_the_matrix_spans_keras_2_and_3_and_ends_at_the_newest():
    assert {"2.15", "2.16", NEWEST} <= set(VERSIONS) and VERSIONS[-1] == NEWEST
    assert keras_major("2.15") == 2 and keras_major("2.16") == 3 and keras_major("2.21") == 3
    assert len(VERSIONS) > 3  # at least one release between 2.16 and the newest


def test_the_gpu_build_replaces_the_cpu_build():
    assert install_steps("2.18", "cpu", ".") == [["install", "-e", ".", "tensorflow-cpu==2.18.*"]]
    steps = install_steps("2.18", "gpu", ".")
    assert steps[1:] == [["uninstall", "tensorflow-cpu"], ["install", "tensorflow[and-cuda]==2.18.*"]]
    with pytest.raises(ValueError, match="device must be one of cpu, gpu"):
        install_steps("2.18", "tpu", ".")


@pytest.mark.parametrize(
    ("message", "reason"),
    [  # each message as a real grade printed it (see tests/test_tutorials.py)
        (
            "ValueError: Argument(s) not recognized: {'lr': 0.0001}",
            "Keras 3 rejects `lr`; use `learning_rate`",
        ),
        (
            "ModuleNotFoundError: No module named 'keras.layers.convolutional'",
            "Keras 2.13+ has no `keras.layers.convolutional`; import layers from `keras.layers`",
        ),
        (
            "`lr` is deprecated in Keras optimizer, please use `learning_rate` or use the legacy optimizer",
            "this Keras ignores `lr` with only a warning and trains at the default rate; use `learning_rate`",
        ),
        (
            "The model outputs (None, 7, 7, 10); it must output (None, 10): one score per class for each image.",
            "Dense acts on a 4-D feature map",
        ),
    ],
)
def test_known_failures_get_a_reason_to_act_on(message, reason):
    assert explain(message).startswith(reason)


def test_an_unknown_failure_shows_the_graders_first_sentence():
    assert explain("The model did not build: RuntimeError: boom. More text.") == "RuntimeError: boom."
    assert (
        first_sentence("Not run: training did not finish (see above).")
        == "training did not finish (see above)."
    )


def test_adadeltas_default_rate_explains_a_failed_accuracy_only():
    model = {"optimizer": "Adadelta", "learning_rate": 0.001}
    assert explain("Test accuracy 40%.", model, check_kind="accuracy").startswith(
        "Adadelta() starts at learning rate 0.001"
    )
    assert explain(
        "Test accuracy 40%.", {"optimizer": "Adadelta", "learning_rate": 1.0}, check_kind="accuracy"
    ) == ("Test accuracy 40%.")


def test_the_table_renders_as_markdown_json_and_for_the_terminal():
    table = CompatTable("tutorials/x", "x across versions")
    table.columns += [
        Column("2.15", "2.15.1", "2.15.0", "CPU: test", 3, 10),
        Column("2.16", error="no wheel"),
    ]
    table.add("Output shape", "2.15", Cell("failed", "0/1", "Dense acts on a 4-D | map"))
    table.add("Output shape", "2.16", Cell("error", "", "no wheel"))
    markdown = table.to_markdown()
    assert "| Check | TF 2.15.1 · Keras 2.15.0 | TF 2.16 |" in markdown
    assert "| Output shape | ✗ 0/1: Dense acts on a 4-D \\| map | ✗: no wheel |" in markdown
    assert "| **Score** | **3 / 10** | **✗ error** |" in markdown
    data = table.to_dict()
    assert data["rows"][0]["cells"]["2.15"] == {
        "mark": "failed",
        "text": "0/1",
        "reason": "Dense acts on a 4-D | map",
    }
    console = Console(file=io.StringIO(), width=160)
    table.render(console)
    assert "Dense acts on a 4-D | map" in console.file.getvalue()


@pytest.mark.skipif(BACKEND != "tensorflow", reason="compat grades on the TensorFlow installed here")
def test_compat_grades_the_002_listing_and_explains_the_keras_3_failure(tmp_path):
    """A real run on the TensorFlow this suite runs on (its environment is this one)."""
    console = Console(file=io.StringIO(), width=160)
    table = compat(TUTORIALS / "tutorial_002", versions=(RUNNING,), out=tmp_path, console=console)
    [column] = table.columns
    assert column.tensorflow.startswith(RUNNING) and column.device.startswith(("CPU: ", "GPU: "))
    written = json.loads((tmp_path / "compat.json").read_text())
    assert written == table.to_dict()
    assert (tmp_path / "versions" / RUNNING / "results.json").is_file()
    cell = table.cell("Output shape", RUNNING)
    if keras_major(RUNNING) == 3:
        assert cell == Cell("not run", "0/1", "Keras 3 rejects `lr`; use `learning_rate`")
        assert "Keras 3 rejects `lr`; use `learning_rate`" in (tmp_path / "compat.md").read_text()
    else:
        assert cell is not None and cell.mark == "failed" and cell.reason.startswith("Dense acts on a 4-D")


@pytest.mark.skipif(
    BACKEND == "tensorflow", reason="a backend column is graded in this environment on JAX or PyTorch"
)
def test_compat_has_a_column_for_keras_3_on_this_backend(tmp_path):
    """The 002 listing on JAX or PyTorch: its column is headed by the backend and its version."""
    console = Console(file=io.StringIO(), width=160)
    table = compat(TUTORIALS / "tutorial_002", versions=(BACKEND,), out=tmp_path, console=console)
    [column] = table.columns
    assert (column.backend, column.backend_version) == (BACKEND, version(BACKEND)) and not column.error
    assert column.heading() == f"{TITLES[BACKEND]} {version(BACKEND)} · Keras {version('keras')}"
    assert table.cell("Output shape", BACKEND) == Cell(
        "not run", "0/1", "Keras 3 rejects `lr`; use `learning_rate`"
    )
    assert f"{TITLES[BACKEND]} on CPU: " in (tmp_path / "compat.md").read_text()


def test_compat_columns_are_versions_then_keras_3_backends(capsys):
    assert list(COLUMNS) == [*VERSIONS, "jax", "torch"]
    assert [column_backend(column) for column in ("2.15", "jax", "torch")] == ["tensorflow", "jax", "torch"]
    assert main(["compat", "tutorials/tutorial_002", "--versions", "2.15,mxnet"]) == 2
    assert "mxnet is neither a TensorFlow version of the matrix" in capsys.readouterr().out


def test_the_github_workflow_runs_the_same_matrix():
    workflow = (Path(__file__).parent.parent / ".github" / "workflows" / "matrix.yml").read_text()
    matrices = re.findall(r"tensorflow: \[(.*)\]", workflow)
    assert matrices and all(tuple(json.loads(f"[{found}]")) == VERSIONS for found in matrices)
