"""The device line every grade records."""

from grader.device import describe_device


def test_the_cpu_line_names_its_model_and_cores():
    line = describe_device()
    assert line.startswith("CPU: ") and line.endswith(" cores)")


def test_gpus_are_named_as_tensorflow_gave_them():
    assert describe_device(["NVIDIA H100 80GB HBM3"]).startswith("GPU: NVIDIA H100 80GB HBM3")
