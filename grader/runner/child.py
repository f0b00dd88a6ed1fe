"""A child process of the grader: one role (grader/runner/roles/) behind the runner protocol.

    python -m grader.runner.child --messages-fd FD --work DIR --recipe NAME --max-epochs N \
        --seed S --precision POLICY --threads T --backend B --trainer grader|submission \
        [--cores LIST] [--gpu-memory-mb M] [--target-accuracy A] (--model FILE | --reference NAME | --declared | --saved FILE)

Protocol, one JSON object per line. The grader sends commands on stdin:
``{"command": "build" | "train" | "predict" | "pace"}`` (and, while pacing, ``mark`` or
``stop``); a command the child's role does not take, or anything else, ends the child. It answers
on file descriptor FD with events: ``ready`` (after Keras's backend is imported, before any
submission code runs), ``built``, ``batch`` and ``epoch`` (progress), ``trained``, ``predicted``,
``pacing``/``mark``/``paced`` or ``error``. Arrays travel as .npy files in DIR: ``x_train.npy``
and ``y_train.npy`` (uint8 images, integer labels) appear before ``train`` (with
``--target-accuracy``, also ``x_val.npy`` and ``y_val.npy``: the split held out of the training
data that decides when to stop), ``x_test.npy`` before ``predict``, and the child writes
``predictions.npy``. After training it saves the model as ``model.keras``. Test labels never
reach any child.

The role follows the subject: ``--model`` (a submission's code) and ``--reference`` make a
builder, ``--declared`` a trainer (it reads ``declaration.json``), ``--saved`` a verifier; every
child that runs no submission code can also pace. The backend (``--backend``: TensorFlow, JAX or
PyTorch, see grader/backends.py) runs ``--threads`` threads per pool (the cores the grade was
given) with its ops made deterministic, so a model trains to the same weights whatever else the
machine is doing. A child started on idle cores as well (``--cores`` names the grade's own) moves
onto the grade's cores once the backend is imported, before it says it is ready.

Everything a child says is a claim to the grader: it re-checks what it can and times every phase
on its own clock.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader import backends
from grader.runner import lazy
from grader.runner.protocol import Channel, SubmissionError, read_command, where
from grader.runner.roles import Builder, Pacer, Trainer, Verifier
from grader.runner.watchdog import pin_threads
from grader.settings import TRAINERS

EVENTS = {"build": "built", "train": "trained", "predict": "predicted", "pace": "paced"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader.runner.child")
    parser.add_argument("--messages-fd", type=int, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument(
        "--recipe", required=True, help="the reference whose recipe fills in what is left out"
    )
    parser.add_argument("--max-epochs", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--precision", default="float32", help="Keras dtype policy for every layer built")
    parser.add_argument(
        "--target-accuracy", type=float, help="stop once the held-out x_val.npy reaches this accuracy"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="the backend's threads per pool (0: its default)"
    )
    parser.add_argument(
        "--cores",
        type=lambda text: frozenset(int(core) for core in text.split(",")),
        help="the grade's own cores, to move onto once the backend is imported (it started on more)",
    )
    parser.add_argument("--backend", choices=backends.BACKENDS, default=backends.DEFAULT)
    parser.add_argument("--trainer", choices=TRAINERS, default="grader", help="who trains the model")
    parser.add_argument("--gpu-memory-mb", type=int, help="the most GPU memory the backend may use")
    subject = parser.add_mutually_exclusive_group(required=True)
    subject.add_argument("--model", type=Path)
    subject.add_argument("--reference")
    subject.add_argument("--declared", action="store_true")
    subject.add_argument("--saved", type=Path)
    return parser


def commands(args: argparse.Namespace, channel: Channel) -> dict[str, Callable[[], dict[str, Any]]]:
    """What this child will do when told: its role's commands, and pacing where no submission code runs."""
    role: Builder | Trainer | Verifier
    if args.saved is not None:
        role = Verifier(args, channel)
    elif args.declared:
        role = Trainer(args, channel)
    else:
        role = Builder(args, channel)
    found = role.commands()
    if args.model is None:
        found["pace"] = Pacer(args, channel).pace
    return found


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    channel = Channel(args.messages_fd)
    os.chdir(args.work)
    os.environ["KERAS_BACKEND"] = args.backend  # before anything imports Keras
    lazy.defer()  # what Keras imports but a grade seldom uses, loaded when first used
    if args.cores:  # started on idle cores as well as the grade's (grader/cores.py, Lent)
        importlib.import_module(args.backend)  # the slow part of a start, there
        pin_threads(args.cores)  # then onto the grade's own, before the backend makes a thread pool
    found = backends.start(args.backend, threads=args.threads, gpu_memory_mb=args.gpu_memory_mb)
    channel.send("ready", python=platform.python_version(), **found)
    actions = commands(args, channel)
    model_file = args.model.resolve() if args.model else None
    while (command := read_command()) in actions:
        assert command is not None
        try:
            channel.send(EVENTS[command], **actions[command]())
        except BaseException as error:  # report anything, even SystemExit from student code
            if isinstance(error, SubmissionError):
                message = str(error)
            elif isinstance(error, SyntaxError):
                message = f"SyntaxError: {error.msg}"  # where it is comes separately
            else:
                message = backends.out_of_gpu_memory(f"{type(error).__name__}: {error}", args.gpu_memory_mb)
            channel.send("error", phase=command, message=message, where=where(model_file))
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
