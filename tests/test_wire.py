"""What crosses from a child to the grader, fuzzed: random and adversarial JSON, huge numbers,
deep nesting and wrong types never raise anything but the submission's own failure.

Every reader a child's line goes through on the grader's side is here: the wire (grader/wire.py),
the ``built`` report and the model's facts, a progress event, a start-up report, and the vetting
of a declaration (grader/declaration.py), which the trainer runs on what the builder declared.
The end-to-end attempts (a message nested 100,000 deep, a number of 401 digits, 30,000 notes)
are graded through real children in tests/test_hostile.py.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import wire
from grader.declaration import Declaration, Refused, vet
from grader.model_facts import ModelFacts
from grader.runner.supervisor import Built, read_built

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=40))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=60,
)


def written(value: object) -> bytes:
    """``value`` as a child would write it (Python's json, NaN and Infinity included)."""
    return json.dumps(value).encode()


@FUZZ
@given(JSON)
def test_any_json_is_read_or_refused_as_malformed(value):
    with contextlib.suppress(wire.Malformed):
        wire.loads(written(value))


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_refused_as_malformed(data):
    with contextlib.suppress(wire.Malformed):
        wire.event(data)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 64 deep"),
        (b'{"event": "built", "a": ' + b"[" * 70 + b"]" * 70 + b"}", "nested more than 64 deep"),
        (b'{"event": "built", "learning_rate": ' + b"1" * 401 + b"}", "a number of 401 digits"),
        (b'{"event": "built", "learning_rate": 1e400}', "beyond a float's range"),
        (b'{"event": "built", "x": [' + b",".join([b"0"] * 300_000) + b"]}", "more than 250,000 values"),
        (b'{"event": "built"', "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'["event", "built"]', "not an object naming its event"),
        (b'{"event": 3}', "not an object naming its event"),
    ],
)
def test_adversarial_lines_are_malformed_with_a_reason(line, said):
    with pytest.raises(wire.Malformed, match=said):
        wire.event(line + b"\n")


def test_a_line_the_reader_had_to_cut_is_malformed():
    with pytest.raises(wire.Malformed, match="a message over"):
        wire.event(b"x" * wire.MAX_LINE_BYTES)


def test_nan_is_read_as_python_writes_it_and_refused_where_a_finite_number_is_needed():
    message = wire.event(b'{"event": "trained", "loss": NaN}\n')
    assert math.isnan(message["loss"])
    with pytest.raises(wire.Malformed, match="not a finite number"):
        wire.number(message["loss"])


BUILT_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "facts": JSON,
        "compiled_by": JSON,
        "optimizer": JSON,
        "loss": JSON,
        "labels": JSON,
        "fit": JSON,
        "notes": st.one_of(JSON, st.lists(st.text(max_size=600), max_size=30)),
        "learning_rate": JSON,
        "declaration": JSON,
    },
)


@FUZZ
@given(BUILT_FIELDS)
def test_any_built_report_is_kept_bounded_or_refused_as_malformed(fields):
    try:
        built = read_built(wire.loads(written({"event": "built", **fields})))
    except wire.Malformed:
        return
    assert isinstance(built, Built) and len(built.notes) <= wire.MAX_NOTES
    assert all(len(note) <= wire.MAX_NOTE_CHARS + 40 for note in built.notes)


def good_facts() -> dict:
    return {
        "layers": [{"kind": "Dense", "output_shape": [None, 10], "params": 7850, "name": "dense"}],
        "total_params": 7850,
        "trainable_params": 7850,
    }


def test_a_built_report_with_30000_notes_keeps_ten_and_counts_the_rest():
    message = {
        "event": "built",
        "facts": good_facts(),
        "compiled_by": "submission",
        "optimizer": "Adam",
        "loss": "categorical_crossentropy",
        "labels": "one-hot",
        "fit": {"batch_size": 32, "epochs": 1, "callbacks": []},
        "notes": ["Note: Test accuracy 99.90% (passed)"] + ["x" * 10_000] * 29_999,
        "learning_rate": 0.001,
    }
    built = read_built(wire.loads(written(message), max_bytes=1 << 30))
    assert len(built.notes) == wire.MAX_NOTES and built.notes_cut == 29_990
    assert len(built.notes[1]) < 600 and built.notes[1].endswith("characters cut)")


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.update(learning_rate=10**30),  # within the wire's digits: a float, finite
        lambda m: m["facts"]["layers"][0].update(params=-1),
        lambda m: m["facts"]["layers"][0].update(output_shape=[None] * 17),
        lambda m: m["facts"].update(layers=[good_facts()["layers"][0]] * 5000),
        lambda m: m.update(fit=[1, 2]),
        lambda m: m.update(optimizer=["Adam"]),
    ],
)
def test_wrong_types_and_sizes_in_a_built_report_are_malformed_or_bounded(change):
    message = {
        "event": "built",
        "facts": good_facts(),
        "compiled_by": "submission",
        "optimizer": "Adam",
        "loss": "categorical_crossentropy",
        "labels": "one-hot",
        "fit": {"batch_size": 32},
        "notes": [],
    }
    change(message)
    try:
        built = read_built(wire.loads(written(message)))
    except wire.Malformed:
        return
    assert built.learning_rate == 1e30  # the one change that is a valid (if odd) report


@FUZZ
@given(JSON)
def test_any_facts_are_read_or_refused_as_malformed(value):
    with contextlib.suppress(wire.Malformed):
        assert isinstance(ModelFacts.from_dict(value), ModelFacts)


@FUZZ
@given(st.dictionaries(st.sampled_from(["epoch", "epochs", "step", "steps", "loss", "logs", "x"]), JSON))
def test_any_progress_event_is_cleaned_or_refused_as_malformed(fields):
    try:
        cleaned = wire.progress({"event": "batch", **fields})
    except wire.Malformed:
        return
    assert set(cleaned) <= {"event", "epoch", "epochs", "step", "steps", "loss", "logs"}
    assert len(cleaned.get("logs", {})) <= wire.MAX_LOG_KEYS


@FUZZ
@given(JSON)
def test_any_start_up_report_is_a_small_record_or_malformed(value):
    try:
        found = wire.scalars(value)
    except wire.Malformed:
        return
    assert len(found) <= 32 and len(json.dumps(found)) < 32 * (wire.MAX_KEY_CHARS + 16 * 220)


# -- the vetting of a declaration -----------------------------------------------------------------
@FUZZ
@given(JSON)
def test_any_json_as_a_declaration_is_vetted_or_refused(value):
    with contextlib.suppress(Refused):
        vet(written(value).decode())


@pytest.fixture(scope="module")
def honest() -> dict:
    """A real declaration: tutorial 000's reference as the builder writes it down."""
    from grader.runner import fitting
    from grader.runner.declare import declare
    from reference import load

    module = load("conv_32_64_64")
    model = module.build_model()
    fit = fitting.fit_settings(None, module.RECIPE, callbacks=[])
    return declare(model, fit, parts=[]).to_dict()


def places(value: object, path: tuple = ()) -> list[tuple]:
    """Every path into ``value``'s dicts and lists."""
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += places(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += places(inner, (*path, index))
    return found


@FUZZ
@given(st.data())
def test_a_real_declaration_with_any_part_replaced_is_vetted_or_refused(honest, data):
    """A hostile builder hands over the truth with one part swapped for anything."""
    forged = copy.deepcopy(honest)
    path = data.draw(st.sampled_from(places(forged)[1:]))
    replacement = data.draw(
        st.one_of(
            JSON,
            st.integers(min_value=10**20, max_value=10**39),
            st.just(float("inf")),
            st.just([[[[[[[[[[[[[[[[[[[[0.5]]]]]]]]]]]]]]]]]]]] * 3),
            st.just({"class_name": "__numpy__", "config": {"value": [0.1] * 20}}),
        )
    )
    target = forged
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = replacement
    with contextlib.suppress(Refused):
        assert isinstance(vet(written(forged).decode()), Declaration)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested more than 64 deep"),
        ('{"format": 1, "fit": {"epochs": ' + "9" * 400 + "}}", "a number of 400 digits"),
        (
            '{"format": 1, "compile": {"optimizer": {"class_name": "SGD", "config": {"learning_rate": 1e999}}}}',
            "beyond a float's range",
        ),
    ],
)
def test_a_declaration_nested_too_deep_or_holding_huge_numbers_is_refused(text, said):
    with pytest.raises(Refused, match=said):
        vet(text)
