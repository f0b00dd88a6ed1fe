"""Aligning layers and naming the first departure."""

from __future__ import annotations

from grader.compare import canonical_kind, compare_facts, first_departure
from grader.model_facts import LayerFacts, ModelFacts

CONV = LayerFacts("Conv2D", (None, 26, 26, 32), 320)
POOL = LayerFacts("MaxPooling2D", (None, 13, 13, 32), 0)
FLAT = LayerFacts("Flatten", (None, 5408), 0)
DENSE = LayerFacts("Dense", (None, 10), 54_090)
MODEL = ModelFacts((CONV, POOL, FLAT, DENSE), 54_410, 54_410)


def test_identical_models_match_on_every_row():
    rows = compare_facts(MODEL, MODEL)
    assert all(row.ok for row in rows) and first_departure(rows) is None
    assert [row.label for row in rows] == [
        "layer 1",
        "layer 2",
        "layer 3",
        "layer 4",
        "total params",
        "trainable params",
    ]


def test_input_layer_rows_are_ignored_on_both_sides():
    with_input = ModelFacts((LayerFacts("InputLayer", (None, 28, 28, 1), 0), *MODEL.layers), 54_410, 54_410)
    assert all(row.ok for row in compare_facts(with_input, MODEL))


def test_a_missing_layer_is_one_row_and_the_rest_still_align():
    no_flatten = ModelFacts((CONV, POOL, LayerFacts("Dense", (None, 13, 13, 10), 330)), 650, 650)
    rows = compare_facts(MODEL, no_flatten)
    departure = first_departure(rows)
    assert departure.label == "after layer 2"
    assert departure.problems == ("missing: expected Flatten (None, 5408) 0",)
    dense = next(row for row in rows if row.label == "layer 3")
    assert dense.problems == (
        "outputs (None, 13, 13, 10), expected (None, 10)",
        "has 330 parameters, expected 54,090",
    )
    assert [row.ok for row in rows[:2]] == [True, True]


def test_a_much_shorter_model_names_each_missing_layer():
    """One layer against four: the missing ones all come after the last it has (this once crashed)."""
    rows = compare_facts(MODEL, ModelFacts((CONV,), 320, 320), params=False)
    assert [(row.label, row.ok) for row in rows] == [
        ("layer 1", True),
        ("after layer 1", False),
        ("after layer 1", False),
        ("after layer 1", False),
    ]


def test_an_extra_layer_and_a_changed_kind_are_named():
    extra = ModelFacts(
        (CONV, LayerFacts("Dropout", (None, 26, 26, 32), 0), POOL, FLAT, DENSE), 54_410, 54_410
    )
    assert first_departure(compare_facts(MODEL, extra)).problems == ("extra Dropout: not expected here",)
    swapped = ModelFacts(
        (CONV, LayerFacts("AveragePooling2D", (None, 13, 13, 32), 0), FLAT, DENSE), 54_410, 54_410
    )
    departure = first_departure(compare_facts(MODEL, swapped))
    assert (departure.label, departure.problems) == (
        "layer 2",
        ("is AveragePooling2D, expected MaxPooling2D",),
    )


def test_totals_are_compared():
    more = ModelFacts(MODEL.layers, 54_411, 54_000)
    rows = compare_facts(MODEL, more)
    assert [row.problems for row in rows[-2:]] == [
        ("54,411 instead of 54,410",),
        ("54,000 instead of 54,410",),
    ]


def test_canonical_kinds():
    assert canonical_kind("MaxPooling2") == "MaxPooling2D"
    assert canonical_kind("Convolution2D") == "Conv2D"
    assert canonical_kind("Dense") == "Dense"
    assert canonical_kind("MyCustomLayer") == "MyCustomLayer"
