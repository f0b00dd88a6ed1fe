"""The settings every assignment key is declared with, their one message style, and the guide's
tables (docs/) held to those declarations so the two cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.checks import KINDS
from grader.settings import Limits, SettingsError, Submissions, Target, Training, defaults, from_table, rules

# The guide's pages, where the assignment's tables are (docs/grading.md, gradescope.md, security.md).
GUIDE = "\n".join(page.read_text() for page in sorted((Path(__file__).parent.parent / "docs").glob("*.md")))
TABLES = {"[training]": Training, "[limits]": Limits, "[target]": Target, "[submissions]": Submissions}


def guide_table(heading: str) -> dict[str, str]:
    """The guide's table whose first column is headed ``heading``: key to its default cell."""
    lines = GUIDE.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading} | default | what |"))
    found = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        key, default = (cell.strip() for cell in line.strip("|").split("|")[:2])
        found[key.strip("`")] = default
    return found


@pytest.mark.parametrize("heading", sorted(TABLES))
def test_each_guide_table_lists_every_key_with_its_default(heading):
    cls = TABLES[heading]
    table = guide_table(heading)
    assert list(table) == list(rules(cls)), f"the guide's {heading} table and grader/settings.py differ"
    for key, default in defaults(cls).items():
        if isinstance(default, tuple):
            continue  # the target's seeds default to the training seed: said in words
        shown = f"{default:g}" if isinstance(default, float) else str(default)
        assert table[key] == shown, f"{heading} {key}: the guide says {table[key]}, the code {shown}"
    required = set(rules(cls)) - set(defaults(cls))
    assert {key for key, default in table.items() if default == "required"} == required


def test_the_guide_checks_table_names_every_key_of_every_check():
    for kind, cls in KINDS.items():
        row = next(line for line in GUIDE.splitlines() if line.startswith(f"| `{kind}` |"))
        for key in rules(cls):
            if key not in ("points", "visibility"):  # every check's: said once below the table
                assert f"`{key}`" in row, f"the guide's {kind} row does not name {key}"
    assert (
        "`points`" in GUIDE
        and "`visibility`: `visible` (the default)" in GUIDE
        and "`train_despite_failures = true` (a top-level key)" in GUIDE
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"max_epochs": 2}, "training.time_limit_s is required: a number above 0."),
        ({"max_epochs": 2, "time_limit_s": 6, "seed": 1.5}, "training.seed must be a whole number, not 1.5."),
        (
            {"max_epochs": 2, "time_limit_s": 6, "cores": 0},
            "training.cores must be a whole number of at least 1, not 0.",
        ),
        (
            {"max_epochs": 2, "time_limit_s": 6, "precison": "x"},
            "unknown key training.precison (did you mean training.precision?).",
        ),
        (
            {"max_epochs": True, "time_limit_s": 6},
            "training.max_epochs must be a whole number of at least 1, not True.",
        ),
    ],
)
def test_one_message_style_for_every_mistake(table, message):
    with pytest.raises(SettingsError) as raised:
        from_table(Training, table, prefix="training.")
    assert str(raised.value) == message


def test_values_are_held_as_declared():
    training = from_table(Training, {"max_epochs": 2, "time_limit_s": 6}, prefix="training.")
    assert training == Training(2, 6.0) and isinstance(training.time_limit_s, float) and training.cores == 1
    target = from_table(Target, {"accuracy": 1, "seeds": [3, 1]}, prefix="target.")
    assert target.accuracy == 1.0 and target.seeds == (3, 1)
    with pytest.raises(SettingsError, match=re.escape("[limits] must be a table.")):
        from_table(Limits, [1], prefix="limits.")
