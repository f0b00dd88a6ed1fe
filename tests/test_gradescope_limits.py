"""Submission limits from Gradescope's submission_metadata.json: what counts, the 24-hour window
measured from the submission's own time, and which score stands."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from grader.gradescope.limits import MetadataError, read_metadata, settled, standing, turned_away
from grader.settings import Submissions
from tests.test_results import validate

NOW = "2026-11-20T18:00:00.000000-08:00"


def earlier(hours: float, score: float, *, counted: bool = True) -> dict:
    """An earlier submission ``hours`` before NOW, as Gradescope lists it."""
    time = datetime.fromisoformat(NOW) - timedelta(hours=hours)
    results = {
        "score": score,
        "output": f"scored {score:g}",
        "tests": [{"name": "Test accuracy", "score": score, "max_score": 10, "status": "passed"}],
        "extra_data": {"counted": counted},
    }
    return {"submission_time": time.isoformat(), "score": score, "results": results}


def at(policy: Submissions, *past: dict):
    now, found = read_metadata({"created_at": NOW, "previous_submissions": list(past)})
    return standing(policy, now, found)


def test_only_graded_submissions_in_the_24_hours_before_this_one_count():
    policy = Submissions(per_day=2)
    assert not at(policy, earlier(1, 5), earlier(2, 6, counted=False), earlier(24, 7)).over
    over = at(policy, earlier(1, 5), earlier(23.5, 6), earlier(30, 9))
    assert over.over and over.used == 2
    assert over.next_at == datetime.fromisoformat(NOW) + timedelta(minutes=30)  # the oldest leaves then
    assert not at(Submissions(), *(earlier(hour / 10, 1) for hour in range(50))).over  # no limit set
    legacy = earlier(1, 5)
    del legacy["results"]["extra_data"]  # results without the marker (another autograder): not graded here
    assert at(Submissions(per_day=1), legacy).used == 0


def test_the_last_or_the_best_graded_submission_stands():
    past = (earlier(30, 9), earlier(5, 4), earlier(1, 3, counted=False))
    assert at(Submissions(per_day=1, counts="last"), *past).standing.score == 4
    assert at(Submissions(per_day=1, counts="best"), *past).standing.score == 9


def test_a_submission_over_the_limit_keeps_the_standing_score_and_says_when_to_come_back():
    over = at(Submissions(per_day=2, counts="best"), earlier(2, 4), earlier(1, 8))
    results = turned_away(over, 10)
    validate(results)
    assert results["score"] == 8 and results["tests"][0]["score"] == 8
    assert results["output"].startswith("Not graded: you have had 2 submissions graded in the 24 hours")
    assert "submit after 2026-11-21T16:00-08:00" in results["output"]
    assert "Your best graded submission (2026-11-20T17:00-08:00) stands" in results["output"]
    assert results["extra_data"]["counted"] is False  # a turned-away submission never counts itself


def test_under_best_counts_an_earlier_better_score_stands_over_a_worse_new_one():
    policy = Submissions(per_day=3, counts="best")
    graded = {"score": 2.0, "output": "bob: 2 / 10 points.", "tests": [], "extra_data": {"counted": True}}
    results = settled(at(policy, earlier(3, 9)), graded)
    assert results["score"] == 9 and results["output"].startswith(
        "Submission 2 of the 3 graded in any 24 hours."
    )
    assert (
        "This submission scored 2; your best, 9 (submitted 2026-11-20T15:00-08:00), stands."
        in results["output"]
    )
    assert results["extra_data"]["earned"] == 2  # what it scored itself, for the next ranking
    better = settled(at(policy, earlier(3, 1)), {**graded, "score": 7.0})
    assert better["score"] == 7
    kept = earlier(2, 9)
    kept["results"]["extra_data"]["earned"] = 2  # reported 9, an earlier best's; it earned 2
    assert at(policy, earlier(3, 5), kept).standing.earned == 5
    assert settled(at(Submissions(), earlier(3, 9)), graded) == graded  # no policy: as graded


@pytest.mark.parametrize(
    "metadata",
    [{}, {"created_at": "2026-11-20T18:00:00"}, {"created_at": NOW, "previous_submissions": [{"score": 1}]}],
)
def test_metadata_that_is_not_gradescopes_is_refused(metadata):
    with pytest.raises(MetadataError):
        read_metadata(metadata)
