"""Ranks: exact ties on accuracy and parameters, and training costs within their noise tied."""

from __future__ import annotations

from grader.ranking import Standing, ranks


def test_four_copies_with_costs_a_percent_apart_share_first_place():
    copies = [Standing(0.975, 458_570, cost, 0.07) for cost in (1.0049, 1.0056, 1.0069, 1.0160)]
    assert ranks(copies) == [1, 1, 1, 1]


def test_accuracy_then_parameters_then_a_cost_beyond_the_noise_decide():
    standings = [
        Standing(0.97, 100, 1.0, 0.05),  # 5th: lower accuracy
        Standing(0.98, 200, 1.0, 0.05),  # 2nd: more parameters than the next
        Standing(0.98, 100, 1.0, 0.05),  # 1st
        Standing(0.98, 100, 1.04, 0.05),  # tied with the 1st: 4% is within its 5% noise
        Standing(0.98, 100, 1.2, 0.05),  # 3rd of those with 0.98 and 100 parameters: 20% more
        Standing(None, 100, 1.0, 0.05),  # unscored: unranked
    ]
    assert ranks(standings) == [5, 4, 1, 1, 3, None]


def test_accuracy_is_compared_to_the_digits_shown():
    assert ranks([Standing(0.97250001, 1, 1.0), Standing(0.9725, 1, 1.0)]) == [1, 1]
