"""The device line every grade records."""

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
