"""The child side of the trust boundary: code from a submission runs only in a child process.

``child.py`` is that child (``python -m grader.runner.child``): it imports the submission, builds,
trains and predicts when told to, and answers in JSON lines. ``supervisor.py`` is the grader's
side: it starts the child, hands it arrays as .npy files, enforces each phase's time limit and
reads its answers as plain data. ``describe_file`` (below) is the one-shot variant used by
``grader verify-docs --model``. Everything a child reports is a claim that the grader checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.model_facts import ModelFacts

DESCRIBE_TIMEOUT_S = 300


class RunnerError(Exception):
    """The child failed; the message is written for the submission's author."""


def describe_file(model_file: Path, *, timeout: float = DESCRIBE_TIMEOUT_S) -> ModelFacts:
    """Build ``build_model()`` from ``model_file`` in a child process and return its facts."""
    model_file = Path(model_file).resolve()
    if not model_file.is_file():
        raise RunnerError(f"{model_file} does not exist.")
    with tempfile.TemporaryDirectory(prefix="grader-describe-") as scratch:
        result = Path(scratch) / "facts.json"
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "grader.runner.describe", str(model_file), str(result)],
                cwd=model_file.parent,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RunnerError(
                f"building the model took longer than {timeout:.0f} s and was stopped."
            ) from None
        if completed.returncode != 0 or not result.is_file():
            tail = "\n".join(completed.stderr.strip().splitlines()[-8:])
            raise RunnerError(f"building {model_file.name} failed (exit {completed.returncode}):\n{tail}")
        try:
            return ModelFacts.from_dict(json.loads(result.read_text()))
        except (ValueError, KeyError, TypeError) as error:
            raise RunnerError(f"the child reported unreadable model facts ({error}).") from None
