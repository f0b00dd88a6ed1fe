"""Reading a live model, and reading facts back from untrusted JSON."""

from __future__ import annotations

import json

import pytest

import reference
from grader import wire
from grader.model_facts import ModelFacts, describe_model, format_shape

pytestmark = pytest.mark.matrix  # runs on every TensorFlow version in CI


def test_functional_models_list_their_input_layer():
    facts = describe_model(reference.load("003").build_model())
    assert facts.layers[0].kind == "InputLayer" and facts.layers[0].output_shape == (None, 28, 28, 1)
    sequential = describe_model(reference.load("004").build_model())
    assert sequential.layers[0].kind == "Conv2D"


def test_facts_survive_a_json_round_trip():
    facts = describe_model(reference.load("001").build_model())
    assert ModelFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts


def test_malformed_json_facts_are_refused():
    with pytest.raises(wire.Malformed, match="a dimension is 'x'"):
        ModelFacts.from_dict(
            {
                "layers": [{"kind": "Dense", "output_shape": ["x"], "params": 1}],
                "total_params": 1,
                "trainable_params": 1,
            }
        )
    with pytest.raises(wire.Malformed, match="the parameter count is None"):
        ModelFacts.from_dict({"layers": []})


def test_format_shape():
    assert format_shape((None, 10)) == "(None, 10)"
    assert format_shape((None,)) == "(None,)"
