"""Cores per grade: the count is the assignment's, shares never overlap, and graders on one machine
hold their cores with lock files (a waiting grader still stops at once when interrupted)."""

from __future__ import annotations

import threading
import time

import pytest

from grader.cores import CoresError, available_cores, cpu_shares, grade_cores, held_cores
from grader.runner.supervisor import Cancellation, Cancelled


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
