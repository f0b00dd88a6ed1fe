"""The Keras backends: what the grader's own process says about them without importing any, and
what a child reports after starting one (in a real child process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from grader import backends
from grader.assignment import AssignmentError, load_assignment
from grader.runner.program import read_program
from grader.runner.protocol import SubmissionError
from grader.runner.roles.builder import refuse_tensorflow
from grader.settings import SettingsError, Training, from_table
from tests.conftest import BACKEND


def test_the_backend_here_is_ready_and_the_missing_ones_say_how_to_install_them():
    assert backends.problem(BACKEND) is None
    for other in backends.BACKENDS:
        if backends.version(other) is None:
            assert backends.problem(other) == (
                f"the {backends.TITLES[other]} backend is not installed here: pip install 'grader[{other}]'"
            )
    assert "must be one of tensorflow, jax, torch" in backends.problem("mxnet")


def test_the_grader_process_imports_no_backend():
    """Importing the grader and reading the backends' versions loads none of them."""
    code = (
        "import sys, grader.cli, grader.grade, grader.backends as b; b.problem(b.DEFAULT); b.key('jax');"
        "print([m for m in ('tensorflow', 'jax', 'torch', 'keras') if m in sys.modules])"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_the_environment_line_and_the_key_name_the_backend_and_its_version():
    assert backends.describe({"backend": "jax", "backend_version": "0.10.2", "keras": "3.15.1"}) == (
        "Keras 3.15.1 on JAX 0.10.2"
    )
    assert (
        backends.describe({"tensorflow": "2.15.1", "keras": "2.15.0"}) == "Keras 2.15.0 on TensorFlow 2.15.1"
    )
    key = backends.key(BACKEND)
    assert key["backend"] == BACKEND and key["backend_version"] == backends.version(BACKEND)


def test_a_child_starts_only_its_backend_and_reports_it():
    code = (
        "import json, sys; from grader.backends import start;"
        "found = start(sys.argv[1], threads=1, gpu_memory_mb=None);"
        "others = [m for m in ('tensorflow', 'jax', 'torch') if m != sys.argv[1] and m in sys.modules];"
        "print(json.dumps({**found, 'others': others}))"
    )
    env = {**os.environ, "KERAS_BACKEND": BACKEND}
    result = subprocess.run([sys.executable, "-c", code, BACKEND], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["backend"] == BACKEND and found["backend_version"] == backends.version(BACKEND)
    assert found["devices"][0] == "CPU" and found["gpus"] == [] and found["keras"]
    if BACKEND != "tensorflow":
        assert found["others"] == []  # JAX and PyTorch start without TensorFlow


def test_a_child_whose_environment_names_another_backend_refuses_to_start():
    code = "from grader.backends import start; start('jax', threads=1, gpu_memory_mb=None)"
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode != 0 and "KERAS_BACKEND must be set to 'jax'" in result.stderr


def test_child_environments_share_a_gpu_and_stay_deterministic():
    assert backends.child_env("jax") == {"KERAS_BACKEND": "jax"}  # no GPU: nothing else
    jax = backends.child_env("jax", gpu_fraction=0.05)
    assert (
        jax["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" and jax["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.0500"
    )
    assert backends.child_env("torch", gpu_fraction=0.5)["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert backends.child_env("tensorflow")["KERAS_BACKEND"] == "tensorflow"


def test_the_backend_is_an_assignment_setting_and_a_command_line_override():
    assert from_table(Training, {"max_epochs": 1, "time_limit_s": 9}).backend == "tensorflow"
    assert from_table(Training, {"max_epochs": 1, "time_limit_s": 9, "backend": "torch"}).backend == "torch"
    with pytest.raises(
        SettingsError, match=r"training\.backend must be one of tensorflow, jax, torch, not 'pytorch'"
    ):
        from_table(Training, {"max_epochs": 1, "time_limit_s": 9, "backend": "pytorch"}, prefix="training.")
    task = load_assignment("000")
    assert task.with_backend("jax").training.backend == "jax" and task.training.backend == "tensorflow"
    with pytest.raises(AssignmentError, match="backend must be one of"):
        task.with_backend("theano")


@pytest.mark.parametrize(
    ("source", "line", "shown"),
    [
        ("import tensorflow as tf\n", 1, "import tensorflow as tf"),
        ("import numpy\nfrom tensorflow.keras import layers\n", 2, "from tensorflow.keras import layers"),
        ("import os, tensorflow.keras\n", 1, "import os, tensorflow.keras"),
        ("def build_model():\n    import tensorflow\n", 2, "import tensorflow"),
    ],
)
def test_tensorflow_imports_are_refused_on_other_backends_with_their_line(tmp_path, source, line, shown):
    model = tmp_path / "model.py"
    model.write_text(source)
    with pytest.raises(SubmissionError) as refused:
        refuse_tensorflow(read_program(model), "torch")
    assert str(refused.value).startswith(f"model.py, line {line} imports TensorFlow ({shown}), but ")
    assert "with the PyTorch backend" in str(refused.value)


@pytest.mark.parametrize(
    "source",
    [
        "import keras\nfrom keras import layers\n",
        "import tensorflow_datasets\n",
        "from . import tensorflow\n",
    ],
)
def test_keras_3_code_is_not_refused(tmp_path, source):
    model = tmp_path / "model.py"
    model.write_text(source)
    refuse_tensorflow(read_program(model), "jax")


MISSING = next((b for b in backends.BACKENDS if backends.version(b) is None), None)


@pytest.mark.skipif(MISSING is None, reason="every backend is installed here")
def test_grading_or_checking_on_a_backend_not_installed_stops_before_any_child(tmp_path):
    from grader.check import check_submission
    from grader.grade import grade
    from tests.conftest import SUBMISSIONS

    task = load_assignment("000").with_backend(MISSING)
    expected = (
        f"the {backends.TITLES[MISSING]} backend is not installed here: pip install 'grader\\[{MISSING}\\]'"
    )
    with pytest.raises(AssignmentError, match=expected):
        grade(SUBMISSIONS / "alice", assignment=task, cache_root=tmp_path)
    with pytest.raises(AssignmentError, match=expected):
        check_submission(SUBMISSIONS / "alice", assignment=task)


@pytest.mark.parametrize(
    "error",
    [
        "XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate 2147483648 bytes.",
        "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.10 GiB total capacity)",
        "ResourceExhaustedError: OOM when allocating tensor with shape[1024,1024,64] on /job:localhost",
    ],
)
def test_running_out_of_the_gpu_memory_allowed_says_which_limit_and_what_fits(error):
    from grader.backends import out_of_gpu_memory

    told = out_of_gpu_memory(error, 1024)
    assert told.startswith(error) and "(1,024 MB, limits.gpu_memory_mb)" in told and "smaller batch" in told
    assert out_of_gpu_memory(error, None) == error  # on the CPU the memory limit is the watchdog's
    assert out_of_gpu_memory("ValueError: shapes do not match", 1024) == "ValueError: shapes do not match"


def test_this_runs_cpu_build_is_no_cuda_build_and_cuda_builds_are_told_apart(monkeypatch):
    """Whether a class may pack onto a GPU follows the backend's build, read from its metadata:
    the builds this suite installs are CPU builds (tensorflow-cpu, jax[cpu], torch's +cpu)."""
    assert not backends.cuda_build(BACKEND)

    class Installed:
        def __init__(self, name: str) -> None:
            self.metadata = {"Name": name}

    def installed(*names):
        monkeypatch.setattr(backends.metadata, "distributions", lambda: [Installed(n) for n in names])

    installed("jax", "jaxlib", "jax_cuda13_plugin", "jax-cuda13-pjrt")
    assert backends.cuda_build("jax")
    installed("jax", "jaxlib")
    assert not backends.cuda_build("jax")
    installed("tensorflow", "nvidia-cudnn-cu12", "nvidia-cublas-cu12")
    assert backends.cuda_build("tensorflow")
    installed("tensorflow-cpu", "keras")
    assert not backends.cuda_build("tensorflow")
