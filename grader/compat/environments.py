"""One virtual environment per TensorFlow version (or Keras 3 backend) and device, built once and reused.

Each holds the grader itself (installed from this source tree, editable, so it grades with the
same code) and the pinned TensorFlow, or Keras 3 with JAX or PyTorch (installed with pip, which
honours pip's own configuration: PyTorch's CPU build comes from the index or folder it names). A stamp file records what was installed; a changed
matrix entry rebuilds the environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from grader.backends import keras_major
from grader.backends import version as installed_version
from grader.calibration import cache_dir
from grader.compat import CompatError
from grader.compat.matrix import KERAS_3_BACKENDS, backend_packages, install_steps

STAMP = "grader-environment.json"


def project_root() -> Path:
    """The source tree holding this grader (``grader compat`` installs it into each environment)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise CompatError(
            f"grader compat installs the grader from its source tree, and {root} has no pyproject.toml; "
            "run it from a checkout of the grader."
        )
    return root


def ensure(version: str, device: str, *, root: Path | None = None) -> Path:
    """The Python executable of the environment for ``version`` on ``device``, built if needed
    (this very Python when it already runs that version's CPU build)."""
    if version in KERAS_3_BACKENDS:
        return _keras_3(version, device, root)
    if device == "cpu" and _installed("tensorflow-cpu").startswith(f"{version}."):
        return Path(sys.executable)
    uv = _uv()
    folder = (root or cache_dir()) / "environments" / f"tf-{version}-{device}"
    python = folder / "bin" / "python"
    steps = install_steps(version, device, f"{project_root()}")

    def build() -> None:
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(folder)], version)
        for action, *arguments in steps:
            _run([uv, "pip", action, "--quiet", "--python", str(python), *arguments], version)

    return _built(folder, {"python": sys.version.split()[0], "steps": steps}, build)


def _keras_3(backend: str, device: str, root: Path | None) -> Path:
    """The environment for Keras 3 on ``backend`` (this very Python when it has it already)."""
    if device == "cpu" and installed_version(backend) and keras_major() == 3:
        return Path(sys.executable)
    uv = _uv()
    folder = (root or cache_dir()) / "environments" / f"keras3-{backend}-{device}"
    python = folder / "bin" / "python"
    packages = ["-e", f"{project_root()}[{backend}]", *backend_packages(backend, device)]

    def build() -> None:
        _run([uv, "venv", "--quiet", "--seed", "--python", sys.executable, str(folder)], backend)
        _run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
            backend,
        )

    return _built(folder, {"python": sys.version.split()[0], "pip": packages}, build)


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise CompatError("grader compat builds one environment per column with uv: pip install uv")
    return uv


def _built(folder: Path, wanted: dict[str, object], build: Callable[[], None]) -> Path:
    """``folder``'s Python, rebuilt by ``build`` unless its stamp says it holds ``wanted`` already."""
    python, stamp = folder / "bin" / "python", folder / STAMP
    if python.exists() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return python
    shutil.rmtree(folder, ignore_errors=True)
    build()
    stamp.write_text(json.dumps(wanted))
    return python


def _run(command: list[str], version: str) -> None:
    env = {**os.environ, "UV_COMPILE_BYTECODE": "1"}  # children cannot write bytecode; compile it once here
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise CompatError(f"{_title(version)}: {' '.join(command[:3])} failed: {' / '.join(tail)}")


def _title(column: str) -> str:
    return f"Keras 3 on {column}" if column in KERAS_3_BACKENDS else f"TensorFlow {column}"


def _installed(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""
