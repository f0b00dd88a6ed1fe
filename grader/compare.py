"""Line a model's layers up against documented layers and say exactly where they depart.

Layers are aligned by kind (difflib's longest matching runs), so a missing Dropout shows up as
one missing row rather than shifting every row after it. InputLayer rows are left out on both
sides: Keras prints them for functional models only, and they carry no parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from grader.model_facts import LayerFacts, ModelFacts, format_shape

KNOWN_KINDS = (
    "InputLayer",
    "Conv2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "Dropout",
    "Flatten",
    "Dense",
    "BatchNormalization",
    "Activation",
    "Reshape",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "SpatialDropout2D",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "Rescaling",
    "LayerNormalization",
)
ALIASES = {"Convolution2D": "Conv2D", "MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D"}


def canonical_kind(kind: str) -> str:
    """The full Keras class name for a kind, undoing aliases and Keras 2's column truncation."""
    kind = ALIASES.get(kind, kind)
    if kind in KNOWN_KINDS:
        return kind
    completions = [known for known in KNOWN_KINDS if known.startswith(kind)] if len(kind) >= 6 else []
    return completions[0] if len(completions) == 1 else kind


@dataclass(frozen=True)
class Row:
    """One compared line: a documented layer, the model's layer, or a total."""

    label: str
    expected: str
    actual: str
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def _layer_problems(expected: LayerFacts, actual: LayerFacts) -> tuple[str, ...]:
    problems = []
    if tuple(expected.output_shape) != tuple(actual.output_shape):
        problems.append(
            f"outputs {format_shape(actual.output_shape)}, expected {format_shape(expected.output_shape)}"
        )
    if expected.params != actual.params:
        problems.append(f"has {actual.params:,} parameters, expected {expected.params:,}")
    return tuple(problems)


def _body(facts: ModelFacts) -> list[LayerFacts]:
    return [layer for layer in facts.layers if canonical_kind(layer.kind) != "InputLayer"]


def compare_facts(expected: ModelFacts, actual: ModelFacts) -> list[Row]:
    """One row per aligned layer pair, per missing or extra layer, then the two totals."""
    want, have = _body(expected), _body(actual)
    matcher = SequenceMatcher(
        None, [canonical_kind(x.kind) for x in want], [canonical_kind(x.kind) for x in have], autojunk=False
    )
    rows: list[Row] = []

    def pair(i: int, j: int) -> None:
        w, h = want[i], have[j]
        kind = (
            () if canonical_kind(w.kind) == canonical_kind(h.kind) else (f"is {h.kind}, expected {w.kind}",)
        )
        rows.append(Row(f"layer {j + 1}", w.describe(), h.describe(), kind + _layer_problems(w, h)))

    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            if i < i2 and j < j2:
                pair(i, j)
            elif i < i2:
                rows.append(
                    Row(
                        f"after layer {j}",
                        want[i].describe(),
                        "—",
                        (f"missing: expected {want[i].describe()}",),
                    )
                )
            else:
                rows.append(
                    Row(
                        f"layer {j + 1}",
                        "—",
                        have[j].describe(),
                        (f"extra {have[j].kind}: not expected here",),
                    )
                )
    for label, documented, built in (
        ("total params", expected.total_params, actual.total_params),
        ("trainable params", expected.trainable_params, actual.trainable_params),
    ):
        problem = () if documented == built else (f"{built:,} instead of {documented:,}",)
        rows.append(Row(label, f"{documented:,}", f"{built:,}", problem))
    return rows


def first_departure(rows: list[Row]) -> Row | None:
    """The first row that does not match, for one-line feedback."""
    return next((row for row in rows if not row.ok), None)
