"""Parse the text ``model.summary()`` prints, in the Keras 2 and the Keras 3 layout.

Keras 2 prints plain columns and truncates long type names (``MaxPooling2`` for
``MaxPooling2D``); Keras 3 draws a box table and wraps long cells onto extra lines. Both end
with ``Total params`` and ``Trainable params`` lines. Tutorials paste these texts, often with
the separator lines lost, so the parser keys on the rows' content, not on the rules.
"""

from __future__ import annotations

import re

from grader.model_facts import LayerFacts, ModelFacts

KERAS3_BAR = "│"
_KERAS2_ROW = re.compile(
    r"^\s*(?P<name>[\w./-]+)\s+\((?P<kind>\w+)\)?\s+(?P<shape>\[?\([^)]*\)\]?|multiple)\s+(?P<params>[\d,]+)"
)
_CELL_NAME = re.compile(r"^(?P<name>[\w./…-]+)\s*(?:\((?P<kind>\w+)\))?$")
_TOTAL = re.compile(r"^\s*(?P<what>Total|Trainable|Non-trainable) params:\s*(?P<count>[\d,]+)", re.M)
_SHAPE_PART = re.compile(r"None|\d+")


class SummaryError(ValueError):
    """The text is not a model summary this parser understands."""


def parse_summary(text: str) -> ModelFacts:
    """Read layers and totals from a summary; raise SummaryError when it has no layers or totals."""
    layers = _keras3_rows(text) if KERAS3_BAR in text else _keras2_rows(text)
    totals = {m["what"]: int(m["count"].replace(",", "")) for m in _TOTAL.finditer(text)}
    if not layers:
        raise SummaryError("no layer rows found; paste the whole output of model.summary().")
    if "Total" not in totals:
        raise SummaryError("no 'Total params' line found; paste the whole output of model.summary().")
    trainable = totals.get("Trainable", totals["Total"] - totals.get("Non-trainable", 0))
    return ModelFacts(tuple(layers), totals["Total"], trainable)


def _shape(text: str) -> tuple[int | None, ...]:
    return tuple(None if part == "None" else int(part) for part in _SHAPE_PART.findall(text))


def _keras2_rows(text: str) -> list[LayerFacts]:
    rows = []
    for line in text.splitlines():
        match = _KERAS2_ROW.match(line)
        if match and match["name"] != "Layer":
            rows.append(
                LayerFacts(
                    match["kind"],
                    _shape(match["shape"]),
                    int(match["params"].replace(",", "")),
                    match["name"],
                )
            )
    return rows


def _keras3_rows(text: str) -> list[LayerFacts]:
    """Join each box row's wrapped lines, then read its three cells."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.lstrip().startswith(KERAS3_BAR):
            if rows and rows[-1]:
                rows.append([])  # a rule or another line ends the row
            continue
        cells = [cell.strip() for cell in line.strip().strip(KERAS3_BAR).split(KERAS3_BAR)]
        if rows and rows[-1] and not cells[-1]:
            rows[-1] = [
                f"{old} {new}".strip() for old, new in zip(rows[-1], cells, strict=False)
            ]  # continuation
        else:
            rows.append(cells)
    facts = []
    for cells in filter(None, rows):
        if len(cells) < 3 or not re.fullmatch(r"[\d,]+", cells[2]):
            continue
        match = _CELL_NAME.match(cells[0].replace("… ", "…"))
        if match is None:
            raise SummaryError(f"cannot read the layer cell {cells[0]!r}.")
        facts.append(
            LayerFacts(match["kind"] or "?", _shape(cells[1]), int(cells[2].replace(",", "")), match["name"])
        )
    return facts
