"""Building a model file in a child process: facts come back as data, failures as messages."""

from __future__ import annotations

import os

import pytest

from grader.backends import version
from grader.runner import RunnerError, describe_file
from tests.conftest import BACKEND, FIXTURES

# on every TensorFlow version and Keras backend in CI; each test starts its own child
pytestmark = [pytest.mark.matrix, pytest.mark.spread]


def test_facts_come_back_from_the_child():
    facts = describe_file(FIXTURES / "listings" / "tutorial_002_as_listed.py", backend=BACKEND)
    assert facts.total_params == 128_906
    assert facts.output_shape == (None, 7, 7, 10)


def test_the_model_file_is_not_imported_into_this_process():
    import sys

    describe_file(FIXTURES / "listings" / "tutorial_002_as_listed.py", backend=BACKEND)
    assert "submission_model" not in sys.modules
    assert not any("tutorial_002_as_listed" in name for name in sys.modules)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def build_model(:\n", "SyntaxError"),
        ("x = 1\n", "defines no build_model"),
        ("def build_model():\n    raise ValueError('my bug')\n", "ValueError: my bug"),
    ],
)
def test_broken_model_files_fail_with_the_students_error(tmp_path, source, message):
    path = tmp_path / "model.py"
    path.write_text(source)
    with pytest.raises(RunnerError, match=message):
        describe_file(path, backend=BACKEND)


def test_a_model_file_that_hangs_is_stopped(tmp_path):
    path = tmp_path / "model.py"
    path.write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(RunnerError, match="stopped after 2 s while building the model"):
        describe_file(path, backend=BACKEND, timeout=2)


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(RunnerError, match="does not exist"):
        describe_file(tmp_path / os.sep.join(("nowhere", "model.py")))


def test_a_child_that_dies_is_reported_with_its_exit_code(tmp_path):
    from grader.runner.supervisor import PhaseFailed, Runner, Subject
    from grader.settings import Training

    model = tmp_path / "model.py"
    model.write_text("import os\n\ndef build_model():\n    print('about to exit')\n    os._exit(7)\n")
    with (
        Runner(
            Subject.submission(model),
            recipe="conv_32_64_64",
            training=Training(1, 60, backend=BACKEND),
            work=tmp_path / "work",
        ) as child,
        pytest.raises(PhaseFailed, match="exited with code 7 while building the model") as failed,
    ):
        child.build()
    assert failed.value.log == "about to exit"  # what the student printed, and nothing of the sandbox's


def test_stop_returns_once_every_process_of_the_child_is_gone(tmp_path):
    """stop() kills the whole tree and waits for it: the sandbox's inner processes (in a session of
    their own, which dies only after the outer one) and what the submission started."""
    import threading
    import time

    from grader.runner.supervisor import PhaseFailed, Runner, Subject, _alive
    from grader.runner.watchdog import tree
    from grader.settings import Training

    model = tmp_path / "model.py"
    model.write_text(
        "import subprocess, time\n\ndef build_model():\n    subprocess.Popen(['sleep', '2718'])\n    time.sleep(60)\n"
    )
    child = Runner(
        Subject.submission(model),
        recipe="conv_32_64_64",
        training=Training(1, 60, backend=BACKEND),
        work=tmp_path / "w",
    )
    with child:
        failures: list[PhaseFailed] = []

        def build() -> None:
            try:
                child.build()
            except PhaseFailed as failure:
                failures.append(failure)

        builder = threading.Thread(target=build)
        builder.start()
        deadline = time.monotonic() + 60
        while (
            not any(b"2718" in _cmdline(pid) for pid in tree(child._process.pid))
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        doomed = [pid for pid in tree(child._process.pid) if pid != child._process.pid]
        child.stop()
        assert len(doomed) >= 2 and not any(_alive(pid) for pid in doomed)
        builder.join(timeout=30)
    assert failures


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""


@pytest.mark.skipif(BACKEND == "tensorflow", reason="tf.keras-era code is refused on JAX and PyTorch only")
def test_tensorflow_imports_are_refused_on_another_backend_naming_the_line():
    with pytest.raises(RunnerError) as refused:
        describe_file(FIXTURES / "listings" / "tutorial_000_as_listed.py", backend=BACKEND)
    message = str(refused.value)
    assert "imports TensorFlow (from tensorflow.keras import layers, models)" in message
    assert (
        'backend = "tensorflow" in the assignment, or --backend tensorflow' in message
        and "import keras" in message
    )


@pytest.mark.skipif(
    BACKEND == "tensorflow" or version("tensorflow") is not None,
    reason="a helper's TensorFlow import fails only where TensorFlow is absent",
)
def test_a_tensorflow_import_in_a_helper_module_says_the_same(tmp_path):
    (tmp_path / "helpers.py").write_text("import tensorflow as tf\n")
    (tmp_path / "model.py").write_text("import helpers\n\ndef build_model():\n    return None\n")
    with pytest.raises(RunnerError, match=r"imports TensorFlow .* but it runs here on Keras 3"):
        describe_file(tmp_path / "model.py", backend=BACKEND)
