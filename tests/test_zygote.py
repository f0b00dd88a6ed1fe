"""A class's zygote: builders forked from it declare exactly what a fresh builder does, each is
confined as bubblewrap would confine it, no fork sees another or the zygote, and where the zygote
cannot fork, builders start afresh.

Real builders on real submissions (alice, and a snooping model.py written here); the grader runs
as root wherever builders are forked, so these skip elsewhere.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from grader.runner.declare import declare
from grader.runner.sandbox import choose
from grader.runner.supervisor import PhaseFailed, Runner, Subject, _alive, base_env
from grader.runner.watchdog import tree
from grader.runner.zygote import Forked, Zygote, ZygoteError, problem
from grader.settings import Training
from reference import load
from tests.conftest import BACKEND, CLASS_ASSIGNMENT, HOSTILE, SUBMISSIONS

pytestmark = pytest.mark.spread  # each test starts its own zygote
TRAINING = Training(max_epochs=1, time_limit_s=300.0, backend=BACKEND, trainer="grader")
FIT = {"batch_size": 64, "epochs": 1, "validation_split": 0.0, "shuffle": True, "callbacks": []}
SNOOP = """
import json, os, pathlib, socket
seen = {
    "pid": os.getpid(),
    "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "uid": os.getuid(),
    "capabilities": [line.split()[1] for line in open("/proc/self/status") if line.startswith("Cap")],
    "earlier": sorted(p.name for p in pathlib.Path("/tmp").iterdir()),
    "zygote_scratch": sorted(os.listdir((pathlib.Path(__file__).parent / "zygote.txt").read_text())),
    "writable_root": os.access("/", os.W_OK),
}
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    seen["network"] = True
except OSError:
    seen["network"] = False
pathlib.Path("/tmp/left-by-" + pathlib.Path.cwd().name).write_text("here")
print("SEEN " + json.dumps(seen))

def build_model():
    raise RuntimeError("only looking")
"""


@pytest.fixture(scope="module")
def zygote():
    if (reason := problem(choose("auto").kind)) is not None:
        pytest.skip(reason)
    found = Zygote(BACKEND, base_env(BACKEND))
    assert found.available(), found.broken
    yield found
    found.close()


def builder(folder: Path, work: Path, zygote: Zygote | None) -> Runner:
    return Runner(
        Subject.submission(folder / "model.py"),
        recipe="conv_32_64_64",
        training=TRAINING,
        work=work,
        cpus=frozenset({min(os.sched_getaffinity(0))}),
        zygote=zygote,
    )


@pytest.mark.matrix  # on every TensorFlow version and Keras backend in CI
def test_a_forked_builder_declares_exactly_what_a_fresh_one_does(tmp_path, zygote):
    built = []
    for name, source in (("fresh", None), ("forked", zygote), ("forked-again", zygote)):
        with builder(SUBMISSIONS / "alice", tmp_path / name, source) as child:
            assert isinstance(child._process, Forked) == (source is not None)
            built.append(child.build())
    assert built[0].declaration is not None
    assert built[0].declaration == built[1].declaration == built[2].declaration
    assert built[0].facts == built[1].facts == built[2].facts


@pytest.mark.matrix
def test_a_forked_trainer_trains_and_paces_exactly_as_a_fresh_one(tmp_path, zygote, sample):
    """A grade of its own forks its trainer and pace-setter too: the forked trainer's outputs are a
    fresh one's bit for bit, and a forked child paces at the pace-setter's lower priority (a fork
    once could not lower it, and paced at full weight beside the training it measured)."""
    declaration = declare(load("conv_32_64_64").build_model(), FIT, parts=[]).to_dict()
    outputs = []
    for name, source in (("fresh", None), ("forked", zygote)):
        child = Runner(Subject.declaration(), recipe="conv_32_64_64", training=TRAINING, work=tmp_path / name)
        with replace(child, zygote=source) as trainer:
            assert isinstance(trainer._process, Forked) == (source is not None)
            trainer.rebuild(declaration)
            trainer.train(sample.x_train[:1000], sample.y_train[:1000])
            outputs.append(trainer.predict(sample.x_test[:300]))
            if source is not None:
                trainer.pace(sample.x_train[:256], sample.y_train[:256])
                inside = [
                    pid for pid in tree(trainer._process.pid, trainer._uid) if pid != trainer._process.pid
                ]
                nice = {Path(f"/proc/{pid}/autogroup").read_text().split()[-1] for pid in inside}
                assert trainer.stop_pacing().steps > 0
                assert nice == {"10"}
    assert outputs[0].shape == (300, 10) and np.array_equal(outputs[0], outputs[1])


def test_a_grade_alone_forks_its_three_children_and_grades_as_fresh_ones_do(
    tmp_path, grading_cache, monkeypatch
):
    """``grader grade`` forks its builder, trainer and pace-setter from a zygote of its own; with
    the zygote ruled out, the same grade from fresh children gets the same points and accuracy."""
    if (reason := problem(choose("auto").kind)) is not None:
        pytest.skip(reason)
    import grader.grade
    from grader.grade import grade

    forked: dict[str, bool] = {}
    start = Runner.start

    def recording(self):
        started = start(self)
        if self.work.name in ("run", "train", "verify"):  # the grade's own (not the calibration's)
            forked[self.work.name] = isinstance(self._process, Forked)
        return started

    monkeypatch.setattr(Runner, "start", recording)
    quiet = Console(file=io.StringIO())
    kwargs = {
        "assignment": CLASS_ASSIGNMENT,
        "backend": BACKEND,
        "cache_root": grading_cache,
        "console": quiet,
    }
    alone = grade(SUBMISSIONS / "alice", **kwargs)
    assert forked == {"run": True, "train": True, "verify": True}
    monkeypatch.setattr(grader.grade, "zygote_problem", lambda kind: "ruled out by the test")
    fresh = grade(SUBMISSIONS / "alice", **kwargs)
    assert forked == {"run": False, "train": False, "verify": False}
    assert alone.score == fresh.score == alone.possible, (alone.problem, fresh.problem)
    assert alone.metrics.accuracy == fresh.metrics.accuracy


def test_forks_see_neither_each_other_nor_the_zygote_and_hold_no_privilege(tmp_path, zygote):
    folder = tmp_path / "snoop"
    folder.mkdir()
    (folder / "model.py").write_text(SNOOP)
    (folder / "zygote.txt").write_text(zygote._scratch.name)
    seen = []
    for name in ("first", "second"):
        with builder(folder, tmp_path / name, zygote) as child:
            with pytest.raises(PhaseFailed, match="only looking"):
                child.build()
            seen.append(json.loads(child.log_tail().split("SEEN ", 1)[1].splitlines()[0]))
    for found in seen:
        assert found["pid"] == 2 and found["processes"] == [1, 2]  # a PID namespace of its own
        assert found["uid"] != 0 and set(found["capabilities"]) == {"0000000000000000"}
        assert found["zygote_scratch"] == ["keras"]  # only its own Keras home is there, in its scratch
        assert not found["writable_root"] and not found["network"]
    assert "left-by-first" not in seen[1]["earlier"]  # each fork's /tmp is its own scratch
    assert zygote.forks >= 2


def test_where_the_zygote_cannot_start_builders_start_afresh(tmp_path):
    broken = Zygote("no-such-backend", base_env(BACKEND))
    try:
        assert not broken.available() and "children start afresh" in (broken.broken or "")
        shutil.copytree(SUBMISSIONS / "alice", tmp_path / "alice")
        with builder(tmp_path / "alice", tmp_path / "work", broken) as child:
            assert not isinstance(child._process, Forked)
            assert child.build().facts.total_params > 0
    finally:
        broken.close()


def test_forks_only_where_bubblewrap_would_run_the_child():
    assert problem("process") == "children are forked only where bubblewrap would run them"


def test_a_fork_that_fails_before_it_is_ready_gives_way_to_a_fresh_builder(tmp_path, zygote, monkeypatch):
    """No submission code runs before a builder is ready, so a fork that dies first is the zygote's
    failure: the builder starts afresh and the student never sees it; the class forks no more."""
    from grader.runner import zygote as module
    from grader.runner.sandbox import Mount

    fresh = Zygote(BACKEND, base_env(BACKEND))
    assert fresh.available()
    real = module.view
    monkeypatch.setattr(module, "view", lambda *a: [*real(*a), Mount("ro", "/nowhere", "/no/such/folder")])
    try:
        with builder(SUBMISSIONS / "alice", tmp_path / "work", fresh) as child:
            assert not isinstance(child._process, Forked) and child.zygote is None
            assert child.build().facts.total_params > 0
        assert fresh.forks == 1 and "a fork ended while starting" in (fresh.broken or "")
    finally:
        fresh.close()


def test_a_build_whose_zygote_ends_ends_with_it_as_the_graders_failure(tmp_path, zygote):
    """A fork drops its user, which clears the kernel's parent-death signal: it is set again, so
    a build in progress when its zygote ends (killed here) ends at once, leaving no process. The
    grade is an error the class grades again, never the student's zero."""
    fresh = Zygote(BACKEND, base_env(BACKEND))
    assert fresh.available(), fresh.broken
    try:
        with builder(HOSTILE / "never_returns", tmp_path / "work", fresh) as child:
            assert isinstance(child._process, Forked)
            started = tree(child._process.pid)
            assert len(started) == 2  # PID 1 of its namespace, and the builder
            assert fresh._process is not None
            killer = threading.Timer(1.0, os.killpg, (fresh._process.pid, signal.SIGKILL))
            killer.start()
            with pytest.raises(ZygoteError, match="ended while building the model; grade again"):
                child.build()
            killer.join()
    finally:
        fresh.close()
    assert gone(started)


def gone(pids: list[int], within_s: float = 10.0) -> bool:
    """Every one of ``pids`` ended (killed, a process takes a moment to end on a busy machine)."""
    deadline = time.monotonic() + within_s
    while [pid for pid in pids if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    return not [pid for pid in pids if _alive(pid)]


GRADER_KILLED = """
import os, sys, time
from pathlib import Path
from grader.runner import kept
from grader.runner.supervisor import Runner, Subject, base_env
from grader.runner.zygote import Zygote
from grader.settings import Training

backend, folder, model, work = sys.argv[1:5]
kept.FOLDER = Path(folder)  # where a kept zygote is looked for (grader/runner/kept.py)
zygote = Zygote(backend, base_env(backend))
assert zygote.available(), zygote.broken
child = Runner(
    Subject.submission(Path(model)),
    recipe="conv_32_64_64",
    training=Training(max_epochs=1, time_limit_s=300.0, backend=backend, trainer="grader"),
    work=Path(work),
    cpus=frozenset({min(os.sched_getaffinity(0))}),
    zygote=zygote,
)
child.start()
child.wait_ready()
child._send("build")
time.sleep(1.0)  # in build_model(), which never returns
print(zygote.kept or zygote._process.pid, child._process.pid, flush=True)
time.sleep(600)
"""


def grader_in_a_build(tmp_path: Path, kept_folder: Path) -> tuple[subprocess.Popen[str], int, int]:
    """A grader in a process of its own, its forked builder in a build that never returns: the
    grader, the pid of its zygote (the kept one where ``kept_folder`` holds one) and the fork's."""
    grader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            GRADER_KILLED,
            BACKEND,
            str(kept_folder),
            str(HOSTILE / "never_returns" / "model.py"),
            str(tmp_path / "w"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert grader.stdout is not None
    line = grader.stdout.readline()
    assert line, "the grader did not start its forked builder"
    zygote_pid, fork_pid = (int(pid) for pid in line.split())
    return grader, zygote_pid, fork_pid


def test_a_grader_killed_mid_build_leaves_no_zygote_and_no_fork(tmp_path, zygote):
    """However the grader ends (SIGKILL here, which nothing can catch), its zygote sees its socket
    close and ends, and every fork dies with the zygote: nothing it started runs on unwatched."""
    grader, zygote_pid, fork_pid = grader_in_a_build(tmp_path, tmp_path / "none-kept-here")
    started = [zygote_pid, *tree(fork_pid)]
    assert len(started) == 3
    grader.kill()
    grader.wait()
    assert gone(started)
