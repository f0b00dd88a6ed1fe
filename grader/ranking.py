"""Ranks that noise cannot decide: the leaderboard's and the gradebook's.

Entries are ordered by accuracy (higher first), then parameters (fewer first), then training
cost (cheaper first). Accuracy and parameters are exact (a grade's accuracy is reproducible to
the last image), so equal ones tie. Training costs are measurements: two that differ by less
than their measured uncertainty (grader/timing.py) are the same cost, so those entries share a
rank, as four copies of one submission do. Ranks are competition ranks: 1, 1, 3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

ACCURACY_DIGITS = 4  # as shown: 97.25%


@dataclass(frozen=True)
class Standing:
    """What one entry is ranked by; ``accuracy`` None is unranked (it has no score to rank)."""

    accuracy: float | None
    parameters: int | None
    cost: float | None
    noise: float = 0.0


def order(standing: Standing) -> tuple[float, float, float]:
    """Highest accuracy first, then fewest parameters, then cheapest training; unranked last."""
    if standing.accuracy is None:
        return (math.inf, math.inf, math.inf)
    return (
        -round(standing.accuracy, ACCURACY_DIGITS),
        standing.parameters if standing.parameters is not None else math.inf,
        standing.cost if standing.cost is not None else math.inf,
    )


def ranks(standings: Sequence[Standing]) -> list[int | None]:
    """The rank of each standing (in the given order), ties sharing one: an entry ties with the
    first of its group when accuracy and parameters are equal and its cost is within their noise."""
    indices = sorted(range(len(standings)), key=lambda i: order(standings[i]))
    found: list[int | None] = [None] * len(standings)
    leader: Standing | None = None
    rank = 0
    for place, index in enumerate(indices, 1):
        standing = standings[index]
        if standing.accuracy is None:
            continue
        if leader is None or not _tied(leader, standing):
            leader, rank = standing, place
        found[index] = rank
    return found


def _tied(leader: Standing, other: Standing) -> bool:
    if order(leader)[:2] != order(other)[:2]:
        return False
    if leader.cost is None or other.cost is None:
        return leader.cost == other.cost
    tolerance = max(leader.noise, other.noise)
    return other.cost <= leader.cost * (1 + tolerance)
