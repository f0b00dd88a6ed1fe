"""Submission limits on Gradescope: at most ``per_day`` graded in any 24 hours, the last or the
best graded one counting.

Gradescope passes every earlier submission of the student, with the results.json it got, in
``/autograder/submission_metadata.json``. A submission counts toward the limit only if it was
graded (its results.json says ``extra_data.counted``): an upload the grader could not take, a
misconfigured or failed autograder and a submission turned away by the limit itself do not.
Windows are measured from the submission's own ``created_at``, never the clock, so a rerun of
the autograder decides the same way. A submission over the limit is not graded: the student
keeps the score that counts, with its tests, as Gradescope's documentation suggests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from grader.settings import Submissions

WINDOW = timedelta(hours=24)
METADATA_FILE = "submission_metadata.json"


class MetadataError(ValueError):
    """``submission_metadata.json`` is not what Gradescope writes."""


@dataclass(frozen=True)
class Past:
    """An earlier submission as Gradescope reports it."""

    time: datetime
    score: float
    results: dict[str, Any]

    @property
    def extra(self) -> dict[str, Any]:
        extra = self.results.get("extra_data") if isinstance(self.results, dict) else None
        return extra if isinstance(extra, dict) else {}

    @property
    def counted(self) -> bool:
        return bool(self.extra.get("counted", False))

    @property
    def earned(self) -> float:
        """What the submission itself scored (its reported score may be an earlier best's)."""
        own = self.extra.get("earned")
        return float(own) if isinstance(own, int | float) and not isinstance(own, bool) else self.score


@dataclass(frozen=True)
class Standing:
    """Where a student stands when a submission arrives."""

    now: datetime
    used: int  # graded submissions in the 24 hours before this one
    allowed: int | None
    counts: str  # "last" or "best"
    standing: Past | None  # the earlier graded submission whose score counts now, if any
    next_at: datetime | None = None  # when the oldest of those leaves the window

    @property
    def over(self) -> bool:
        return self.allowed is not None and self.used >= self.allowed


def read_metadata(metadata: dict[str, Any]) -> tuple[datetime, list[Past]]:
    """This submission's time and the earlier ones, oldest first."""
    try:
        now = _time(metadata["created_at"])
        past = [
            Past(_time(item["submission_time"]), float(item.get("score") or 0.0), item.get("results") or {})
            for item in metadata.get("previous_submissions") or ()
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MetadataError(f"{METADATA_FILE} is not Gradescope's ({error!r})") from None
    return now, sorted(past, key=lambda item: item.time)


def standing(policy: Submissions, now: datetime, past: list[Past]) -> Standing:
    """How many graded submissions fall in the 24 hours before ``now``, and whose score counts."""
    graded = [item for item in past if item.counted and item.time <= now]
    recent = [item for item in graded if now - item.time < WINDOW]
    if not graded:
        counting = None
    elif policy.counts == "best":
        counting = max(reversed(graded), key=lambda item: item.earned)  # the latest among equals
    else:
        counting = graded[-1]
    next_at = recent[0].time + WINDOW if recent else None
    return Standing(now, len(recent), policy.per_day, policy.counts, counting, next_at)


def turned_away(at: Standing, possible: float) -> dict[str, Any]:
    """The results.json of a submission over the limit: not graded; the counting one's tests and
    score stand, with a message that says when the next one will be graded."""
    assert at.over and at.next_at is not None and at.standing is not None
    message = (
        f"Not graded: you have had {at.used} submissions graded in the 24 hours before this one, the "
        f"most this assignment allows. The next will be graded if you submit after "
        f"{at.next_at.isoformat(timespec='minutes')}."
    )
    kept = dict(at.standing.results)
    when = at.standing.time.isoformat(timespec="minutes")
    output = f"{message}\n\nYour {at.counts} graded submission ({when}) stands, shown below."
    return {
        **{key: value for key, value in kept.items() if key != "extra_data"},
        "score": at.standing.earned,
        "output": output + ("\n\n" + str(kept["output"]) if kept.get("output") else ""),
        "extra_data": {"counted": False, "limited": True, "standing_submission": when, "possible": possible},
    }


def settled(at: Standing, results: dict[str, Any]) -> dict[str, Any]:
    """This graded submission's results.json with the policy applied: the count so far, and under
    ``counts = "best"`` an earlier, better score standing over this one's."""
    lines = []
    if at.allowed is not None:
        lines.append(f"Submission {at.used + 1} of the {at.allowed} graded in any 24 hours.")
    score = float(results.get("score", 0.0))
    best = at.standing
    if best is not None and at.counts == "best" and best.earned > score:
        when = best.time.isoformat(timespec="minutes")
        lines.append(
            f"This submission scored {score:g}; your best, {best.earned:g} (submitted {when}), stands."
        )
        extra = {**dict(results.get("extra_data") or {}), "earned": score}
        results = {**results, "score": best.earned, "extra_data": extra}
    if not lines:
        return results
    return {**results, "output": " ".join(lines) + "\n\n" + str(results.get("output", ""))}


def _time(text: Any) -> datetime:
    value = datetime.fromisoformat(str(text))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return value
