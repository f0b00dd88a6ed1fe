"""The hostile corpus: real attempts to cheat or to break the grader, one folder each in tests/hostile/.

Every attempt must end as a failed grade with a message its author understands, and leave the
grader, the files around it and the process table as they were. The corpus's assignment
(tests/hostile/assignment.toml) sets every limit low so each one trips in seconds; it lets the
submission train itself, and the corpus is graded again with the grader training.

The attempts at unearned weights (weights fitted offline on MNIST's public test labels, shipped,
embedded, in a configuration, swapped in, saved by a patched ``save``, or trained in
``build_model()``) are graded under both trainers: with the grader training, none may score more
than its architecture earns trained honestly (the same linear classifier, ``honest_linear``); with
the submission training, each is caught, or the security model (docs/security.md) names it.
"""

from __future__ import annotations

import ast
import base64
import compileall
import contextlib
import hashlib
import io
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from rich.console import Console

import grader
from grader.grade import grade
from grader.results import Grade
from grader.runner import kept
from grader.runner.sandbox import SandboxError, choose
from grader.runner.warm import WarmChildren
from grader.runner.zygote import problem
from tests.conftest import BACKEND, CLASS_ASSIGNMENT, SUBMISSIONS
from tests.test_kept import settled

pytestmark = pytest.mark.spread  # independent grades: any free worker takes the next

HOSTILE = Path(__file__).parent / "hostile"
ASSIGNMENT = HOSTILE / "assignment.toml"
SECURITY_MODEL = (Path(__file__).parent.parent / "docs" / "security.md").read_text()
LINGERING = (
    "grader.runner.child",
    "grader.runner.zygote",
    "sleep 3141",
    "sleep 317",
)  # durations no one else uses


@pytest.fixture(scope="module", autouse=True)
def bubblewrap():
    sandbox = choose("auto")
    if sandbox.kind != "bubblewrap":
        pytest.fail(f"the corpus needs the sandbox: {sandbox.reason} (run `grader sandbox --install`)")


def digests(*roots: Path) -> dict[str, str]:
    """Every file under ``roots`` with a digest of its content."""
    files = [path for root in roots for path in ([root] if root.is_file() else sorted(root.rglob("*")))]
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in files if path.is_file()}


class Surroundings:
    """What a submission must not touch: another student's results and submission, the grader's source."""

    def __init__(self, root: Path) -> None:
        results = root / "grades" / "bob" / "results.json"
        results.parent.mkdir(parents=True)
        results.write_text('{"score": 3.0}')
        other = root / "submissions" / "bob"
        shutil.copytree(SUBMISSIONS / "bob", other)
        self.targets = [results, other / "model.py", Path(grader.__file__).parent / "checks.py"]
        self.roots = [root, Path(grader.__file__).parent]
        # Python caches every module it imports as a .pyc beside it: compiled now, the grader's own
        # first imports (and other test workers') write nothing there, so only a submission could.
        compileall.compile_dir(self.roots[1], quiet=1)
        self.before = digests(*self.roots)

    def unchanged(self) -> bool:
        return digests(*self.roots) == self.before


@pytest.fixture
def surroundings(tmp_path) -> Surroundings:
    return Surroundings(tmp_path / "outside")


def lingering(scratch: Path) -> list[str]:
    """Command lines of any process a grade in ``scratch`` may have left behind (grades of other
    tests, run beside this one by parallel workers, have their scratch elsewhere)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                command = (
                    Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
                ours = "grader.runner.child" in command or "grader.runner.zygote" in command
                mine = not ours or str(scratch) in command  # a forked builder has its zygote's command
                if any(marker in command for marker in LINGERING) and mine:
                    found.append(command)
    return found


@pytest.fixture(scope="module")
def fallback() -> str:
    """The ``--sandbox`` mode of the unprivileged fallback, where this machine can run it."""
    if os.geteuid() != 0:
        pytest.skip("the unprivileged fallback is what a grader running as root gets")
    try:
        choose("off")
    except SandboxError as error:
        pytest.skip(str(error))
    return "off"


def attempt(
    name: str,
    tmp_path: Path,
    surroundings: Surroundings,
    files: dict[str, bytes] | None = None,
    sandbox: str = "auto",
    trainer: str = "submission",
    must_fail: bool = True,
    forked: bool = False,
    edits: dict[str, str] | None = None,
    **limits: float,
) -> tuple[Grade, str]:
    """Grade a copy of the corpus's ``name`` (plus ``files``) under the corpus assignment,
    ``sandbox`` and ``trainer``, with ``limits`` overriding its own; ``forked``: as a class does,
    with the builder forked from a zygote. Check what must hold for every attempt (with
    ``must_fail``, that it loses points); ``edits`` replaces the assignment's lines that start with
    each key. Return the grade and its messages."""
    if forked and (reason := problem(choose(sandbox).kind)) is not None:
        pytest.skip(reason)
    folder = tmp_path / name
    shutil.copytree(HOSTILE / name, folder)
    (folder / "targets.txt").write_text("\n".join(str(path) for path in surroundings.targets))
    for file_name, content in (files or {}).items():
        (folder / file_name).write_bytes(content)
    spec = ASSIGNMENT.read_text().replace('trainer = "submission"', f'trainer = "{trainer}"')
    for key, value in limits.items():
        spec = "\n".join(
            f"{key} = {value}" if line.startswith(f"{key} =") else line for line in spec.splitlines()
        )
    for start, edited in (edits or {}).items():  # whole lines of the assignment, by how they start
        spec = "\n".join(edited if line.startswith(start) else line for line in spec.splitlines())
    assignment = tmp_path / "assignment.toml"
    assignment.write_text(spec)
    submitted = digests(folder)

    # The children's scratch folders go in a folder of this attempt's own, so lingering() finds only
    # its processes; it is named like the grader's own (/tmp/grader-*), which the corpus looks in.
    scratch = Path(tempfile.mkdtemp(prefix="grader-attempt-"))
    scratch.chmod(0o711)  # as /tmp is: the fallback's unprivileged child must pass through it
    try:
        with mock.patch.object(tempfile, "tempdir", str(scratch)), WarmChildren() as warm:
            quiet = Console(file=io.StringIO(), width=100)
            result = grade(
                folder,
                assignment=assignment,
                backend=BACKEND,
                console=quiet,
                sandbox=sandbox,
                warm=warm if forked else None,
            )
            if forked:
                zygote = warm.zygote(BACKEND, choose(sandbox))
                assert zygote is not None and zygote.forks == 1, zygote and zygote.broken
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    messages = " ".join([result.problem or "", *(check.message for check in result.checks)])
    assert result.trainer == trainer
    assert result.to_gradescope()["extra_data"]["counted"], "a submission's attempt must count as graded"
    if must_fail:
        assert result.score < result.possible, messages
    assert digests(folder) == submitted, "the submission folder changed"
    assert surroundings.unchanged(), "a file outside the scratch changed"
    deadline = time.monotonic() + 5
    while lingering(scratch) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lingering(scratch) == []
    return result, messages


CASES = {
    "syntax_error": "The model did not build: SyntaxError: invalid syntax (model.py, line 3: def build_model(:)",
    "no_build_model": "The model did not build: model.py defines no build_model() function.",
    "not_a_model": "The model did not build: build_model() returned str, not a keras.Model.",
    "raises_in_build": "ZeroDivisionError: integer division or modulo by zero (model.py, line 7: return classes // 0)",
    "exit_during_import": (
        "The model did not build: the process exited with code 0 while building the model "
        "(model.py must not call exit() or os._exit())."
    ),
    "exit_during_training": "Training stopped: the process exited with code 0 while training",
    "kill_itself": "Training stopped: the process was killed by SIGKILL while training.",
    "never_returns": "stopped after 15 s while building the model; the limit is 15 s (limits.build_s).",
    "memory_hog": "MB of memory; the limit is 1,536 MB (limits.memory_mb).",
    "too_large": "MB of memory; the limit is 1,536 MB (limits.memory_mb).",
    "process_swarm": "processes at once; the limit is 8 (limits.processes).",
    "chatterbox": "of output; the limit is 1 MB (limits.output_mb).",
    "huge_file": "File too large; the limit for one file is 64 MB (limits.file_mb)",
    "nan_loss": "600 of the model's predictions on the public part of the test set were NaN or infinite and count as wrong.",
    "forge_facts": "The trained model (795,010 parameters) is not the model build_model() reported (100,000 parameters)",
    "forge_trained": "The trained model could not be checked: its saved model was refused (model.keras is missing).",
    "symlink_swap": "its saved model was refused (model.keras is not a plain file",
    "fill_disk": "MB to disk; the limit is 256 MB in all (limits.disk_mb).",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_attempt_fails_with_a_clear_message_and_harms_nothing(name, tmp_path, surroundings):
    _, messages = attempt(name, tmp_path, surroundings)
    assert CASES[name] in messages


# With the grader training, the runner only builds: what it does at build time is stopped as
# before, its own callbacks are refused before any training, and what it would do while training
# or saving never runs (symlink_swap plants its links where the grader no longer reads or writes).
GRADER_TRAINS = {
    **{name: CASES[name] for name in CASES if name not in ("symlink_swap", "forge_trained", "forge_facts")},
    "forge_facts": "The model has 795,010 parameters, 295,010 over the budget of 500,000.",
    "forge_trained": "The grader cannot train this model: the callback Forge is a callback of your own",
    "exit_during_training": "The grader cannot train this model: the callback Leave is a callback of your own",
    "kill_itself": "The grader cannot train this model: the callback Vanish is a callback of your own",
}


@pytest.mark.parametrize("name", sorted(GRADER_TRAINS))
def test_each_attempt_fails_as_clearly_when_the_grader_trains(name, tmp_path, surroundings):
    _, messages = attempt(name, tmp_path, surroundings, trainer="grader")
    assert GRADER_TRAINS[name] in messages


@pytest.mark.parametrize("name", sorted(GRADER_TRAINS))
def test_a_builder_forked_from_a_zygote_stops_each_attempt_the_same_way(name, tmp_path, surroundings):
    """A class forks each builder from its zygote (grader/runner/zygote.py): every attempt ends
    as it does in a builder bubblewrap started."""
    _, messages = attempt(name, tmp_path, surroundings, trainer="grader", forked=True)
    assert GRADER_TRAINS[name] in messages


# A build that never returns, with its grade killed, is tests/test_kept.py's.
KEPT = {
    **{
        name: GRADER_TRAINS[name]
        for name in ("exit_during_import", "fill_disk", "memory_hog", "raises_in_build")
    },
    "leave_a_process": "RuntimeError: left something running",
}


@pytest.mark.parametrize("name", sorted(KEPT))
def test_a_builder_forked_from_a_kept_zygote_stops_each_attempt_the_same_way(
    name, tmp_path, surroundings, kept_zygote, monkeypatch
):
    """A zygote kept warm between grades (``grader warm``, grader/runner/kept.py) serves every grade
    that comes after: each attempt ends as it does in a builder bubblewrap started, and leaves the
    kept zygote as it found it, with no process under it, serving the next."""
    sessions = []
    real = kept.session

    def counted(*args):
        found = real(*args)
        sessions.append(found is not None)
        return found

    monkeypatch.setattr(kept, "session", counted)
    _, messages = attempt(name, tmp_path, surroundings, trainer="grader", forked=True)
    assert KEPT[name] in messages
    assert sessions and all(sessions), "the class did not fork from the kept zygote"
    assert settled(kept_zygote.pid)


def test_a_forked_builder_sees_no_labels_writes_nowhere_else_and_leaves_nothing(tmp_path, surroundings):
    result, _ = attempt("peek_at_labels", tmp_path, surroundings, trainer="grader", forked=True)
    assert "nothing found" in result.log and "LEAK" not in result.log
    written, _ = attempt("write_outside", tmp_path / "again", surroundings, trainer="grader", forked=True)
    assert "WROTE" not in written.log and written.log.count("refused") == 4
    _, messages = attempt("leave_a_process", tmp_path / "third", surroundings, trainer="grader", forked=True)
    assert "RuntimeError: left something running" in messages


def test_links_planted_by_a_builder_touch_nothing_when_the_grader_trains(tmp_path, surroundings):
    """symlink_swap's links lie in the builder's scratch, where the grader reads and writes nothing
    when it trains: the grade is the honest one of its linear model, the same as a copy that plants
    nothing, and every file is untouched."""
    result, messages = attempt("symlink_swap", tmp_path, surroundings, trainer="grader", must_fail=False)
    assert result.problem is None and result.metrics.accuracy is not None and result.metrics.accuracy > 0.2, (
        messages
    )
    source = (HOSTILE / "symlink_swap" / "model.py").read_text()
    plain = source.replace("keras.Model.save = plant", "").replace(
        "        os.symlink(target", "        pass  #"
    )
    assert "os.symlink(target" not in plain and "keras.Model.save = plant" not in plain
    honest, _ = attempt(
        "symlink_swap",
        tmp_path / "twin",
        surroundings,
        {"model.py": plain.encode()},
        trainer="grader",
        must_fail=False,
    )
    assert result.metrics.accuracy == honest.metrics.accuracy and result.score == honest.score


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_unprivileged_fallback_stops_each_attempt_the_same_way(name, tmp_path, surroundings, fallback):
    _, messages = attempt(name, tmp_path, surroundings, sandbox=fallback)
    assert CASES[name] in messages


def test_the_fallback_runs_children_as_a_user_who_can_read_none_of_the_graders_files(
    tmp_path, surroundings, fallback
):
    """Without bubblewrap nothing is hidden by a mount: the child sees what every user sees. The
    grader's data, caches and results, and the grades beside it, are closed to that user."""
    result, _ = attempt("peek_at_labels", tmp_path, surroundings, sandbox=fallback)
    assert result.environment["sandbox"].startswith("process isolation as an unprivileged user")
    found = ast.literal_eval(result.log.split("LEAK ", 1)[1]) if "LEAK" in result.log else []
    private = [path for path in found if path.startswith(("/root", "/tmp/grader-", "/tmp/pytest-of-"))]
    assert "nothing found" in result.log or found, result.log
    assert private == []
    written, _ = attempt("write_outside", tmp_path / "again", surroundings, sandbox=fallback)
    assert "WROTE" not in written.log and written.log.count("refused") == 4
    _, messages = attempt("leave_a_process", tmp_path / "third", surroundings, sandbox=fallback)
    assert "RuntimeError: left something running" in messages


@pytest.mark.parametrize("where", ["fallback", "forked"])
def test_a_child_can_neither_free_nor_take_the_claims_on_users(where, tmp_path, surroundings, request):
    """The claims that keep each child's user its own (``claim_user``) are root's alone: a child of
    the fallback cannot list them, and a forked builder's view does not hold them at all."""
    import grader.runner.sandbox as sandbox

    if where == "fallback":
        result, _ = attempt(
            "free_a_claim", tmp_path, surroundings, sandbox=request.getfixturevalue("fallback")
        )
    else:
        result, _ = attempt("free_a_claim", tmp_path, surroundings, trainer="grader", forked=True)
    assert "FREED" not in result.log and result.log.count("refused") == 2, result.log
    folder = next(folder for folder in sandbox.USER_LOCKS if folder.is_dir())
    assert folder.stat().st_mode & 0o777 == 0o700 and folder.stat().st_uid == 0


def test_cpu_time_is_limited(tmp_path, surroundings):
    _, messages = attempt("burn_cpu", tmp_path, surroundings, cpu_s=20, build_s=120)
    assert "used 20 s of CPU time; the limit is 20 s (limits.cpu_s)." in messages


def test_a_loss_that_turns_to_nan_is_explained(tmp_path, surroundings):
    result, _ = attempt("nan_loss", tmp_path, surroundings)
    assert any("The training loss became NaN" in note for note in result.notes)


def test_faked_predictions_are_not_what_is_scored(tmp_path, surroundings, sample):
    answers = io.BytesIO()
    np.save(answers, sample.y_test)  # the public test labels, as a student could ship them
    result, messages = attempt("fake_evaluation", tmp_path, surroundings, {"answers.npy": answers.getvalue()})
    assert result.metrics.accuracy is not None and result.metrics.accuracy < 0.3, messages
    accuracy = next(check for check in result.checks if check.name == "Test accuracy")
    assert "Test accuracy" in messages and accuracy.status == "failed"


def test_the_test_labels_and_other_work_are_not_visible(tmp_path, surroundings):
    result, _ = attempt("peek_at_labels", tmp_path, surroundings)
    assert "nothing found" in result.log and "LEAK" not in result.log
    assert result.environment["sandbox"].startswith("bubblewrap")


def test_writes_outside_the_scratch_are_refused(tmp_path, surroundings):
    result, _ = attempt("write_outside", tmp_path, surroundings)
    assert "WROTE" not in result.log and result.log.count("refused") == 4


@pytest.mark.parametrize("sandbox", ["auto", "off", "forked"])
def test_no_network_not_even_loopback(sandbox, tmp_path, surroundings, request):
    forked = sandbox == "forked"  # a class's builder, forked from its zygote with the grader training
    sandbox = "auto" if forked else sandbox
    if sandbox == "off" and choose(request.getfixturevalue("fallback")).network_open:
        pytest.skip("the fallback cannot give a child a network of its own here (no CAP_SYS_ADMIN)")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    connections = []
    graded = threading.Event()

    def accept():
        while not graded.is_set():
            with contextlib.suppress(OSError):
                connections.append(listener.accept())

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = str(listener.getsockname()[1]).encode()
    try:
        trainer = "grader" if forked else "submission"
        files = {"port.txt": port}
        result, _ = attempt("phone_home", tmp_path, surroundings, files, sandbox, trainer, forked=forked)
    finally:
        graded.set()
        thread.join()
        listener.close()
    assert connections == []
    assert "CONNECTED" not in result.log and result.log.count("refused") == 2


def test_a_submission_that_takes_every_core_is_stopped(tmp_path, surroundings):
    """Pinning is enforced, not only asked for: widening the affinity onto another grade's cores
    ends the grade, so a neighbour cannot take them."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: there is no other grade's core to take")
    result, messages = attempt("take_every_core", tmp_path, surroundings)
    assert "moved onto cores it was not given" in messages and "(training.cores)" in messages
    assert result.problem.startswith("The model did not build: stopped while building the model")


def test_a_submission_that_takes_every_core_in_one_thread_is_stopped(tmp_path, surroundings):
    """The affinity of every thread is checked, not only the main thread's."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: there is no other grade's core to take")
    result, messages = attempt("take_a_core_in_a_thread", tmp_path, surroundings)
    assert "moved onto cores it was not given" in messages and "(training.cores)" in messages
    assert result.problem.startswith("The model did not build: stopped while building the model")


def test_no_process_outlives_its_child(tmp_path, surroundings):
    _, messages = attempt("leave_a_process", tmp_path, surroundings)
    assert "RuntimeError: left something running" in messages


def test_a_hostile_submission_between_two_others_changes_neither(
    graded, grading_cache, tmp_path, surroundings
):
    quick = CLASS_ASSIGNMENT  # one epoch of tutorial 000's checks
    alone = [graded(SUBMISSIONS / name, assignment=quick) for name in ("bob", "alice")]
    quiet = Console(file=io.StringIO(), width=100)
    first = grade(
        SUBMISSIONS / "bob", assignment=quick, backend=BACKEND, cache_root=grading_cache, console=quiet
    )
    attempt("process_swarm", tmp_path, surroundings)
    last = grade(
        SUBMISSIONS / "alice", assignment=quick, backend=BACKEND, cache_root=grading_cache, console=quiet
    )
    for before, after in zip(alone, (first, last), strict=True):
        # Every check, its points and the accuracy match exactly: the training clock and the fixed
        # threads make none of them depend on what ran before.
        assert [(c.name, c.status, c.score) for c in after.checks] == [
            (c.name, c.status, c.score) for c in before.checks
        ]
        assert after.metrics.accuracy == before.metrics.accuracy


# -- unearned weights -------------------------------------------------------------------------------
WEIGHT_ATTEMPTS = (
    "offline_weights",
    "weights_in_source",
    "constant_initializer",
    "own_initializer",
    "swap_at_end",
    "patched_save",
    "trains_in_build",
    "forge_declaration",
    "notebook_trains_first",
)
REFUSED_WHEN_THE_GRADER_TRAINS = {
    "constant_initializer": "the Constant's 'value' holds 7,840 numbers",
    "own_initializer": "Remembered",
    "swap_at_end": "the callback Swap is a callback of your own",
    "forge_declaration": "the Constant's 'value' holds 7,840 numbers",
}
CAUGHT_WHEN_THE_SUBMISSION_TRAINS = {
    "offline_weights": "The model arrived trained: as build_model() returned it, before any training",
    "weights_in_source": "The model arrived trained",
    "constant_initializer": "The model arrived trained",
    "own_initializer": "The model as built could not be checked before training",
    "trains_in_build": "The model arrived trained",
    "notebook_trains_first": "The model arrived trained: as your code passed it to model.fit",
}
# What the self-trained path cannot see: weights that arrive after training began. The security
# model (docs/security.md) names both; the grade says the submission trained itself.
NOT_CAUGHT_WHEN_THE_SUBMISSION_TRAINS = {
    "swap_at_end": "swapped in by a callback",
    "patched_save": "a patched `save`",
}


@pytest.fixture(scope="module")
def offline(sample) -> dict[str, object]:
    """honest_linear's classifier fitted offline on the sample's public test labels (as anyone can
    fit one on MNIST's), with the accuracy those weights reach there, and the public test set."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = sample.x_test.reshape(-1, 28, 28, 1).astype("float32") / 255.0
    model.fit(x, np.eye(10, dtype="float32")[sample.y_test], batch_size=64, epochs=60, verbose=0)
    kernel, bias = (np.asarray(w) for w in model.get_weights())
    weights, public = io.BytesIO(), io.BytesIO()
    np.savez(weights, kernel=kernel, bias=bias)
    np.savez(public, x=sample.x_test, y=sample.y_test)
    reached = float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == sample.y_test))
    pooled, carried = io.BytesIO(), {}
    for features in (16, 4):  # gated_constants's: linear on 4 x 4 or 2 x 2 averages, by least squares
        side = int(features**0.5)
        averages = sample.x_test.reshape(-1, side, 28 // side, side, 28 // side).mean(axis=(2, 4)) / 255.0
        averages = averages.reshape(len(averages), features)
        targets = np.eye(10)[sample.y_test]
        fitted = np.linalg.solve(averages.T @ averages + 1e-3 * np.eye(features), averages.T @ targets)
        carried[f"w{features}"] = fitted.astype("float32")
        carried[f"accuracy{features}"] = np.mean(np.argmax(averages @ fitted, axis=1) == sample.y_test)
    np.savez(pooled, **carried)
    return {
        "offline.npz": weights.getvalue(),
        "public_test.npz": public.getvalue(),
        "offline_pooled.npz": pooled.getvalue(),
        "accuracy": reached,
        "pooled_accuracy": {features: float(carried[f"accuracy{features}"]) for features in (16, 4)},
    }


def weight_files(name: str, offline: dict[str, object]) -> dict[str, bytes]:
    files = {key: value for key, value in offline.items() if isinstance(value, bytes)}
    if name == "weights_in_source":
        source = (HOSTILE / name / "model.py").read_text()
        embedded = base64.b64encode(files["offline.npz"]).decode()
        files["model.py"] = source.replace('WEIGHTS = ""', f'WEIGHTS = "{embedded}"').encode()
    return files


@pytest.fixture(scope="module")
def honest(tmp_path_factory, offline) -> Grade:
    """The linear classifier every attempt uses, trained honestly by the grader."""
    root = tmp_path_factory.mktemp("honest")
    result, messages = attempt(
        "honest_linear", root, Surroundings(root / "outside"), trainer="grader", must_fail=False
    )
    assert result.score == result.possible and result.metrics.public_accuracy is not None, messages
    # The attempts are worth making: the offline weights score far above what the grader's epoch earns.
    assert float(offline["accuracy"]) > result.metrics.public_accuracy + 0.03  # type: ignore[arg-type]
    return result


@pytest.mark.parametrize("name", WEIGHT_ATTEMPTS)
def test_no_unearned_weights_are_scored_when_the_grader_trains(name, tmp_path, surroundings, offline, honest):
    """Each attempt either trains as exactly the model its architecture is (the same accuracy as
    honest_linear's, image for image) or is refused before any training, saying why."""
    files = weight_files(name, offline)
    result, messages = attempt(name, tmp_path, surroundings, files, trainer="grader", must_fail=False)
    if name in REFUSED_WHEN_THE_GRADER_TRAINS:
        assert REFUSED_WHEN_THE_GRADER_TRAINS[name] in messages
        assert result.problem is not None and result.problem.startswith("The grader cannot train this model")
        assert result.metrics.accuracy is None
    else:
        assert result.problem is None, messages
        assert result.metrics.accuracy == honest.metrics.accuracy
        assert result.metrics.public_accuracy == honest.metrics.public_accuracy


@pytest.mark.parametrize("name", sorted(CAUGHT_WHEN_THE_SUBMISSION_TRAINS))
def test_a_model_that_arrives_trained_is_caught_when_the_submission_trains(
    name, tmp_path, surroundings, offline
):
    result, messages = attempt(name, tmp_path, surroundings, weight_files(name, offline))
    assert CAUGHT_WHEN_THE_SUBMISSION_TRAINS[name] in messages
    accuracy = next(check for check in result.checks if check.name == "Test accuracy")
    assert accuracy.status == "failed" and accuracy.score == 0


@pytest.mark.parametrize("name", sorted(NOT_CAUGHT_WHEN_THE_SUBMISSION_TRAINS))
def test_what_a_self_trained_submission_gets_past_is_said_in_the_readme(
    name, tmp_path, surroundings, offline, honest
):
    """Measured, not assumed: weights that arrive after training began do score above what the
    model earned, the grade says the submission trained itself, and the security model says so plainly."""
    result, _ = attempt(name, tmp_path, surroundings, weight_files(name, offline), must_fail=False)
    assert result.trained_by.startswith("the submission's own code")
    assert result.metrics.public_accuracy is not None and honest.metrics.public_accuracy is not None
    assert result.metrics.public_accuracy > honest.metrics.public_accuracy + 0.03
    assert NOT_CAUGHT_WHEN_THE_SUBMISSION_TRAINS[name] in SECURITY_MODEL


@pytest.mark.parametrize("where", ["bubblewrap", "fallback"])
def test_a_submission_cannot_stop_the_pace_setter_to_turn_its_grade_into_the_graders_error(
    where, tmp_path, surroundings, request
):
    """A pace-setter that fails is the grader's error, never the student's: so a submission must
    not be able to make it fail. One that signals every process it can see as it trains reaches
    none outside its own tree, and is graded on a clock that ran."""
    sandbox = request.getfixturevalue("fallback") if where == "fallback" else "auto"
    result, _ = attempt("stop_the_pace_setter", tmp_path, surroundings, sandbox=sandbox, must_fail=False)
    assert result.problem is None, result.problem  # it reached nothing (it raises if it did)
    runs = result.training_clock["runs"]
    assert runs and all(run["pace_steps"] > 0 for run in runs), result.training_clock


# -- what a declaration and a message can carry -----------------------------------------------------
TRAINERS = ("grader", "submission")
OPERATIONS = {
    "grader": "is an operation applied to a Keras tensor outside a layer",
    # Trained by the submission, the model as built is checked before training: its operations
    # carry the offline classifier into it, so it already classifies (or cannot be loaded to tell).
    "submission": "The model arrived trained",
}


def has_keras_ops() -> bool:
    import keras

    return hasattr(keras, "ops")


@pytest.mark.parametrize("trainer", TRAINERS)
@pytest.mark.parametrize("name", ["weights_in_operations", "operations_in_a_notebook"])
def test_weights_in_operations_on_keras_tensors_earn_nothing(name, trainer, tmp_path, surroundings, offline):
    """``keras.ops`` calls on a Keras tensor are operation nodes outside every layer, their arrays
    constants in the graph's wiring: refused when the grader trains, whichever route built them,
    naming the line that made the first; caught before training when the submission trains."""
    if not has_keras_ops():
        pytest.skip("Keras 2 has no keras.ops (its operations on Keras tensors are TFOpLambda layers)")
    result, messages = attempt(name, tmp_path, surroundings, weight_files(name, offline), trainer=trainer)
    assert OPERATIONS[trainer] in messages or (
        trainer == "submission" and "The model as built could not be checked before training" in messages
    ), messages
    accuracy = next(check for check in result.checks if check.name == "Test accuracy")
    assert accuracy.score == 0 and result.metrics.accuracy is None
    if trainer == "grader":
        assert "See " in messages and "ops." in messages, messages


WIRE = {
    "deep_message": "the runner sent a malformed message: the message is nested more than 64 deep.",
    "huge_number": "the runner sent a malformed message: a number of 401 digits (at most 40 are read).",
}


@pytest.mark.parametrize("trainer", TRAINERS)
@pytest.mark.parametrize("name", sorted(WIRE))
def test_a_malformed_message_is_the_submissions_failure_never_the_graders(
    name, trainer, tmp_path, surroundings
):
    """What a child writes is read under the wire's limits (grader/wire.py): a message nested
    100,000 deep or holding a number of 401 digits fails the submission's build, with a message its
    author reads, and the grade counts."""
    result, messages = attempt(name, tmp_path, surroundings, trainer=trainer)
    assert WIRE[name] in messages
    assert result.problem is not None and result.problem.startswith("The model did not build")


@pytest.mark.parametrize("trainer", TRAINERS)
def test_notes_from_the_submissions_process_are_bounded_and_shown_as_its_own(trainer, tmp_path, surroundings):
    """30,000 notes, the first worded as the grader's verdict: ten are kept, under the heading that
    says they are the code's own words, with a line saying how many were cut; results.json stays small."""
    from grader.report import report_text
    from grader.results import SAID_TITLE

    result, _ = attempt("many_notes", tmp_path, surroundings, trainer=trainer, must_fail=False)
    assert len(result.said) == 10 and result.said_cut == 29_990
    assert result.said[0].startswith("Note: Test accuracy 99.90%")
    assert not any("99.90%" in note for note in result.notes)
    assert not any("99.90%" in check.message for check in result.checks)
    assert len(json.dumps(result.to_gradescope())) < 64_000
    report = report_text(result)
    assert SAID_TITLE in report and "29,990 more were cut" in report
    assert report.index(SAID_TITLE) < report.index("99.90%")


@pytest.mark.parametrize("trainer", TRAINERS)
def test_a_compute_bomb_is_stopped_once_its_cost_cannot_pass(trainer, tmp_path, surroundings):
    """450 parameter-free layers pass every cheap check and cost many times the reference's: training
    stops once its cost is over the 1.5 x limit by more than twice the uncertainty, long before
    the time limit, and the report says at what cost and when."""
    result, messages = attempt(
        "compute_bomb",
        tmp_path,
        surroundings,
        trainer=trainer,
        edits={"max_seconds =": "max_ratio = 1.5"},
        time_limit_s=300,
        build_s=120,  # 450 layers take a while to build, and to rebuild
        memory_mb=4096,  # and keep 450 feature maps for the backward pass
    )
    timing = next(check for check in result.checks if check.name == "Training time")
    assert timing.status == "failed" and "so it could not pass the training-time check" in timing.message, (
        messages
    )
    assert "its training was costing" in timing.message
    stopped_after = float(timing.message.split("stopped after ", 1)[1].split(" s", 1)[0])
    assert stopped_after < 300 / 2
    assert next(check for check in result.checks if check.name == "Test accuracy").status == "not run"


@pytest.mark.parametrize("trainer", TRAINERS)
def test_a_gated_classifier_in_many_small_arguments_earns_nothing_the_grader_did_not_train(
    trainer, tmp_path, surroundings, offline, honest
):
    """A classifier of 160 weights fitted offline, one Constant per frozen Dense(1), behind a gate
    of zeros that opens during training: fresh, it answers at chance, so only the budget can stop
    it. When the grader trains, its 327 numbers are refused; the same attack cut to what fits the
    budget (4 averages) carries a 40-weight classifier, which scores far below an honest linear
    classifier trained for one epoch. When the submission trains, the gate opens in its own
    training, which the security model says that path cannot see."""
    files = weight_files("gated_constants", offline)
    if trainer == "submission":
        result, _ = attempt(
            "gated_constants", tmp_path, surroundings, files, trainer=trainer, must_fail=False
        )
        assert result.trained_by.startswith("the submission's own code")
        assert "a gate that opens during training" in " ".join(SECURITY_MODEL.split())
        return
    result, messages = attempt("gated_constants", tmp_path, surroundings, files, trainer=trainer)
    assert "numbers outside its shapes and wiring" in messages and "at most 128 are accepted" in messages
    assert result.metrics.accuracy is None
    source = (HOSTILE / "gated_constants" / "model.py").read_text()
    small = {**files, "model.py": source.replace("FEATURES = 16", "FEATURES = 4").encode()}
    cut, messages = attempt(
        "gated_constants", tmp_path / "cut", surroundings, small, trainer=trainer, must_fail=False
    )
    assert cut.problem is None and cut.metrics.public_accuracy is not None, messages
    assert honest.metrics.public_accuracy is not None
    assert cut.metrics.public_accuracy < honest.metrics.public_accuracy - 0.3
    carried = offline["pooled_accuracy"][4]  # type: ignore[index]
    assert cut.metrics.public_accuracy < carried + 0.1  # no more than its 40 numbers can say


def test_seeds_chosen_to_pick_fitted_columns_of_random_weights_carry_nothing(tmp_path, surroundings):
    """Seeds, widths and croppings searched offline so that each class's frozen column of random
    weights is close to a direction fitted on the public digits: before seeds were dropped and the
    rebuild's seed mixed with the declaration's digest, the grader trained it to 67.2% where the same
    graph with Keras's own initializers reached 29.0%. Now its seeds are dropped, the two declare the
    same model, and they score the same, image for image."""
    source = (HOSTILE / "seeded_columns" / "model.py").read_text()
    twin = {"model.py": source.replace("SEEDED = True", "SEEDED = False").encode()}
    attack, messages = attempt("seeded_columns", tmp_path, surroundings, trainer="grader", must_fail=False)
    assert attack.problem is None and any(
        "10 seeds given in the model's declaration were dropped" in n for n in attack.notes
    ), messages
    honest, _ = attempt(
        "seeded_columns", tmp_path / "twin", surroundings, twin, trainer="grader", must_fail=False
    )
    assert attack.metrics.accuracy is not None and attack.metrics.accuracy == honest.metrics.accuracy
