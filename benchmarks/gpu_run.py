"""The documentation's GPU figures, measured in one time-boxed run on a GPU server with no package registry.

Such a server often has JAX and PyTorch but neither Keras nor bubblewrap, and cannot download
them or the datasets. ``pack`` gathers what it lacks on a machine that can (the wheels Keras 3
needs for the server's Python, Debian's bubblewrap, the provisioned datasets) into one folder;
``run`` installs that folder there without touching the system's Python (a virtual environment
over the system's packages, this checkout made importable by a ``.pth`` file, so the grader's
sandboxed children import it too), then runs the measurements below in order of importance,
each with its own time limit, all within ``--minutes``. Every step's output lands in
``OUT/logs/STEP.log``; ``OUT/summary.json`` says how each ended; ``OUT/results.tgz`` holds the
results and benchmark files.

    python benchmarks/gpu_run.py pack KIT            # here: PyPI, apt-get and the datasets
    python3 benchmarks/gpu_run.py run KIT --out OUT --minutes 9            # there: every step
    python3 benchmarks/gpu_run.py run KIT --out OUT --only calibrate-torch loop-torch
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ("keras", "namex", "optree")  # what Keras 3 needs beside a JAX and PyTorch install
# Keras's other requirements and the grader's: installed from the kit only where the server lacks them.
FALLBACKS = ("absl-py", "h5py", "ml-dtypes", "rich", "packaging")
TARGET_PYTHON = "3.12"  # the GPU server's, by default
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
)
REFERENCES = ("conv_32_64_64", "one_conv_dense32", "conv5x5_dense1024", "functional_cnn", "adadelta_dropout")
ALICE = "submissions/alice"


@dataclass(frozen=True)
class Step:
    """One measurement: its commands run in turn, all within ``limit_s``."""

    name: str
    commands: tuple[tuple[str, ...], ...]
    limit_s: int
    env: dict[str, str] = field(default_factory=dict)


def steps(python: str, out: Path) -> list[Step]:
    """Every step, most important first: a cut-short run still has the grades."""
    grader = (python, "-m", "grader")

    def grade(backend: str) -> tuple[str, ...]:
        return (*grader, "grade", ALICE, "--backend", backend, "--out", str(out / f"alice-{backend}"))

    def calibrate(backend: str) -> tuple[tuple[str, ...], ...]:
        return tuple((*grader, "calibrate", name, "--backend", backend) for name in REFERENCES)

    def bench(name: str, selection: str) -> tuple[str, ...]:
        json_file = out / f"{name}.json"
        return (
            python,
            "-m",
            "pytest",
            "benchmarks",
            "-o",
            "addopts=",
            "--benchmark-enable",
            f"--benchmark-json={json_file}",
            "-k",
            selection,
            "-s",
        )

    return [
        Step("sandbox", ((*grader, "sandbox"),), 60),
        Step("alice-jax", (grade("jax"),), 150),
        Step("alice-torch", (grade("torch"),), 180),
        Step("calibrate-jax", calibrate("jax"), 200),
        Step("loop-jax", (bench("loop-jax", "training_loop"),), 240, {"KERAS_BACKEND": "jax"}),
        Step(
            "packed-16-jax",
            (bench("packed-16-jax", "packed_class"),),
            240,
            {"KERAS_BACKEND": "jax", "GRADER_BENCH_COPIES": "16"},
        ),
        Step("calibrate-torch", calibrate("torch"), 300),
        Step(
            "packed-64-jax",
            (bench("packed-64-jax", "packed_class"),),
            420,
            {"KERAS_BACKEND": "jax", "GRADER_BENCH_COPIES": "64"},
        ),
        Step("loop-torch", (bench("loop-torch", "training_loop"),), 300, {"KERAS_BACKEND": "torch"}),
        Step(
            "packed-16-torch",
            (bench("packed-16-torch", "packed_class"),),
            300,
            {"KERAS_BACKEND": "torch", "GRADER_BENCH_COPIES": "16"},
        ),
    ]


def pack(kit: Path, *, python: str = TARGET_PYTHON) -> None:
    """Gather the wheels (for the server's ``python`` version), bubblewrap's package and the
    datasets into ``kit``."""
    sys.path.insert(0, str(ROOT))  # run as a script: benchmarks/ is on the path, the checkout is not
    from grader.data import load_dataset

    wheels = kit / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    wanted = [f"{name}=={_installed(name)}" if _installed(name) else name for name in (*WHEELS, *FALLBACKS)]
    platforms = [option for platform in PLATFORMS for option in ("--platform", platform)]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            python,
            "--implementation",
            "cp",
            *platforms,
            "-d",
            str(wheels),
            *wanted,
        ],
        check=True,
    )
    debs = kit / "debs"
    debs.mkdir(exist_ok=True)
    if subprocess.run(["apt-get", "download", "bubblewrap"], cwd=debs, check=False).returncode:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "download", "bubblewrap"], cwd=debs, check=True)
    sample = load_dataset("mnist_sample", allow_download=False).source.path
    (kit / "datasets").mkdir(exist_ok=True)
    shutil.copy2(sample if sample.is_file() else sample / "mnist-sample.npz", kit / "datasets")
    fashion = load_dataset("fashion_mnist", allow_download=False).source.path
    shutil.copytree(
        fashion if fashion.is_dir() else fashion.parent,
        kit / "keras" / "datasets" / "fashion-mnist",
        dirs_exist_ok=True,
    )
    for found in sorted(kit.rglob("*")):
        if found.is_file():
            print(f"{found.relative_to(kit)}  {found.stat().st_size:,} bytes")


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def install(kit: Path) -> str:
    """A virtual environment over the system's packages with the kit's wheels and this checkout
    in it, and bubblewrap unpacked into the kit; returns the environment's Python."""
    venv = kit / "venv"
    for made in (venv, kit / "root"):  # made afresh: a kit tried elsewhere first holds that machine's
        shutil.rmtree(made, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True
    )
    python = str(venv / "bin" / "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    present = set(
        subprocess.run(
            [
                python,
                "-c",
                "from importlib import metadata as m; print(*(d.name for d in m.distributions()))",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.lower()
        .replace("_", "-")
        .split()
    )
    for wheel in sorted((kit / "wheels").glob("*.whl")):  # a wheel is a zip of its site-packages files
        name = wheel.name.split("-")[0].lower().replace("_", "-")
        if name in FALLBACKS and name in present:
            continue  # the server's own copy, built for it, wins
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
    Path(site, "grader-checkout.pth").write_text(f"{ROOT}\n", encoding="utf-8")
    for deb in sorted((kit / "debs").glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(kit / "root")], check=True)
    return python


def environment(kit: Path) -> dict[str, str]:
    """The run's environment: the kit's bubblewrap on PATH, its datasets, never a download."""
    return {
        **os.environ,
        "PATH": f"{kit / 'root' / 'usr' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "GRADER_DATA_HOME": str(kit),
        "KERAS_HOME": str(kit / "keras"),
        "GRADER_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def run(kit: Path, out: Path, *, minutes: float, only: list[str]) -> int:
    """Install, then every step (or those named) in order until ``minutes`` are spent."""
    deadline = time.monotonic() + minutes * 60
    kit, out = kit.resolve(), out.resolve()
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    python = install(kit)
    chosen = steps(python, out)
    unknown = set(only) - {step.name for step in chosen}
    if unknown:
        raise SystemExit(
            f"no such step: {', '.join(sorted(unknown))} (steps: {', '.join(s.name for s in chosen)})"
        )
    ended: dict[str, dict[str, object]] = {}
    machine = _machine()
    for step in chosen:
        if only and step.name not in only:
            continue
        left = deadline - time.monotonic()
        ended[step.name] = (
            _run_step(step, min(step.limit_s, left), kit, logs)
            if left >= 20
            else {"status": "not run: out of time"}
        )
        print(step.name, ended[step.name], flush=True)
        summary = {"machine": machine, "steps": ended}
        (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    with tarfile.open(out / "results.tgz", "w:gz") as archive:
        for path in sorted(out.iterdir()):
            if path.name != "results.tgz":
                archive.add(path, arcname=path.name)
        kept = ROOT / ".benchmarks"
        if kept.is_dir():
            archive.add(kept, arcname="benchmarks-kept")
    return 0


def _run_step(step: Step, limit_s: float, kit: Path, logs: Path) -> dict[str, object]:
    """Run one step's commands in turn; how it ended, its exit codes and seconds."""
    env = {**environment(kit), **step.env}
    started = time.monotonic()
    codes: list[int | str] = []
    with open(logs / f"{step.name}.log", "w", encoding="utf-8") as log:
        for command in step.commands:
            left = limit_s - (time.monotonic() - started)
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            try:
                codes.append(
                    subprocess.run(
                        command,
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        timeout=max(left, 1),
                        check=False,
                    ).returncode
                )
            except subprocess.TimeoutExpired:
                codes.append("timeout")
                break
    seconds = round(time.monotonic() - started, 1)
    status = "timeout" if "timeout" in codes else ("ok" if all(code == 0 for code in codes) else "failed")
    return {"status": status, "exit_codes": codes, "seconds": seconds, "limit_s": round(limit_s)}


def _machine() -> dict[str, object]:
    """What ran it: the GPU as nvidia-smi names it, the cores and the Python."""
    smi = shutil.which("nvidia-smi")
    gpu = (
        subprocess.run(
            [smi, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if smi
        else "none visible"
    )
    return {
        "gpu": gpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": sysconfig.get_platform(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    packing = commands.add_parser("pack", help="gather the kit on a machine with PyPI and apt-get")
    packing.add_argument("kit", type=Path)
    packing.add_argument("--python", default=TARGET_PYTHON, help="the server's Python version")
    running = commands.add_parser("run", help="install the kit and run the steps on the GPU server")
    running.add_argument("kit", type=Path)
    running.add_argument("--out", type=Path, required=True, help="logs, summary.json and results.tgz")
    running.add_argument("--minutes", type=float, default=9.0, help="stop starting steps after this")
    running.add_argument(
        "--only", nargs="+", default=[], metavar="STEP", help="only these steps (in the usual order)"
    )
    args = parser.parse_args()
    if args.command == "pack":
        pack(args.kit, python=args.python)
        return 0
    return run(args.kit, args.out, minutes=args.minutes, only=args.only)


if __name__ == "__main__":
    sys.exit(main())
