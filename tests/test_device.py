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
    from grader import device

    monkeypatch.setattr(device, "nvidia_driver", lambda: None)
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert device.precision_problem("float32") is None
    assert "needs a GPU or a CPU with bfloat16 instructions" in device.precision_problem("mixed_bfloat16")
    assert "needs an NVIDIA GPU" in device.precision_problem("mixed_float16")
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert device.precision_problem("mixed_bfloat16") is None
    monkeypatch.setattr(device, "nvidia_driver", lambda: "550.54")
    assert device.precision_problem("mixed_float16") is None


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
    assert packing_problem(9, 4096, 81_559) is None  # 9 grades x 2 children x 4 GiB = 73,728 MB
    assert packing_problem(16, 4096, 81_559) == (
        "--jobs 16 does not fit on this GPU's 81,559 MB: each grade runs 2 children that may each use "
        "4,096 MB of it (limits.memory_mb), 131,072 MB in all; use --jobs 9 or fewer, or a lower limits.memory_mb"
    )
    assert "one grade does not fit" in packing_problem(1, 65_536, 81_559)
