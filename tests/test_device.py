"""The device line every grade records."""

import pytest

from grader import device
from grader.device import describe_device


def test_the_cpu_line_names_its_model_and_cores():
    line = describe_device()
    assert line.startswith("CPU: ") and line.endswith(" cores)")


def test_gpus_are_named_as_tensorflow_gave_them():
    assert describe_device(["NVIDIA H100 80GB HBM3"]).startswith("GPU: NVIDIA H100 80GB HBM3")


def test_precision_needs_the_hardware_for_it(monkeypatch):
    monkeypatch.setattr(device.backends, "cuda_build", lambda backend: True)
    monkeypatch.setattr(device, "nvidia_driver", lambda: None)
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert device.precision_problem("float32", backend="jax") is None
    assert "needs a GPU or a CPU with bfloat16 instructions" in device.precision_problem(
        "mixed_bfloat16", backend="jax"
    )
    assert "needs an NVIDIA GPU" in device.precision_problem("mixed_float16", backend="jax")
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert device.precision_problem("mixed_bfloat16", backend="jax") is None
    monkeypatch.setattr(device, "nvidia_driver", lambda: "550.54")
    assert device.precision_problem("mixed_float16", backend="jax") is None


@pytest.mark.parametrize(
    ("line", "version"),
    [
        (
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024",
            "550.54.14",
        ),
        ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build", "580.159.04"),
    ],
)
def test_the_driver_version_is_read_from_either_kernel_modules_line(tmp_path, monkeypatch, line, version):
    """The open kernel module's line has "for x86_64" where the proprietary one has the version."""
    (tmp_path / "version").write_text(line + "\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n")
    monkeypatch.setattr(device, "NVIDIA_VERSION", tmp_path / "version")
    assert device.nvidia_driver() == version


def test_a_class_packed_on_a_gpu_must_fit_its_memory_limits():
    from grader.device import packing_problem

    assert packing_problem(8, 4096, None) is None  # no GPU: CPU cores are dealt out instead
    assert packing_problem(39, 1024, 81_559) is None  # 39 grades x 2 children x 1 GiB = 79,872 MB
    assert packing_problem(64, 1024, 81_559) == (
        "--jobs 64 does not fit on this GPU's 81,559 MB: each grade runs 2 children that may each use "
        "1,024 MB of it (limits.gpu_memory_mb), 131,072 MB in all; use --jobs 39 or fewer, or a lower "
        "limits.gpu_memory_mb"
    )
    assert "one grade does not fit" in packing_problem(1, 65_536, 81_559)


@pytest.mark.parametrize(
    ("chosen", "first"),
    [(None, "0"), ("1,0", "1"), (" 2 ", "2"), ("GPU-5c6f0a", "GPU-5c6f0a"), ("", None), ("-1", None)],
)
def test_the_card_children_train_on_follows_cuda_visible_devices(monkeypatch, chosen, first):
    if chosen is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", chosen)
    assert device.first_visible_gpu() == first


def test_a_cpu_build_on_a_gpu_machine_trains_half_precision_only_where_the_cpu_can(monkeypatch):
    """With the card visible but the backend's CPU build installed, float16 would run on the CPU."""
    monkeypatch.setattr(device, "nvidia_driver", lambda: "580.159.04")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(device.backends, "cuda_build", lambda backend: False)
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert device.precision_problem("mixed_float16", backend="torch") == (
        "precision mixed_float16 needs the GPU, but the PyTorch installed here is its CPU build; "
        "install a CUDA build of PyTorch to train on the card."
    )
    assert "JAX installed here is its CPU build" in device.precision_problem("mixed_bfloat16", backend="jax")
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert device.precision_problem("mixed_bfloat16", backend="jax") is None
    assert device.precision_problem("float32", backend="jax") is None
    monkeypatch.setattr(device.backends, "cuda_build", lambda backend: backend == "jax")
    assert device.precision_problem("mixed_float16", backend="jax") is None


def test_every_card_hidden_means_no_gpu_for_precision_and_the_children_are_told(monkeypatch):
    """An instructor who hides the cards from the grader hides them from its children too."""
    monkeypatch.setattr(device.backends, "cuda_build", lambda backend: True)
    monkeypatch.setattr(device, "nvidia_driver", lambda: "580.159.04")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    assert not device.gpu_visible()
    assert "needs an NVIDIA GPU" in device.precision_problem("mixed_float16", backend="jax")
    assert device.gpu_selection() == {"CUDA_VISIBLE_DEVICES": "", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert device.gpu_visible() and device.precision_problem("mixed_float16", backend="jax") is None
