"""Cores per grade: the count is the assignment's, shares never overlap, and graders on one machine
hold their cores with lock files (a waiting grader still stops at once when interrupted)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from grader.cores import CoresError, Lent, available_cores, cpu_shares, grade_cores, held_cores
from grader.runner.declare import declare
from grader.runner.sandbox import SandboxError, choose
from grader.runner.supervisor import Cancellation, Cancelled, PhaseFailed, Runner, Subject
from grader.runner.watchdog import tree
from grader.settings import Training
from reference import load
from tests.conftest import BACKEND, HOSTILE


def test_a_grade_gets_the_assignments_count_of_cores_whatever_it_is_given():
    cores = available_cores()
    assert grade_cores(1) == frozenset(cores[:1])
    assert grade_cores(1, frozenset(cores)) == frozenset(cores[:1])


def test_more_cores_than_the_machine_has_is_refused_with_the_count():
    with pytest.raises(CoresError, match=r"training\.cores is 999, but only \d+ core"):
        grade_cores(999)
    with pytest.raises(CoresError, match=r"training\.cores is 2, but only 1 core is available"):
        grade_cores(2, frozenset({0}))


def test_shares_are_disjoint_and_never_more_than_the_machine_holds():
    shares = cpu_shares(64, 1)
    assert len(shares) == len(available_cores())
    assert all(len(share) == 1 for share in shares)
    assert len(frozenset().union(*shares)) == len(shares)


def test_a_second_grader_skips_the_cores_the_first_one_holds(tmp_path):
    cores = frozenset(available_cores())
    if len(cores) < 2:
        pytest.skip("needs two cores")
    with held_cores(1, cores, locks=tmp_path) as first, held_cores(1, cores, locks=tmp_path) as second:
        assert first != second
    with held_cores(1, cores, locks=tmp_path) as again:  # released when the block ended
        assert again == first


def test_a_grader_waiting_for_held_cores_stops_as_soon_as_it_is_interrupted(tmp_path):
    only = frozenset(available_cores()[:1])
    cancellation = Cancellation()
    outcome: list[BaseException] = []

    def wait_for_the_core() -> None:
        try:
            with held_cores(1, only, cancellation=cancellation, locks=tmp_path):
                pass
        except BaseException as error:
            outcome.append(error)

    with held_cores(1, only, locks=tmp_path):
        waiter = threading.Thread(target=wait_for_the_core)
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive() and not outcome  # still waiting: the core is held
        cancellation.cancel()
        waiter.join(timeout=5)
        assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)


def test_packed_on_a_gpu_every_job_gets_a_share_and_they_take_the_cores_in_turn():
    """A grade on a GPU mostly waits on the card, so --jobs may exceed the cores there; the shares
    go round the cores so that no core holds two grades more than any other."""
    cores = available_cores()
    shares = cpu_shares(3 * len(cores) + 1, 1, packed=True)
    assert len(shares) == 3 * len(cores) + 1
    held = [shares.count(frozenset({core})) for core in cores]
    assert max(held) - min(held) <= 1 and sum(held) == len(shares)
    assert cpu_shares(1, 1, packed=True) == [frozenset(cores[:1])]
    assert cpu_shares(3 * len(cores), 1) == cpu_shares(len(cores), 1)  # the CPU: one grade to a core


def test_a_grade_alone_borrows_the_cores_no_grade_holds_until_its_children_have_started(tmp_path):
    cores = available_cores()
    if len(cores) < 2:
        pytest.skip("needs two cores")
    own, others = frozenset(cores[:1]), frozenset(cores[1:])
    with held_cores(len(others), others, locks=tmp_path), Lent(own, locks=tmp_path) as lent:
        assert lent.cores == frozenset() and lent.borrow() == frozenset()  # another grade holds them
    with Lent(own, locks=tmp_path) as lent:
        assert lent.cores == others
        assert lent.borrow() == lent.borrow() == others  # two children start on them
        lent.give_back()
        assert lent.cores == others  # one of them is still starting
        lent.give_back()
        assert lent.cores == frozenset() and lent.borrow() == frozenset()
        with held_cores(len(others), others, locks=tmp_path) as taken:  # free again at once
            assert taken == others


def _threads_cores(child: Runner) -> set[frozenset[int]]:
    """The affinity of every thread of every process of the child, as the kernel has it."""
    found = set()
    for pid in tree(child._process.pid, child._uid):
        for thread in os.listdir(f"/proc/{pid}/task"):
            try:
                found.add(frozenset(os.sched_getaffinity(int(thread))))
            except OSError:
                continue  # ended while we looked
    return found


@pytest.mark.matrix  # on every TensorFlow version and Keras backend in CI: XLA sizes its pool by affinity
@pytest.mark.spread
def test_a_trainer_started_on_lent_cores_trains_on_its_own_exactly_as_one_that_was_not(tmp_path, sample):
    cores = available_cores()
    if len(cores) < 2:
        pytest.skip("needs two cores")
    own = frozenset(cores[:1])
    training = Training(max_epochs=1, time_limit_s=300.0, backend=BACKEND, trainer="grader")
    fit = {"batch_size": 64, "epochs": 1, "validation_split": 0.0, "shuffle": True, "callbacks": []}
    declaration = declare(load("conv_32_64_64").build_model(), fit, parts=[]).to_dict()
    outputs = []
    for name, lent in (("lent", Lent(own, locks=tmp_path / "locks")), ("own", None)):
        child = Runner(Subject.declaration(), "conv_32_64_64", training, tmp_path / name, cpus=own, lent=lent)
        with child:  # started, and waited for until ready
            if lent is not None:
                assert lent.cores == frozenset()  # given back once its one borrower was ready
            assert _threads_cores(child) == {own} and child.usage().cores == own
            child.rebuild(declaration)
            child.train(sample.x_train[:1500], sample.y_train[:1500])
            outputs.append(child.predict(sample.x_test[:500]))
    assert np.array_equal(outputs[0], outputs[1])


def test_a_child_on_lent_cores_starts_on_them(tmp_path):
    """Until it is ready the child's sandbox may run on the lent cores too (bubblewrap's own
    process keeps the mask it was started with until the grader moves it)."""
    cores = available_cores()
    if len(cores) < 2 or choose("auto").kind != "bubblewrap":
        pytest.skip("needs two cores and bubblewrap")
    own = frozenset(cores[:1])
    training = Training(max_epochs=1, time_limit_s=300.0, backend=BACKEND, trainer="grader")
    with Lent(own, locks=tmp_path / "locks") as lent:
        child = Runner(Subject.declaration(), "conv_32_64_64", training, tmp_path / "c", cpus=own, lent=lent)
        try:
            child.start()
            assert child.usage().cores == frozenset(cores)
            child.wait_ready()
            assert child.usage().cores == own and lent.cores == frozenset()
        finally:
            child.done()


@pytest.mark.spread
def test_a_submission_cannot_keep_the_cores_lent_for_start_up(tmp_path):
    """By the time the submission's code runs, the builder is held to the grade's own cores: one
    that widens its affinity onto the core it was lent is stopped."""
    cores = available_cores()
    if len(cores) < 2:
        pytest.skip("needs two cores")
    own = frozenset(cores[:1])
    training = Training(max_epochs=1, time_limit_s=300.0, backend=BACKEND)
    model = HOSTILE / "take_every_core" / "model.py"
    with Lent(own, locks=tmp_path / "locks") as lent:
        assert lent.cores
        builder = Runner(
            Subject.submission(model), "conv_32_64_64", training, tmp_path / "b", cpus=own, lent=lent
        )
        with builder, pytest.raises(PhaseFailed, match="moved onto cores it was not given"):
            builder.build()


def test_core_locks_are_kept_only_where_no_other_user_can_change_them(tmp_path):
    """The locks live under /tmp unless XDG_RUNTIME_DIR says otherwise: another user who made the
    folder first could hold every core forever, or plant links among the locks. Such a folder is
    refused, saying what to do; a new one is made private."""
    own = frozenset(available_cores()[:1])
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    (tmp_path / "private").mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "private", target_is_directory=True)
    refused = [open_to_all, link]
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o700)
        os.chown(theirs, 65534, 65534)
        refused.append(theirs)
    for folder in refused:
        with (
            pytest.raises(SandboxError, match=r"must be a folder only this user \(\d+\) can change"),
            held_cores(1, None, locks=folder),
        ):
            pass
        with pytest.raises(SandboxError, match="Remove it, or set XDG_RUNTIME_DIR"):
            Lent(own, locks=folder)
    made = tmp_path / "new" / "locks"
    with held_cores(1, None, locks=made) as cores:
        assert made.stat().st_mode & 0o777 == 0o700
        assert (made / f"core-{min(cores)}.lock").is_file()
