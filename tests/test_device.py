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
