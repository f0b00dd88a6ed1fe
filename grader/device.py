"""What a grade ran on, in words: the CPU's model and cores, or each GPU's name and its driver.

Timings and even accuracy differ between devices, so every result records this line.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

NVIDIA_VERSION = Path("/proc/driver/nvidia/version")


def cpu_model() -> str:
    """The processor's marketing name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def nvidia_driver() -> str | None:
    """The NVIDIA driver's version, or None where there is no NVIDIA driver."""
    try:
        found = re.search(r"Kernel Module\s+(\S+)", NVIDIA_VERSION.read_text())
        if found:
            return found.group(1)
    except OSError:
        pass
    if shutil.which("nvidia-smi"):
        result = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.splitlines()[0].strip()
    return None


def describe_device(gpus: Sequence[str] = ()) -> str:
    """``gpus`` are the names TensorFlow gave the GPUs it used; none means the CPU did the work."""
    if gpus:
        driver = nvidia_driver()
        return f"GPU: {', '.join(gpus)}" + (f" (driver {driver})" if driver else "")
    return f"CPU: {cpu_model()} ({os.cpu_count()} cores)"
