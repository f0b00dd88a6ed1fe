"""The reference's baseline: measured through the runner once, then reused from the cache."""

from __future__ import annotations

import dataclasses
import json
import platform

import pytest

from grader.assignment import load_assignment
from grader.backends import version
from grader.calibration import cache_path, calibrate, calibration_key
from grader.settings import Training
from tests.conftest import BACKEND


@pytest.fixture(scope="module")
def one_epoch():
    """Tutorial 000's assignment capped at one epoch, so a calibration takes seconds."""
    return dataclasses.replace(
        load_assignment("000"), training=Training(max_epochs=1, time_limit_s=300, backend=BACKEND)
    )


def test_the_key_covers_what_changes_the_figures(sample, one_epoch):
    key = calibration_key(one_epoch, sample)
    assert {
        "machine",
        "python",
        "backend",
        "backend_version",
        "keras",
        "data",
        "reference_source",
        "cores",
    } <= set(key)
    assert platform.node() not in key["machine"]  # identical machines (a course's containers) share figures

    def training(**changed):
        return dataclasses.replace(one_epoch, training=dataclasses.replace(one_epoch.training, **changed))

    more_cores = training(cores=2)
    assert calibration_key(more_cores, sample) != key
    more_epochs, other_seed, longer_limit = (
        training(max_epochs=2),
        training(seed=7),
        training(time_limit_s=900),
    )
    assert calibration_key(more_epochs, sample) != key
    assert calibration_key(other_seed, sample) != key
    assert calibration_key(longer_limit, sample) == key  # a limit is not a figure
    other = "torch" if BACKEND == "jax" else "jax"
    assert calibration_key(training(backend=other), sample)["backend"] == other != key["backend"]


def test_measured_once_by_grader_calibrate_then_reused_until_forced(
    sample, one_epoch, tmp_path, monkeypatch, capsys
):
    from grader.cli import main

    spec = (load_assignment("000").path or tmp_path).read_text().replace("max_epochs = 5", "max_epochs = 1")
    (tmp_path / "one_epoch.toml").write_text(spec)
    cache = tmp_path / "cache"
    monkeypatch.setenv("GRADER_CACHE_DIR", str(cache))
    assert main(["calibrate", str(tmp_path / "one_epoch.toml"), "--backend", BACKEND]) == 0
    assert "trained 1 epoch in" in capsys.readouterr().out
    assert len(list((cache / "calibration").glob("conv_32_64_64-mnist_sample-*.json"))) == 1

    first = calibrate(one_epoch, sample, cache_root=cache)  # the same figures: the file's, not measured again
    assert first.cached and first.path.is_file()
    baseline = first.baseline
    assert (baseline.reference, baseline.epochs, baseline.facts.total_params) == ("conv_32_64_64", 1, 458_570)
    assert 0.8 < baseline.accuracy <= 1 and baseline.train_seconds > 0
    assert baseline.timing.steps > 0 and baseline.timing.cpu_seconds > 0  # on the training clock
    assert first.environment["backend"] == BACKEND and "event" not in first.environment
    assert first.environment["backend_version"] == version(BACKEND)

    first.path.write_text("{not json")  # a damaged cache file is measured again, not trusted
    remeasured = calibrate(one_epoch, sample, cache_root=cache)
    assert not remeasured.cached
    assert json.loads(remeasured.path.read_text())["baseline"]["epochs"] == 1
    again = calibrate(one_epoch, sample, cache_root=cache)
    assert again.cached and again.baseline == remeasured.baseline
    assert calibrate(one_epoch, sample, cache_root=cache, force=True).cached is False


def test_a_cache_file_for_another_key_is_not_used(sample, one_epoch, tmp_path):
    key = calibration_key(one_epoch, sample)
    path = cache_path(key, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"key": {**key, "machine": "elsewhere"}, "baseline": {}}))
    from grader.calibration import _read

    assert _read(path, key) is None


def test_a_grader_waiting_for_anothers_calibration_stops_when_interrupted(sample, one_epoch, tmp_path):
    """Another grader measuring the same figures holds the lock; an interrupted wait ends at once."""
    import fcntl
    import threading

    from grader.runner.supervisor import Cancellation, Cancelled

    lock_file = cache_path(calibration_key(one_epoch, sample), tmp_path).with_suffix(".lock")
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    cancellation = Cancellation()
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            calibrate(one_epoch, sample, cache_root=tmp_path, cancellation=cancellation)
        except BaseException as error:
            outcome.append(error)

    with open(lock_file, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiter = threading.Thread(target=wait)
        waiter.start()
        waiter.join(timeout=0.5)
        assert waiter.is_alive() and not outcome
        cancellation.cancel()
        waiter.join(timeout=5)
        assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)


def test_a_calibration_waiting_for_cores_holds_no_lock_a_grade_would_wait_on(sample, one_epoch, tmp_path):
    """A grade holds its cores, then asks for the reference's figures. A calibration that took the
    figures' lock and then waited for cores waited on that grade as the grade waited on it, both
    forever (a class beside a `grader calibrate`): it takes its cores first."""
    import fcntl
    import threading

    from grader.cores import available_cores, held_cores
    from grader.runner.supervisor import Cancellation, Cancelled

    lock_file = cache_path(calibration_key(one_epoch, sample), tmp_path).with_suffix(".lock")
    cancellation = Cancellation()
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            calibrate(one_epoch, sample, cache_root=tmp_path, cancellation=cancellation)
        except BaseException as error:
            outcome.append(error)

    with held_cores(len(available_cores()), None):  # every core, as a class's grades hold them
        waiter = threading.Thread(target=wait)
        waiter.start()
        waiter.join(timeout=1.0)
        assert waiter.is_alive() and not outcome  # waiting for a core
        with open(lock_file, "a") as grade:  # the grade's turn at the figures' lock: free
            fcntl.flock(grade, fcntl.LOCK_EX | fcntl.LOCK_NB)
        cancellation.cancel()
        waiter.join(timeout=5)
        assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
