"""The grader's side of the runner protocol: start a child, feed it data, time it, stop it.

    with Runner(Subject.submission(model_py), recipe="conv_32_64_64", training=..., work=tmp) as builder:
        built = builder.build()                       # runs the submission's code
    with Runner(Subject.declaration(), ...) as trainer:  # runs none of it
        trainer.rebuild(built.declaration)
        trained = trainer.train(x_train, y_train)
        scores = trainer.predict(x_test)

A child that runs no submission code can also pace (``pace``, ``mark``, ``stop_pacing``): train
the reference beside another child's training, for the training clock (grader/timing.py).

Every phase has a deadline on the grader's clock; a child that misses it, dies, or says
something malformed is stopped (its whole process group) and the phase fails with a message
for the student, followed by the tail of what the child printed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grader import wire
from grader.backends import child_env
from grader.device import gpu_memory_mb, gpu_selection
from grader.model_facts import ModelFacts
from grader.runner import RunnerError
from grader.runner.files import UnsafeFile, read_array, write_array, write_file
from grader.runner.sandbox import Sandbox, choose, claim_user, give, limit_resources, runtime_paths
from grader.runner.watchdog import Usage, Watchdog, pin_threads, tree
from grader.runner.zygote import Forked, Zygote, ZygoteError
from grader.settings import MB, Limits, Training
from grader.submission import entry_form
from grader.timing import PaceMark, Stop

if TYPE_CHECKING:
    from grader.cores import Lent

SAVED_MODEL = "model.keras"
BUILT_MODEL = "built.keras"  # the model as built, saved by a builder that trains itself
DECLARATION = "declaration.json"
MAX_UNREAD = 10_000  # lines a child may write ahead of the grader's reading
FLOODED = b"flooded"  # queued in place of the line past MAX_UNREAD: not JSON, so malformed
FREEZE_SWEEPS = 4  # passes over a child's processes to stop them all
PACE_TIMEOUT_S = 120.0  # to build and trace the pace-setter, or to answer a mark
EXIT_WAIT_S = 10.0  # for every process of a killed child to be gone
LOG_TAIL_LINES = 12
LOG_TAIL_BYTES = 64 << 10
LOG_LINE_CHARS = 2_000  # one printed line, as the report shows it
DONE = frozenset({"ready", "built", "trained", "predicted", "paced"})  # events after which a child is idle
WATCH_INTERVAL_S = 1.0  # how often a training's watch is asked whether it must stop
EventHandler = Callable[[dict[str, Any]], None]

Watch = Callable[[], "Stop | None"]  # asked while a child trains: a reason to stop it now, or None


class PhaseFailed(RunnerError):
    """One phase of the child failed; ``message`` is for the student, ``log`` is what it printed,
    ``limit`` the assignment key of the limit that stopped it, if one did."""

    def __init__(self, phase: str, message: str, *, where: str = "", log: str = "", limit: str = "") -> None:
        super().__init__(f"{phase}: {message}")
        self.phase = phase
        self.message = message
        self.where = where
        self.log = log
        self.limit = limit


@dataclass(frozen=True)
class Subject:
    """What a child runs (grader/runner/roles/): a submission's ``model.py`` (from a copy of its
    folder) or a reference, built by the builder; a declared model, rebuilt by the grader's trainer;
    or a trained model saved by another child, loaded by the verifier. Only the first runs
    submission code."""

    label: str
    model_file: Path | None = None
    reference: str | None = None
    declared: bool = False

    @classmethod
    def submission(cls, model_file: Path) -> Subject:
        model_file = Path(model_file).resolve()
        return cls(model_file.parent.name, model_file=model_file)

    @property
    def runs_program(self) -> bool:
        """A notebook or script, which loads the grader's images before its model is built."""
        return self.model_file is not None and entry_form(self.model_file) != "model"

    @classmethod
    def for_reference(cls, name: str) -> Subject:
        return cls(f"reference {name}", reference=name)

    @classmethod
    def declaration(cls) -> Subject:
        """The model a builder declared, rebuilt and trained on the grader's side (``Runner.rebuild``)."""
        return cls("grader's trainer", declared=True)

    @classmethod
    def saved_model(cls) -> Subject:
        """The model a submission's child trained, copied in as ``SAVED_MODEL`` before ``build``."""
        return cls("trained model")

    def prepare(self, work: Path) -> tuple[str, ...]:
        """The child's subject arguments; a submission's folder is copied into ``work`` first."""
        if self.reference is not None:
            return ("--reference", self.reference)
        if self.declared:
            return ("--declared",)
        if self.model_file is None:
            return ("--saved", str(work / SAVED_MODEL))
        copy = work / "submission"
        skip = shutil.ignore_patterns("__pycache__", "*.pyc")

        def ignore(folder: str, names: list[str]) -> set[str]:
            inside = {name for name in names if Path(folder, name).resolve() == work.resolve()}
            return set(skip(folder, names)) | inside  # never copy the scratch into itself

        shutil.copytree(self.model_file.parent, copy, symlinks=True, ignore=ignore)
        return ("--model", str(copy / self.model_file.name))


@dataclass(frozen=True)
class Built:
    """The child's account of the built model (checked by the grader where it can be)."""

    facts: ModelFacts
    compiled_by: str
    optimizer: str
    loss: str
    labels: str
    fit: dict[str, Any]
    notes: tuple[str, ...]
    learning_rate: float | None = None
    declaration: dict[str, Any] | None = None  # the builder's, under trainer = "grader": a claim to vet
    notes_cut: int = 0  # notes past wire.MAX_NOTES, not kept


@dataclass(frozen=True)
class Trained:
    """Training as the grader timed it, with the child's report of epochs and final metrics."""

    seconds: float
    epochs: int
    final: dict[str, float]


class Cancelled(RunnerError):
    """The grading this child belonged to was cancelled (a class batch was interrupted)."""


class Cancellation:
    """Stops every child started under it, now and from then on: what Ctrl-C on a class does.
    Children run in their own sessions, so the terminal's interrupt never reaches them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runners: set[Runner] = set()
        self._interrupted = threading.Event()
        self.cancelled = False

    def enter(self, runner: Runner) -> None:
        with self._lock:
            if self.cancelled:
                raise Cancelled("grading was interrupted")
            self._runners.add(runner)

    def leave(self, runner: Runner) -> None:
        with self._lock:
            self._runners.discard(runner)

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (for a lock another grader holds), or raise ``Cancelled`` as soon as
        grading is interrupted: a grade waiting for cores or figures must not outlive Ctrl-C."""
        if self._interrupted.wait(seconds):
            raise Cancelled("grading was interrupted")

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            self._interrupted.set()
            runners = list(self._runners)
        for runner in runners:
            runner.kill()


@dataclass(eq=False)
class Runner:
    """One child process for one subject; use as a context manager so it is always stopped.
    ``cpus`` pins the child to those cores (one TensorFlow thread per core); ``cancellation`` can
    stop it from another thread."""

    subject: Subject
    recipe: str
    training: Training
    work: Path
    on_event: EventHandler | None = None
    sandbox: Sandbox = field(default_factory=choose)
    limits: Limits = field(default_factory=Limits)
    cpus: frozenset[int] | None = None
    lent: Lent | None = None  # idle cores it may also start on (grader/cores.py), off them once ready
    cancellation: Cancellation | None = None
    target: float | None = None  # time-to-accuracy: stop once the held-out split reaches this
    timings: dict[str, float] = field(default_factory=dict)
    ready: dict[str, Any] = field(default_factory=dict)
    kept: bool = False  # lent by a class's warm children (grader/runner/warm.py): serves grade after grade
    release: Callable[[Runner], None] | None = field(default=None, repr=False)  # how a kept child goes back
    grades: int = 0  # grades it has served so far (a kept child serves several)
    zygote: Zygote | None = None  # to fork this child from (grader/runner/zygote.py)
    _process: subprocess.Popen[bytes] | Forked | None = field(default=None, init=False, repr=False)
    _busy: bool = field(default=False, init=False, repr=False)  # a command sent and not yet answered
    _startup_cpus: frozenset[int] = field(default=frozenset(), init=False, repr=False)  # lent, until ready

    @property
    def peak_memory_mb(self) -> float:
        return self._watchdog.peak_memory_bytes / MB if self._process else 0.0

    @property
    def started(self) -> bool:
        return self._process is not None

    @property
    def fresh_memory_bytes(self) -> int:
        """What a kept child held when it was new and idle (0 before it is ready)."""
        return (self._watchdog.fresh_memory_bytes or 0) if self._process else 0

    def __enter__(self) -> Runner:
        if self._process is None:
            self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def wait_ready(self) -> None:
        """Wait until the child has started Python, Keras and its backend (at once if it already has),
        starting it first if no one has."""
        if self._process is None:
            self.start()
        if not self.ready:
            try:
                self.ready = self._ready(
                    self._await(
                        "start",
                        "ready",
                        self.limits.startup_s,
                        "starting Python and Keras",
                        "limits.startup_s",
                    )
                )
            except (PhaseFailed, ZygoteError) as failure:
                if not isinstance(self._process, Forked) or self.zygote is None:
                    raise
                # No submission code runs before a child is ready: a fork that failed to get there
                # is the zygote's failure, never the student's. The child starts afresh.
                self.zygote.broken = f"children start afresh: a fork ended while starting ({failure})"
                self.stop()
                self._process = None
                self.zygote = None
                self._reclaim()
                if self.subject.model_file is not None:  # copied again as the fresh builder starts
                    shutil.rmtree(self.work / "submission")
                return self.wait_ready()
            self.timings["startup"] = time.monotonic() - self._started
            if self._startup_cpus:
                self._off_lent_cores()
            if self.kept:  # what it holds idle when new: a kept child's later grades count from it
                self._watchdog.fresh_memory_bytes = self.usage().memory_bytes

    def _ready(self, message: dict[str, Any]) -> dict[str, Any]:
        """What the child says of itself once started (Python's and Keras's versions, its devices),
        as a small record of plain values."""
        try:
            return wire.scalars(message, what="the runner's start-up report")
        except wire.Malformed as error:
            raise self._failed("start", f"the runner's start-up report was malformed ({error}).") from None

    def _off_lent_cores(self) -> None:
        """The child moved itself onto its own cores before it said it was ready; the sandbox's
        helpers around it still may use the lent ones until moved too, and then the watchdog
        holds the whole tree to its own."""
        assert self._process is not None and self.cpus and self.lent is not None
        pin_threads(self.cpus, tree(self._process.pid, self._uid))
        self._watchdog.cores = self.cpus
        self._startup_cpus = frozenset()
        self.lent.give_back()

    def start(self) -> Runner:
        """Start the child without waiting for it (``with`` waits), so its start-up can overlap others."""
        if self._process is not None:
            return self  # started already (a kept child, lent by grader/runner/warm.py)
        if self.cancellation is not None:
            self.cancellation.enter(self)
        self.work.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        # The child's output goes to an unnamed file outside its scratch: nothing it can swap for a link.
        self._log = tempfile.TemporaryFile(prefix="grader-output-")  # noqa: SIM115 - closed in stop()
        subject = self.subject.prepare(self.work)
        (self.work / "tmp").mkdir(exist_ok=True)
        fonts = self.work / ".matplotlib"  # Keras imports matplotlib: a ready font list keeps it quiet
        fonts.mkdir(exist_ok=True)
        for found in _font_lists():
            shutil.copyfile(found, fonts / found.name)
        startup = self.lent.borrow() if self.lent is not None and self.cpus else frozenset()
        self._startup_cpus = startup - (self.cpus or frozenset())
        cores = (self.cpus | startup) if self.cpus else None  # until it is ready, then self.cpus
        card_mb = gpu_memory_mb()  # on a GPU, a child may use limits.gpu_memory_mb of the card
        gpu_mb = min(self.limits.gpu_memory_mb, card_mb) if card_mb else 0
        env = {
            **base_env(self.training.backend, gpu_fraction=gpu_mb / card_mb if card_mb else None),
            "HOME": str(self.work),
            "TMPDIR": str(self.work / "tmp"),
            "KERAS_HOME": str(self.work / ".keras"),
            "MPLCONFIGDIR": str(fonts),
            **gpu_selection(),
        }
        argv = [
            sys.executable,
            "-m",
            "grader.runner.child",
            "--messages-fd",
            str(write_fd),
            "--work",
            str(self.work),
            "--recipe",
            self.recipe,
            "--max-epochs",
            str(self.training.max_epochs),
            "--seed",
            str(self.training.seed),
            "--precision",
            self.training.precision,
            "--threads",
            str(len(self.cpus or ())),
            *(["--cores", ",".join(str(core) for core in sorted(self.cpus or ()))] if startup else []),
            "--backend",
            self.training.backend,
            "--trainer",
            self.training.trainer,
            *(["--gpu-memory-mb", str(gpu_mb)] if gpu_mb else []),
            *(["--target-accuracy", repr(self.target)] if self.target is not None else []),
            *subject,
        ]
        forked = self.zygote is not None and self.zygote.available()
        self._uid = uid = claim_user() if forked else self.sandbox.claim_uid()
        if uid is not None:
            give(self.work, uid) if forked else self.sandbox.hand_over(self.work, uid)
        readable = [*runtime_paths(), *([self.work / "submission"] if self.subject.model_file else [])]
        self._started = time.monotonic()
        self._process = self._fork(argv, env, readable, cores, write_fd) if forked else None
        if self._process is None and forked:  # the zygote could not: a fresh child, as everywhere else
            self.sandbox.release_uid(uid)
            self._uid = uid = None
            self._reclaim()
        self._process = self._process or subprocess.Popen(
            self.sandbox.command(argv, work=self.work, readable=readable, env=env),
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.work,
            env=env,
            pass_fds=(write_fd,),
            start_new_session=True,
            # A kept child's kernel limit leaves room for the grades it serves (it is recycled before
            # using limits.cpu_s in all); the watchdog holds each of them to limits.cpu_s of its own.
            preexec_fn=limit_resources(
                replace(self.limits, cpu_s=self.limits.cpu_s * 2) if self.kept else self.limits,
                cores,
                sandbox=self.sandbox,
                uid=uid,
            ),
        )
        os.close(write_fd)
        self._busy = True  # until it says it is ready
        self._events: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._read, args=(read_fd,), daemon=True).start()
        self._watchdog = Watchdog(
            self._process.pid,
            self.limits,
            self._log.fileno(),
            self._kill,
            cores,
            uid,
            root_is_init=isinstance(self._process, Forked),
        ).start()
        if self.cancellation is not None and self.cancellation.cancelled:
            self._kill()  # cancelled while it was starting: its first wait fails at once
        return self

    def _reclaim(self) -> None:
        """The scratch given to a forked builder's user, the grader's again (bubblewrap's to bind)."""
        for path in [self.work, *self.work.rglob("*")]:
            os.chown(path, os.getuid(), os.getgid(), follow_symlinks=False)

    def _fork(
        self,
        argv: list[str],
        env: dict[str, str],
        readable: list[Path],
        cores: frozenset[int] | None,
        messages: int,
    ) -> Forked | None:
        """This child forked from its zygote (None where it cannot be, then it starts afresh)."""
        assert self.zygote is not None and self._uid is not None
        try:
            return self.zygote.spawn(
                argv[5:],  # after python -m grader.runner.child --messages-fd N
                env=env,
                work=self.work,
                readable=readable,
                limits=self.limits,
                cpus=cores,
                uid=self._uid,
                fds=(self._log.fileno(), messages),
            )
        except ZygoteError:
            return None

    def __exit__(self, *exc: object) -> None:
        self.done()

    def done(self) -> None:
        """This grade is done with the child: stop it, or give a kept one back to its warm children."""
        if self.release is not None:
            self.release(self)
        else:
            self.stop()

    @property
    def idle(self) -> bool:
        """Started, alive, within its limits and waiting for a command: fit to serve another grade."""
        process = self._process
        return (
            process is not None
            and not self._log.closed
            and process.poll() is None
            and not self._busy
            and not self._watchdog.tripped
            and self._events.empty()
        )

    def renew(self) -> None:
        """Make an idle child ready for another grade, as if it had just started: its files, log,
        timings and the limits' counts from the last grade are gone. Only for children that run no
        submission code (grader/runner/warm.py); what the model in it was is reset by its role."""
        assert self.idle and self.subject.model_file is None
        for path in self.work.iterdir():
            if path.is_file() or path.is_symlink():
                path.unlink()
        fd = self._log.fileno()
        os.ftruncate(fd, 0)  # one grade's output never shows in another's log
        os.lseek(fd, 0, os.SEEK_SET)  # the child writes through the same file offset
        self.timings = {}
        self.on_event = None
        self._watchdog.rebase()
        self._watchdog.pause()  # until ``resume``: an idle child has nothing to catch

    def resume(self) -> None:
        """A renewed child lent to its next grade: watched again, its counts from now."""
        self._watchdog.resume()

    def stop(self) -> None:
        """Kill the child and all it started, at once, and return once every one of its processes
        is gone (safe to call twice). No grace period: a child that lied about finishing a phase
        must not get a few more seconds to make it true."""
        process = self._process
        if process is None or self._log.closed:  # never started, or stopped already
            return
        self._kill()
        process.wait()
        self._watchdog.stop()
        self.sandbox.release_uid(self._uid)
        if process.stdin:
            with contextlib.suppress(BrokenPipeError):  # a command it never read
                process.stdin.close()
        self._log.close()
        if self.cancellation is not None:
            self.cancellation.leave(self)

    def freeze(self) -> None:
        """Stop every process of a submission's child where it stands, the moment it says training
        has finished: its saved model and CPU time are then what they were when it said so. A
        submission that claims to be done early, hoping its training goes on off the clock, is
        held to the claim (its model is missing or half-written). Only stopping it is left."""
        assert self._process is not None
        frozen: set[int] = set()
        for _ in range(FREEZE_SWEEPS):  # again, for any process forked while the first were stopped
            found = set(tree(self._process.pid, self._uid)) - frozen
            if not found:
                break
            for pid in found:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGSTOP)
            frozen |= found

    def kill(self) -> None:
        """Kill the child from any thread; the phase waiting on it then fails."""
        if self._process is not None:
            self._kill()

    def cpu_seconds(self) -> float:
        """CPU time the child's whole process tree has used so far (read from /proc now)."""
        assert self._process is not None
        return self._watchdog.usage_now().cpu_seconds

    def usage(self) -> Usage:
        """What the child's whole process tree holds and has used so far (read from /proc now)."""
        assert self._process is not None
        return self._watchdog.usage_now()

    # -- phases ----------------------------------------------------------------------------------
    def build(self, images: tuple[np.ndarray, np.ndarray] | None = None) -> Built:
        """Build the subject's model; a notebook or script is handed ``images`` (the grader's
        training images and labels) first, for its ``load_data()``."""
        if self.subject.runs_program:
            assert images is not None, "a notebook or script needs the training images to build"
            write_array(self.work / "x_train.npy", images[0])
            write_array(self.work / "y_train.npy", images[1])
        started = time.monotonic()
        self._send("build")
        message = self._await("build", "built", self.limits.build_s, "building the model", "limits.build_s")
        self.timings["build"] = time.monotonic() - started
        try:
            return read_built(message)
        except wire.Malformed as error:
            raise self._failed("build", f"the runner's report was malformed ({error}).") from None

    def rebuild(self, declaration: dict[str, Any]) -> Built:
        """Hand a trainer the model a builder declared, and build it there (the trainer vets it first)."""
        write_file(self.work / DECLARATION, json.dumps(declaration).encode())
        return self.build()

    def train(
        self,
        x_train: np.ndarray,
        y_train: np.ndarray,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        watch: Watch | None = None,
    ) -> Trained:
        """Train on ``x_train``; with a ``target``, ``validation`` is the held-out split it is
        measured on. ``watch`` is asked every ``WATCH_INTERVAL_S`` while it trains: a reason it
        gives stops training at once (grader/timing.py stops a run whose cost cannot pass)."""
        write_array(self.work / "x_train.npy", x_train)
        write_array(self.work / "y_train.npy", y_train)
        if validation is not None:
            write_array(self.work / "x_val.npy", validation[0])
            write_array(self.work / "y_val.npy", validation[1])
        limit = self.training.time_limit_s
        started = time.monotonic()
        self._send("train")
        message = self._await("train", "trained", limit, "training", "training.time_limit_s", watch)
        seconds = time.monotonic() - started
        if self.subject.model_file is not None:
            self.freeze()
        self.timings["train"] = seconds
        try:
            epochs = wire.whole(message.get("epochs"), 0, 10**9, what="the epochs trained")
            final = wire.progress({"event": "trained", "logs": message.get("final")})["logs"]
        except wire.Malformed:
            epochs, final = 0, {}  # what it trained is measured, not taken from its report
        return Trained(seconds, epochs, final)

    def predict(self, x_test: np.ndarray) -> np.ndarray:
        """The model's outputs for ``x_test``, checked to be finite numbers of a sane size."""
        path = self.work / "predictions.npy"
        path.unlink(missing_ok=True)
        write_array(self.work / "x_test.npy", x_test)
        started = time.monotonic()
        self._send("predict")
        self._await(
            "predict", "predicted", self.limits.predict_s, "predicting on the test images", "limits.predict_s"
        )
        self.timings["predict"] = time.monotonic() - started
        try:
            predictions = read_array(path, max_bytes=len(x_test) * 10 * 8 + 4096)
        except UnsafeFile as error:
            raise self._failed("predict", f"the runner's predictions were refused: {error}.") from None
        except ValueError as error:
            raise self._failed("predict", f"the predictions file is unreadable ({error}).") from None
        if predictions.dtype.kind not in "fiu":
            raise self._failed("predict", f"predictions are {predictions.dtype}, not numbers.")
        return predictions

    def pace(self, x_train: np.ndarray, y_train: np.ndarray) -> PaceMark:
        """Start pacing: train the reference on these images until ``stop_pacing``; returns once it
        is warm. Only for a child that runs no submission code."""
        write_array(self.work / "x_pace.npy", x_train)
        write_array(self.work / "y_pace.npy", y_train)
        self._send("pace")
        return PaceMark.from_event(self._await("pace", "pacing", PACE_TIMEOUT_S, "starting to pace", ""))

    def mark(self) -> PaceMark:
        """The pace-setter's steps and CPU time now, with its samples since the last mark."""
        self._send("mark")
        return PaceMark.from_event(self._await("pace", "mark", PACE_TIMEOUT_S, "pacing", ""))

    def stop_pacing(self) -> PaceMark:
        self._send("stop")
        return PaceMark.from_event(self._await("pace", "paced", PACE_TIMEOUT_S, "pacing", ""))

    # -- plumbing ------------------------------------------------------------------------------
    def _read(self, fd: int) -> None:
        """Queue the child's lines for ``_await``. A child that writes ``MAX_UNREAD`` more lines than
        the grader has read is flooding it: reading stops there (its writes then fail) and the
        phase waiting on it reads that as a malformed message."""
        with os.fdopen(fd, "rb") as stream:
            while True:
                line = stream.readline(wire.MAX_LINE_BYTES)
                if not line:
                    break
                if self._events.qsize() >= MAX_UNREAD:
                    self._events.put(FLOODED)
                    return
                self._events.put(line)
        self._events.put(None)

    def _kill(self) -> None:
        """Kill every process of the child's tree and its process group (in the fallback under
        root, every process of its user), then wait until none is left. Under bubblewrap the
        sandbox's inner processes are in a session of their own and die only after the outer one,
        so they are killed by name (pid), not only by group."""
        assert self._process is not None
        root, uid = self._process.pid, self._uid
        doomed = tree(root, uid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(root, signal.SIGKILL)
        deadline = time.monotonic() + EXIT_WAIT_S
        while doomed and time.monotonic() < deadline:
            for pid in doomed:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
            # Wait for those to die; the fallback's user is swept again (one may have forked).
            doomed = [
                pid
                for pid in {*doomed, *(tree(root, uid)[1:] if uid is not None else ())}
                if pid != root and _alive(pid)
            ]

    def _send(self, command: str) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._busy = True
        try:
            self._process.stdin.write((json.dumps({"command": command}) + "\n").encode())
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child is gone; _await reports how it ended

    def _await(
        self, phase: str, expected: str, timeout: float, doing: str, key: str, watch: Watch | None = None
    ) -> dict[str, Any]:
        """The child's answer ``expected`` to the command just sent. Every line it writes is read
        under the wire's limits (grader/wire.py): a malformed one fails the phase, as the child's
        own failure."""
        assert self._process is not None
        deadline = time.monotonic() + timeout
        looked = time.monotonic()
        while True:
            remaining = deadline - time.monotonic()
            if watch is not None and time.monotonic() - looked >= WATCH_INTERVAL_S:
                looked = time.monotonic()
                if stopped := watch():
                    self._kill()
                    raise self._failed(phase, stopped.message, limit=stopped.limit)
            wait = min(remaining, WATCH_INTERVAL_S) if watch is not None else remaining
            try:
                line = self._events.get(timeout=max(wait, 0.0))
            except queue.Empty:
                if time.monotonic() < deadline:
                    continue  # only the watch's turn
                self._kill()
                said = f"stopped after {timeout:g} s while {doing}; the limit is {timeout:g} s ({key})."
                raise self._failed(phase, said, limit=key) from None
            if line is None:
                raise self._ended(phase, doing)
            try:
                if line is FLOODED:
                    raise wire.Malformed(
                        f"it wrote over {MAX_UNREAD:,} messages the grader had not asked for"
                    )
                message = wire.event(line)
                event = message["event"]
                if event in ("batch", "epoch"):
                    message = wire.progress(message)
            except wire.Malformed as malformed:
                self._kill()
                raise self._failed(phase, f"the runner sent a malformed message: {malformed}.") from None
            if event == expected:
                self._busy = event not in DONE
                return message
            if event == "error":
                if self._watchdog.poll():  # a limit passed just before the error is the real cause
                    raise self._ended(phase, doing)
                text = _said(message.get("message"), "unknown error")
                limit = ""
                if "[Errno 27]" in text:  # EFBIG: RLIMIT_FSIZE refused a write
                    text += f"; the limit for one file is {self.limits.file_mb:,} MB (limits.file_mb)"
                    limit = "limits.file_mb"
                raise self._failed(
                    phase, text, _said(message.get("where"), "", wire.MAX_NOTE_CHARS), limit=limit
                )
            if event in ("batch", "epoch") and self.on_event is not None:
                self.on_event(message)

    def _ended(self, phase: str, doing: str) -> PhaseFailed:
        """Why the child ended unasked: a limit the watchdog or the kernel enforced, or its own exit."""
        assert self._process is not None
        code = self._process.wait()
        self._watchdog.stop()
        if self._watchdog.tripped:
            message = f"stopped while {doing}: it {self._watchdog.tripped}."
            return self._failed(phase, message, limit=self._watchdog.tripped_limit)
        if isinstance(self._process, Forked) and self._process.lost:  # an error, so no grade is kept
            raise ZygoteError(f"the zygote this builder was forked from ended while {doing}; grade again")
        if code > 128 and self.sandbox.kind == "bubblewrap":
            code = 128 - code  # bubblewrap reports a child killed by signal N as 128 + N
        if code == -signal.SIGXCPU:
            cpu = self.limits.cpu_s
            message = f"stopped while {doing}: it used {cpu:,} s of CPU time; the limit is {cpu:,} s (limits.cpu_s)."
            return self._failed(phase, message, limit="limits.cpu_s")
        if code < 0:
            return self._failed(phase, f"the process was killed by {_signal_name(-code)} while {doing}.")
        hint = " (model.py must not call exit() or os._exit())" if code == 0 else ""
        return self._failed(phase, f"the process exited with code {code} while {doing}{hint}.")

    def _failed(self, phase: str, message: str, where: str = "", limit: str = "") -> PhaseFailed:
        return PhaseFailed(phase, message, where=where, log=self.log_tail(), limit=limit)

    def log_tail(self) -> str:
        """The last lines the child printed (its stdout and stderr), minus TensorFlow's notices."""
        if self._log.closed:
            return ""
        fd = self._log.fileno()
        size = os.fstat(fd).st_size
        text = os.pread(fd, LOG_TAIL_BYTES, max(0, size - LOG_TAIL_BYTES)).decode(errors="replace")
        lines = [line for line in text.splitlines() if line.strip() and not _is_tf_notice(line)]
        return "\n".join(wire.text(line, LOG_LINE_CHARS) for line in lines[-LOG_TAIL_LINES:])


def read_built(message: dict[str, Any]) -> Built:
    """A ``built`` event as the grader keeps it: every field checked and bounded (raises
    ``wire.Malformed``). Its notes are the child's: at most ``wire.MAX_NOTES`` are kept."""
    notes, cut = wire.notes(message.get("notes"))
    fit = message.get("fit")
    declaration = message.get("declaration")
    if not isinstance(fit, dict) or (declaration is not None and not isinstance(declaration, dict)):
        raise wire.Malformed("its fit settings or declaration are not objects")
    rate = message.get("learning_rate")
    return Built(
        facts=ModelFacts.from_dict(message.get("facts")),
        compiled_by=wire.text(message.get("compiled_by"), 32, what="who compiled it"),
        optimizer=wire.text(message.get("optimizer"), 64, what="the optimizer"),
        loss=wire.text(message.get("loss"), 64, what="the loss"),
        labels=wire.text(message.get("labels"), 32, what="the labels' form"),
        fit=wire.scalars(fit, what="the fit settings"),
        notes=notes,
        learning_rate=None if rate is None else wire.number(rate, what="the learning rate"),
        declaration=declaration,
        notes_cut=cut,
    )


def _said(value: Any, otherwise: str, limit: int = wire.MAX_TEXT) -> str:
    """A child's words (an error's message, where it happened) as bounded text."""
    return wire.text(value, limit) if isinstance(value, str) else otherwise


def base_env(backend: str, *, gpu_fraction: float | None = None) -> dict[str, str]:
    """The environment every child starts with, before its own folders (``Runner.start``)."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONNOUSERSITE": "1",
        **child_env(backend, gpu_fraction=gpu_fraction),
    }


@functools.cache
def _font_lists() -> tuple[Path, ...]:
    """Matplotlib's font list, built once on this machine. Keras imports matplotlib, which without
    one runs ``fc-list`` at every start: slower, and inside the sandbox it prints a Fontconfig
    error that the student's code never printed."""
    import matplotlib
    import matplotlib.font_manager  # builds the list if this machine has none yet

    return tuple(Path(matplotlib.get_cachedir()).glob("fontlist-*.json"))


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (a zombie has ended; only its exit status is left)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _is_tf_notice(line: str) -> bool:
    return line.startswith(
        ("I0000", "WARNING: All log messages", "To enable the following", "E0000", "W0000")
    )
