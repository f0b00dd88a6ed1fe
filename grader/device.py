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
from functools import cache
from pathlib import Path

from grader import backends

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
        # "… x86_64 Kernel Module  550.54.14  …" or "… Open Kernel Module for x86_64  580.159.04  …"
        found = re.search(r"Kernel Module\b.*?\s(\d+(?:\.\d+)+)(?:\s|$)", NVIDIA_VERSION.read_text())
        if found:
            return found.group(1)
    except OSError:
        pass
    return _nvidia_smi("driver_version")


GPU_SELECTION = ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")  # which cards CUDA shows a process


def gpu_selection() -> dict[str, str]:
    """The grader's own choice of cards, passed on to every child: an instructor who grades on
    the second card (``CUDA_VISIBLE_DEVICES=1``), or on no card at all (``""``), means the
    children too."""
    return {name: os.environ[name] for name in GPU_SELECTION if name in os.environ}


def first_visible_gpu() -> str | None:
    """The card a child trains on, as nvidia-smi's ``-i`` names it (an index or a UUID), or None
    when ``CUDA_VISIBLE_DEVICES`` hides every card (empty, or a negative index first)."""
    chosen = os.environ.get("CUDA_VISIBLE_DEVICES")
    if chosen is None:
        return "0"
    first = chosen.split(",")[0].strip()
    return None if not first or first.startswith("-") else first


def gpu_visible() -> bool:
    """Whether the children see an NVIDIA card: a driver here, and not every card hidden."""
    return first_visible_gpu() is not None and nvidia_driver() is not None


def _nvidia_smi(field: str) -> str | None:
    """``field`` of the first card children see, as nvidia-smi reports it (no units), or None
    without one."""
    if not shutil.which("nvidia-smi") or (card := first_visible_gpu()) is None:
        return None
    try:
        result = subprocess.run(
            ["nvidia-smi", "-i", card, f"--query-gpu={field}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else None


@cache
def gpu_memory_mb() -> int | None:
    """The memory in MB of the first card children see (nvidia-smi), or None where they see none."""
    if not gpu_visible() or (found := _nvidia_smi("memory.total")) is None:
        return None
    try:
        return int(found)
    except ValueError:
        return None


CHILDREN_PER_GRADE = 2  # the runner and the verifier: both hold the backend on the GPU


def packing_problem(jobs: int, memory_mb: int, card_mb: int | None) -> str | None:
    """Why ``jobs`` grades at once do not fit on a card of ``card_mb`` when each child may use
    ``memory_mb`` of it (None: they fit, or there is no GPU)."""
    needed = jobs * CHILDREN_PER_GRADE * memory_mb
    if not card_mb or needed <= card_mb:
        return None
    most = card_mb // (CHILDREN_PER_GRADE * memory_mb)
    return (
        f"--jobs {jobs} does not fit on this GPU's {card_mb:,} MB: each grade runs {CHILDREN_PER_GRADE} "
        f"children that may each use {memory_mb:,} MB of it (limits.gpu_memory_mb), {needed:,} MB in all; "
        f"use --jobs {most} or fewer, or a lower limits.gpu_memory_mb"
        if most
        else f"one grade does not fit on this GPU's {card_mb:,} MB with limits.gpu_memory_mb = {memory_mb:,}"
    )


def describe_device(gpus: Sequence[str] = ()) -> str:
    """``gpus`` are the names the backend gave the GPUs it used; none means the CPU did the work."""
    if gpus:
        driver = nvidia_driver()
        return f"GPU: {', '.join(gpus)}" + (f" (driver {driver})" if driver else "")
    return f"CPU: {cpu_model()} ({os.cpu_count()} cores)"


BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})  # CPU instructions that compute in bfloat16


def cpu_flags() -> frozenset[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def precision_problem(precision: str, *, backend: str) -> str | None:
    """Why this machine cannot train in ``precision`` on ``backend``, or None when it can.

    bfloat16 needs a GPU or a CPU with bfloat16 instructions (without them the backend emulates it,
    slower than float32); float16 pays only on a GPU. A card counts only for a CUDA build of the
    backend: with a CPU build, half precision would run on the CPU."""
    card = gpu_visible()
    gpu = card and backends.cuda_build(backend)
    if gpu or precision not in ("mixed_float16", "mixed_bfloat16"):
        return None
    if precision == "mixed_bfloat16" and BFLOAT16_FLAGS & cpu_flags():
        return None
    if card:
        title = backends.TITLES[backend]
        return (
            f"precision {precision} needs the GPU, but the {title} installed here is its CPU build; "
            f"install a CUDA build of {title} to train on the card."
        )
    if precision == "mixed_bfloat16":
        return (
            f"precision mixed_bfloat16 needs a GPU or a CPU with bfloat16 instructions "
            f"({' or '.join(sorted(BFLOAT16_FLAGS))}); {cpu_model()} has neither."
        )
    return "precision mixed_float16 needs an NVIDIA GPU; this machine has none."
