"""Parsing model.summary() text: the tutorials' Keras 2 printouts and real Keras 3 output."""

from __future__ import annotations

import pytest

import reference
from grader.compare import canonical_kind
from grader.model_facts import describe_model
from grader.summary import SummaryError, parse_summary
from tests.conftest import FIXTURES

SUMMARIES = FIXTURES / "summaries"


def _kinds(facts):
    return [canonical_kind(layer.kind) for layer in facts.layers]


@pytest.mark.parametrize(
    ("fixture", "name"), [("tutorial_000_keras2.txt", "000"), ("tutorial_002_keras2.txt", "002")]
)
def test_keras2_printouts_from_the_tutorials_equal_the_documented_facts(fixture, name):
    parsed = parse_summary((SUMMARIES / fixture).read_text())
    documented = reference.load(name).DOCUMENTED
    assert parsed.total_params == documented.total_params
    assert parsed.trainable_params == documented.trainable_params
    assert [layer.output_shape for layer in parsed.layers] == [
        layer.output_shape for layer in documented.layers
    ]
    assert [layer.params for layer in parsed.layers] == [layer.params for layer in documented.layers]
    assert _kinds(parsed) == [layer.kind for layer in documented.layers]


def test_keras2_truncated_type_names_are_completed():
    parsed = parse_summary((SUMMARIES / "tutorial_000_keras2.txt").read_text())
    assert parsed.layers[2].kind == "MaxPooling2" and canonical_kind("MaxPooling2") == "MaxPooling2D"
    assert parsed.layers[0].output_shape == (None, 28, 28, 1)  # "[(None, 28, 28, 1)]"


@pytest.mark.parametrize("name", list(reference.REFERENCES))
@pytest.mark.matrix
def test_live_summary_parses_to_the_models_facts(name):
    """The installed Keras's own summary (Keras 2 or 3 layout, as the matrix runs it)."""
    model = reference.load(name).build_model()
    lines: list[str] = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    parsed = parse_summary("\n".join(lines))
    facts = describe_model(model)
    assert [(canonical_kind(x.kind), x.output_shape, x.params, x.name) for x in parsed.layers] == [
        (x.kind, x.output_shape, x.params, x.name) for x in facts.layers
    ]
    assert (parsed.total_params, parsed.trainable_params) == (facts.total_params, facts.trainable_params)


def test_stored_keras3_summary_with_input_layer():
    parsed = parse_summary((SUMMARIES / "functional_cnn_keras3.txt").read_text())
    assert parsed.layers[0].kind == "InputLayer"
    assert parsed.total_params == 1_207_498 and parsed.layers[-1].params == 650


def test_keras3_wrapped_cells_are_joined():
    text = """\
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ a_very_long_layer_name_that_wr… │ (None, 21632)          │             0 │
│ (Flatten)                       │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │       216,330 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 216,330 (845.04 KB)
 Trainable params: 216,000 (843.75 KB)
 Non-trainable params: 330 (1.29 KB)
"""
    parsed = parse_summary(text)
    assert [layer.kind for layer in parsed.layers] == ["Flatten", "Dense"]
    assert parsed.layers[0].output_shape == (None, 21632)
    assert parsed.trainable_params == 216_000 and parsed.non_trainable_params == 330


@pytest.mark.parametrize(
    ("text", "message"),
    [("hello", "no layer rows"), (" dense (Dense)   (None, 10)   650\n", "no 'Total params'")],
)
def test_text_that_is_not_a_summary_is_refused(text, message):
    with pytest.raises(SummaryError, match=message):
        parse_summary(text)
