"""Shared fixtures: real data, provisioned by `grader data provision` (see README)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADER_OFFLINE", "1")  # tests never wait on a download

FIXTURES = Path(__file__).parent / "fixtures"
TUTORIALS = Path(__file__).parent.parent / "tutorials"  # each tutorial's own listing, as a submission
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")


def pytest_report_header() -> str:
    """Which TensorFlow and device this run's results hold for (the nox matrix runs several)."""
    from grader.calibration import package_version
    from grader.device import describe_device

    tensorflow = package_version("tensorflow-cpu", "tensorflow")
    return f"TensorFlow {tensorflow}, Keras {package_version('keras')}; device {describe_device()}"


@pytest.fixture(scope="session")
def sample():
    """The MNIST sample (8,000 train / 2,000 test real digits)."""
    from grader.data import load_dataset

    return load_dataset("mnist_sample")


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """Debian's Fashion-MNIST folder; the suite needs it provisioned."""
    if not (FASHION_SYSTEM_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail("Fashion-MNIST is not installed: run `grader data provision` first.")
    return FASHION_SYSTEM_DIR


@pytest.fixture
def isolated_sources(tmp_path, monkeypatch) -> Path:
    """No explicit dir, an empty Keras cache and data home: only what a test puts there counts."""
    monkeypatch.delenv("GRADER_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    user = tmp_path / "user"  # Keras 2 ignores KERAS_HOME and reads ~/.keras: the same folder
    user.mkdir()
    (user / ".keras").symlink_to(tmp_path / "keras", target_is_directory=True)
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.setenv("GRADER_DATA_HOME", str(tmp_path / "home"))
    return tmp_path


SUBMISSIONS = Path(__file__).parent.parent / "submissions"


@pytest.fixture(scope="session")
def grading_cache(tmp_path_factory) -> Path:
    """One calibration cache for the whole run, so each reference is measured once."""
    return tmp_path_factory.mktemp("grader-cache")


@pytest.fixture(scope="session")
def graded(grading_cache):
    """Grade a submission folder (quietly), once per run for each folder and assignment."""
    import io

    from rich.console import Console

    from grader.grade import grade

    grades = {}

    def run(folder, assignment=None):
        key = (str(folder), str(assignment))
        if key not in grades:
            console = Console(file=io.StringIO(), width=100)
            grades[key] = grade(folder, assignment=assignment, cache_root=grading_cache, console=console)
        return grades[key]

    return run
