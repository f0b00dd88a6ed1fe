"""The child side of the trust boundary: code from a submission runs only in a child process.

``child.py`` is a child (``python -m grader.runner.child``) in one of the roles of ``roles/``:
the builder runs a submission's code and declares its model; the trainer rebuilds that
declaration and trains it; the verifier loads a trained model and predicts; the pacer keeps the
training clock. Only the builder ever runs student code. ``supervisor.py`` is the grader's side:
it starts each child (inside ``sandbox.py``'s sandbox, under its limits, watched by
``watchdog.py``), hands it arrays as .npy files, enforces each phase's time limit and reads its
answers as plain data. ``describe_file`` (below) is the one-shot variant used by
``grader verify-docs --model``. Everything a child reports is a claim that the grader checks.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from grader.backends import DEFAULT
from grader.model_facts import ModelFacts

DESCRIBE_TIMEOUT_S = 300.0


class RunnerError(Exception):
    """The child failed; the message is written for the submission's author."""


def describe_file(
    model_file: Path, *, backend: str = DEFAULT, timeout: float = DESCRIBE_TIMEOUT_S
) -> ModelFacts:
    """Build ``build_model()`` from ``model_file`` in a sandboxed child on ``backend`` and return its
    facts; a notebook or script runs to its fit call, its ``load_data()`` answered with a few
    hundred training images of the MNIST sample (``grader data provision``)."""
    from grader.runner.supervisor import PhaseFailed, Runner, Subject
    from grader.settings import Limits, Training

    model_file = Path(model_file).resolve()
    if not model_file.is_file():
        raise RunnerError(f"{model_file} does not exist.")
    with tempfile.TemporaryDirectory(prefix="grader-describe-") as scratch:
        runner = Runner(
            Subject.submission(model_file),
            recipe="conv_32_64_64",  # any recipe: nothing is trained
            training=Training(max_epochs=1, time_limit_s=1.0, backend=backend, trainer="submission"),
            work=Path(scratch),
            limits=Limits(build_s=timeout),
        )
        images = None
        if runner.subject.runs_program:
            from grader.check import CHECK_COUNT
            from grader.data import load_dataset

            sample = load_dataset("mnist_sample", allow_download=False)
            images = sample.x_train[:CHECK_COUNT], sample.y_train[:CHECK_COUNT]
        try:
            with runner:
                return runner.build(images=images).facts
        except PhaseFailed as failure:
            where = f" ({failure.where})" if failure.where else ""
            log = f"\n{failure.log}" if failure.log else ""
            raise RunnerError(f"building {model_file.name} failed: {failure.message}{where}{log}") from None
