"""The package as someone installs it from an index: a wheel and an sdist built from this checkout,
the wheel installed into a fresh virtual environment and used from a folder outside the checkout,
so nothing here is imported by accident."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import grader
from tests.conftest import CLASS_ASSIGNMENT, SUBMISSIONS

ROOT = Path(__file__).parent.parent
BUILD_TIMEOUT_S = 600


def new_environment(venv: Path, requirement: str) -> Path:
    """A new virtual environment at ``venv`` with ``requirement`` installed, bytecode compiled."""
    uv = shutil.which("uv")
    assert uv is not None
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", python, requirement],
        check=True,
        timeout=BUILD_TIMEOUT_S,
        env={**os.environ, "UV_COMPILE_BYTECODE": "1"},
    )
    return venv


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel installed with the TensorFlow extra into a new environment; its bin folder."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("needs uv (installed beside nox: pip install nox uv)")
    root = tmp_path_factory.mktemp("package")
    root.chmod(0o755)  # the fallback sandbox's child must pass through to the environment's Python
    dist = root / "dist"
    subprocess.run(
        [uv, "build", "--quiet", "--out-dir", str(dist), str(ROOT)], check=True, timeout=BUILD_TIMEOUT_S
    )
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == len(sdists) == 1
    assert wheels[0].name.startswith(f"grader-{grader.__version__}-")
    venv = new_environment(root / "venv", f"{wheels[0]}[tensorflow]")
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return venv / "bin", elsewhere, wheels[0], sdists[0]


def grader_command(installed, *arguments: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    bin_folder, elsewhere, _, _ = installed
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if cache is not None:
        env["GRADER_CACHE_DIR"] = str(cache)
    return subprocess.run(
        [str(bin_folder / "grader"), *arguments],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )


def test_the_wheel_and_the_sdist_hold_the_assignments_and_the_autograder_files(installed):
    _, _, wheel, sdist = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "grader/assignments/conv_32_64_64.toml" in names and "grader/gradescope/files/setup.sh" in names
    assert "reference/conv_32_64_64.py" in names
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "grader/assignments/conv_32_64_64.toml", "CHANGELOG.md"} <= members


def test_the_installed_grader_says_its_version_and_lists_the_assignments(installed):
    done = grader_command(installed, "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"grader {grader.__version__}"
    done = grader_command(installed, "assignments")
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in ("conv_32_64_64", "adadelta_dropout", "functional_cnn"))


def test_the_installed_grader_writes_a_kit_and_an_autograder(installed):
    _, elsewhere, _, _ = installed
    done = grader_command(installed, "init", "conv_32_64_64", "kit", "--notebook")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (elsewhere / "kit" / "mnist_cnn.ipynb").is_file()
    done = grader_command(installed, "gradescope", "conv_32_64_64", "--out", "autograder.zip")
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(elsewhere / "autograder.zip") as archive:
        assert {"setup.sh", "run_autograder", "assignment.toml"} <= set(archive.namelist())
        archive.extractall(elsewhere / "source")
    # What setup.sh installs on Gradescope: the packed project, with the assignment's backend.
    venv = new_environment(elsewhere / "autograder-venv", f"{elsewhere / 'source' / 'project'}[tensorflow]")
    done = subprocess.run(
        [str(venv / "bin" / "grader"), "--version"], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == f"grader {grader.__version__}"


def test_the_installed_grader_grades_alice(installed, grading_cache):
    _, elsewhere, _, _ = installed
    shutil.copytree(SUBMISSIONS / "alice", elsewhere / "alice")
    shutil.copy(CLASS_ASSIGNMENT, elsewhere / "class_quick.toml")
    done = grader_command(
        installed, "grade", "alice", "--assignment", "class_quick.toml", "--out", "out", cache=grading_cache
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((elsewhere / "out" / "results.json").read_text())
    assert results["score"] == 10
