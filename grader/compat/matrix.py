"""The TensorFlow versions the grader is tested and compared on, Keras 3's other backends beside
them, and how to install each.

2.12 is the oldest release that installs on Python 3.11 (its Keras still has the pre-2.13
module layout), 2.15 the last with Keras 2, 2.16 the first with Keras 3, 2.18 one in between
and 2.21 the newest. Standard library only: ``noxfile.py`` imports this module.
"""

from __future__ import annotations

import shutil
import subprocess

VERSIONS = ("2.12", "2.15", "2.16", "2.18", "2.21")
NEWEST = VERSIONS[-1]
# The focused subset CI runs beside the newest's whole suite: the oldest and the last Keras 2, whose
# behaviour no other CI step sees (Keras 3 on TensorFlow is the newest's; 2.16 and 2.18 share its
# layout, and nox, the GitHub workflow and grader compat still run them).
CI_VERSIONS = ("2.12", "2.15")
DEVICES = ("cpu", "gpu")
KERAS_3_BACKENDS = ("jax", "torch")  # beside TensorFlow: Keras 3's other backends, without TensorFlow
TORCH = "2.13"  # the PyTorch release the torch sessions install (its CPU build on the CPU)


def keras_major(version: str) -> int:
    """The Keras a TensorFlow release brings: 2 up to 2.15, 3 from 2.16."""
    major, minor = (int(part) for part in version.split(".")[:2])
    return 3 if (major, minor) >= (2, 16) else 2


def install_steps(version: str, device: str, project: str) -> list[list[str]]:
    """``uv pip`` argument lists that install ``project`` (editable) with TensorFlow ``version``.

    The project depends on ``tensorflow-cpu`` (smaller, no CUDA); the GPU build is a different
    distribution that installs the same ``tensorflow`` package, so for ``gpu`` the CPU build is
    removed before ``tensorflow[and-cuda]`` goes in.
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    steps = [["install", "-e", project, f"tensorflow-cpu=={version}.*"]]
    if device == "gpu":
        steps += [["uninstall", "tensorflow-cpu"], ["install", f"tensorflow[and-cuda]=={version}.*"]]
    return steps


COLUMNS = (*VERSIONS, *KERAS_3_BACKENDS)  # grader compat's default columns


def column_backend(column: str) -> str:
    """The Keras backend a compat column grades on: a TensorFlow version's, or the one it names."""
    return column if column in KERAS_3_BACKENDS else "tensorflow"


def backend_packages(backend: str, device: str) -> list[str]:
    """What ``pip install`` adds to ``.[test,BACKEND]`` for a Keras 3 backend on ``device``.

    On the CPU, PyTorch's CPU build: pip takes it from wherever its configuration points
    (PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu, or a local wheel folder); PyPI's
    Linux wheel brings CUDA. On the GPU, each library's CUDA build."""
    if backend not in KERAS_3_BACKENDS or device not in DEVICES:
        raise ValueError(f"no packages for backend {backend!r} on {device!r}")
    if backend == "torch":
        return [f"torch=={TORCH}.*"]
    return ["jax[cuda12]"] if device == "gpu" else []


def gpu_problem() -> str | None:
    """None when ``nvidia-smi`` lists a GPU here; otherwise why the GPU sessions cannot run."""
    if shutil.which("nvidia-smi") is None:
        return "no GPU visible: nvidia-smi is not installed"
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"no GPU visible: nvidia-smi failed ({error})"
    if listed.returncode != 0 or "GPU" not in listed.stdout:
        return f"no GPU visible: nvidia-smi -L lists none ({(listed.stderr or listed.stdout).strip()[:120]})"
    return None
