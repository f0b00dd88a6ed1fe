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


PASS_THROUGH = frozenset(
    {
        "InputLayer",
        "Dropout",
        "SpatialDropout2D",
        "GaussianNoise",
        "Activation",
        "BatchNormalization",
        "LayerNormalization",
    }
)
"""Layers that hand on their input's shape: left out when only the shape skeleton matters."""

WHAT_IT_DOES = {
    "Flatten": "flattens before its Dense layers",
    "MaxPooling2D": "pools here",
    "AveragePooling2D": "pools here",
    "Conv2D": "has a convolution here",
    "Dense": "has a Dense layer here",
}


@dataclass(frozen=True)
class Row:
    """One compared line: a documented layer, the model's layer, or a total."""

    label: str
    expected: str
    actual: str
    problems: tuple[str, ...] = ()
    expected_layer: LayerFacts | None = None
    actual_layer: LayerFacts | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _layer_problems(expected: LayerFacts, actual: LayerFacts, params: bool) -> tuple[str, ...]:
    problems = []
    if tuple(expected.output_shape) != tuple(actual.output_shape):
        problems.append(
            f"outputs {format_shape(actual.output_shape)}, expected {format_shape(expected.output_shape)}"
        )
    if params and expected.params != actual.params:
        problems.append(f"has {actual.params:,} parameters, expected {expected.params:,}")
    return tuple(problems)


def _numbered(facts: ModelFacts, skip: frozenset[str]) -> list[tuple[int, LayerFacts]]:
    """Layers numbered as the model has them (InputLayer rows never count), minus ``skip`` kinds."""
    body = [layer for layer in facts.layers if canonical_kind(layer.kind) != "InputLayer"]
    return [(number, layer) for number, layer in enumerate(body, 1) if canonical_kind(layer.kind) not in skip]


def compare_facts(
    expected: ModelFacts,
    actual: ModelFacts,
    *,
    params: bool = True,
    skip: frozenset[str] = frozenset({"InputLayer"}),
) -> list[Row]:
    """One row per aligned layer pair, per missing or extra layer, then (with ``params``) the totals.

    ``skip`` leaves layer kinds out of the alignment on both sides; rows keep the model's own
    layer numbers.
    """
    want, have = _numbered(expected, skip), _numbered(actual, skip)
    matcher = SequenceMatcher(
        None,
        [canonical_kind(x.kind) for _, x in want],
        [canonical_kind(x.kind) for _, x in have],
        autojunk=False,
    )
    rows: list[Row] = []

    def pair(i: int, j: int) -> None:
        (_, w), (number, h) = want[i], have[j]
        kind = (
            () if canonical_kind(w.kind) == canonical_kind(h.kind) else (f"is {h.kind}, expected {w.kind}",)
        )
        rows.append(
            Row(f"layer {number}", w.describe(), h.describe(), kind + _layer_problems(w, h, params), w, h)
        )

    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            if i < i2 and j < j2:
                pair(i, j)
            elif i < i2:
                last = min(j, j2)  # the built model's last layer before the gap (j runs past it)
                before = have[last - 1][0] if last > 0 else 0
                w = want[i][1]
                rows.append(
                    Row(f"after layer {before}", w.describe(), "—", (f"missing: expected {w.describe()}",), w)
                )
            else:
                number, h = have[j]
                rows.append(
                    Row(
                        f"layer {number}", "—", h.describe(), (f"extra {h.kind}: not expected here",), None, h
                    )
                )
    if params:
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


def explain_departure(rows: list[Row]) -> str | None:
    """One sentence for a student about the first place the model departs, or None if none."""
    row = first_departure(rows)
    if row is None:
        return None
    if row.expected_layer is not None and row.actual_layer is None:
        missing = canonical_kind(row.expected_layer.kind)
        doing = WHAT_IT_DOES.get(missing, f"has a {missing} here")
        later = rows[rows.index(row) + 1 :]
        shifted = next((r for r in later if r.actual_layer is not None and not r.ok), None)
        if shifted is not None and shifted.actual_layer is not None:
            return (
                f"{shifted.label.capitalize()} outputs {format_shape(shifted.actual_layer.output_shape)}; "
                f"the reference {doing} — is a {missing} missing?"
            )
        return (
            f"The reference has a {missing} {format_shape(row.expected_layer.output_shape)} "
            f"{row.label} of yours — is a {missing} missing?"
        )
    if row.actual_layer is not None and row.expected_layer is None:
        layer = row.actual_layer
        return (
            f"{row.label.capitalize()} is a {layer.kind} {format_shape(layer.output_shape)} "
            "that the reference does not have here."
        )
    if row.actual_layer is not None and row.expected_layer is not None:
        mine, theirs = row.actual_layer, row.expected_layer
        return (
            f"{row.label.capitalize()} ({mine.kind}) outputs {format_shape(mine.output_shape)}; the reference's "
            f"{theirs.kind} there outputs {format_shape(theirs.output_shape)}."
        )
    return f"{row.label.capitalize()}: {'; '.join(row.problems)}."
