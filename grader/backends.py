"""The Keras backends a grade can train on: TensorFlow (Keras 2 or 3), JAX and PyTorch (Keras 3).

The grader's own process never imports a backend: it reads installed versions from package
metadata and says what is missing before any child starts. A child imports only the backend
its grade names (``start``), after ``KERAS_BACKEND`` is set and before Keras is imported, and
fixes the same things on each: one thread per core it was given, deterministic ops, and on a
GPU no more of the card's memory than its share.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any

BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT = "tensorflow"
TITLES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
DISTRIBUTIONS = {  # the first one installed gives the backend's version
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly"),
    "jax": ("jax",),
    "torch": ("torch",),
}
MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def version(backend: str) -> str | None:
    """The installed version of ``backend`` (or of Keras: ``"keras"``), without importing it."""
    for name in DISTRIBUTIONS.get(backend, (backend,)):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def keras_major() -> int | None:
    """The major version of the Keras installed beside the backend (tf.keras 2 comes with TensorFlow
    up to 2.15 without a ``keras`` 3 distribution)."""
    found = version("keras")
    if found is None:
        return 2 if version("tensorflow") else None
    return int(found.split(".")[0])


def problem(backend: str) -> str | None:
    """Why a grade cannot train on ``backend`` here, or None when it can."""
    if backend not in BACKENDS:
        return f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}"
    title = TITLES[backend]
    if version(backend) is None:
        return f"the {title} backend is not installed here: pip install 'grader[{backend}]'"
    if backend != "tensorflow" and keras_major() != 3:
        found = f"Keras {version('keras')} is" if version("keras") else "no Keras is"
        return (
            f"the {title} backend needs Keras 3, and {found} installed here: pip install 'grader[{backend}]'"
        )
    return None


def cuda_build(backend: str) -> bool:
    """Whether the installed build of ``backend`` trains on an NVIDIA GPU, read from package
    metadata (nothing imported): a class packs onto the card only then, and a CPU build on a GPU
    machine keeps one grade to a core."""
    names = {(dist.metadata["Name"] or "").lower().replace("_", "-") for dist in metadata.distributions()}
    if backend == "jax":
        return any(name.startswith("jax-cuda") for name in names)  # jax[cuda12] and jax[cuda13]
    if backend == "torch":
        return _torch_cuda()
    if backend == "tensorflow":  # tensorflow[and-cuda] brings NVIDIA's libraries; tensorflow-cpu none
        return "tensorflow-cpu" not in names and any(name.startswith("nvidia-cudnn") for name in names)
    return False


def _torch_cuda() -> bool:
    """PyTorch's own ``torch/version.py`` says which CUDA it was built for (``cuda = None`` on CPU)."""
    try:
        files = metadata.files("torch") or []
    except metadata.PackageNotFoundError:
        return False
    for file in files:
        if str(file) == "torch/version.py":
            for line in file.read_text().splitlines():
                if line.startswith("cuda"):
                    return "None" not in line
    return False


def describe(environment: dict[str, Any]) -> str:
    """ "Keras 3.15.1 on JAX 0.10.2" from a grade's environment (older results name TensorFlow only)."""
    backend = environment.get("backend", DEFAULT)
    found = environment.get("backend_version") or environment.get("tensorflow", "?")
    return f"Keras {environment.get('keras', '?')} on {TITLES.get(backend, backend)} {found}"


def key(backend: str) -> dict[str, str]:
    """The software a grade's figures depend on, for calibration and re-grade keys."""
    return {"backend": backend, "backend_version": version(backend) or "", "keras": version("keras") or ""}


def child_env(backend: str, *, gpu_fraction: float | None = None) -> dict[str, str]:
    """Environment variables a child needs before Python starts: which backend Keras loads and,
    where there is a GPU (``gpu_fraction``: the share of the card's memory the child may use),
    the settings each library reads only from its environment."""
    env = {"KERAS_BACKEND": backend}
    if backend == "tensorflow":
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if gpu_fraction is None:
        return env
    if backend == "jax":
        # no grab of 75% of the card at start-up: a packed card holds several grades
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{gpu_fraction:.4f}"
        env["XLA_FLAGS"] = "--xla_gpu_deterministic_ops=true"
    elif backend == "torch":
        env["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # deterministic cuBLAS
    return env


def start(backend: str, *, threads: int, gpu_memory_mb: int | None) -> dict[str, Any]:
    """In a child, before any model is built: import ``backend``, give it ``threads`` threads per
    pool (0: its default), make its ops deterministic, cap its GPU memory at ``gpu_memory_mb``,
    and return what the grade reports about it (versions, devices, GPU names)."""
    if os.environ.get("KERAS_BACKEND") != backend:
        raise RuntimeError(f"KERAS_BACKEND must be set to {backend!r} before Python starts")
    starts = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}
    devices, gpus = starts[backend](threads, gpu_memory_mb)
    import keras

    if backend != "tensorflow" and keras.backend.backend() != backend:
        raise RuntimeError(f"Keras {keras.__version__} loaded {keras.backend.backend()}, not {backend}")
    found = {
        "backend": backend,
        "backend_version": version(backend) or "",
        "keras": keras.__version__,
        "devices": devices,
        "gpus": gpus,
    }
    if backend == "tensorflow":
        found["tensorflow"] = found["backend_version"]  # results written before backends were a setting
    return found


# How each backend says a GPU allocation failed: XLA (JAX), PyTorch's allocator, TensorFlow.
GPU_OUT_OF_MEMORY = ("RESOURCE_EXHAUSTED", "CUDA out of memory", "OutOfMemoryError", "OOM when allocating")


def out_of_gpu_memory(message: str, gpu_memory_mb: int | None) -> str:
    """``message`` (an error from training or predicting) with what to do about it when it says the
    GPU ran out of the memory the assignment allows each process; otherwise ``message`` as it is."""
    if not gpu_memory_mb or not any(sign in message for sign in GPU_OUT_OF_MEMORY):
        return message
    return (
        f"{message}\nThe model needed more GPU memory than this assignment allows each process "
        f"({gpu_memory_mb:,} MB, limits.gpu_memory_mb): a smaller batch size or a smaller model fits."
    )


def gpu_names(backend: str) -> list[str]:
    """The GPUs ``backend`` sees, by name (it is imported here if Keras has not done so)."""
    if backend == "jax":
        import jax

        return [device.device_kind for device in jax.devices() if device.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    import tensorflow as tf

    return [_tf_gpu_name(tf, gpu) for gpu in tf.config.list_physical_devices("GPU")]


def _tensorflow(threads: int, gpu_memory_mb: int | None) -> tuple[list[str], list[str]]:
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.config.experimental.enable_op_determinism()
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        if gpu_memory_mb:
            tf.config.set_logical_device_configuration(
                gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=gpu_memory_mb)]
            )
        else:
            tf.config.experimental.set_memory_growth(gpu, True)
    devices = sorted({device.device_type for device in tf.config.list_physical_devices()})
    return devices, gpu_names("tensorflow")


def _tf_gpu_name(tf: Any, device: Any) -> str:
    try:
        return str(tf.config.experimental.get_device_details(device).get("device_name") or device.name)
    except (AttributeError, ValueError, RuntimeError):
        return str(device.name)


def _jax(threads: int, gpu_memory_mb: int | None) -> tuple[list[str], list[str]]:
    # XLA's CPU thread pool follows the process's CPU affinity, which the grader sets to its cores;
    # its GPU memory share came in the environment (child_env).
    import jax

    found = jax.devices()
    return sorted({"GPU" if d.platform == "gpu" else d.platform.upper() for d in found}), gpu_names("jax")


def _torch(threads: int, gpu_memory_mb: int | None) -> tuple[list[str], list[str]]:
    import torch

    if threads:
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    gpus: list[str] = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            gpus.append(torch.cuda.get_device_name(index))
            if gpu_memory_mb:
                total = torch.cuda.get_device_properties(index).total_memory / (1 << 20)
                torch.cuda.set_per_process_memory_fraction(min(1.0, gpu_memory_mb / total), index)
    return (["CPU", "GPU"] if gpus else ["CPU"]), gpus
