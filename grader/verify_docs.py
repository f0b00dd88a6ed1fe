"""``grader verify-docs``: prove each reference matches what its tutorial documents.

Three subjects, one comparison (``grader.compare``):
- a reference model as built, against its tutorial's documented layers and totals;
- a pasted ``model.summary()`` text (Keras 2 or 3), against a reference model as built;
- a model file built in a child process (e.g. a tutorial's listing as printed), against the
  reference's documented facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from grader.backends import DEFAULT
from grader.compare import Row, compare_facts
from grader.model_facts import describe_model
from grader.runner import describe_file
from grader.summary import parse_summary

PASS, FAIL = "[green]✓[/green]", "[red]✗[/red]"


@dataclass(frozen=True)
class Verification:
    """One subject compared with one expectation, row by row."""

    subject: str
    against: str
    rows: list[Row]

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def mismatches(self) -> int:
        return sum(not row.ok for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "against": self.against,
            "ok": self.ok,
            "problems": [f"{row.label}: {problem}" for row in self.rows for problem in row.problems],
        }


def environment() -> dict[str, str]:
    """The versions and device these verdicts were reached on (for ``grader compat``)."""
    import keras

    from grader.backends import gpu_names, version
    from grader.device import describe_device

    backend = keras.backend.backend()
    found = {"backend": backend, "backend_version": version(backend) or "", "keras": keras.__version__}
    if backend == "tensorflow":
        found["tensorflow"] = found["backend_version"]
    return found | {"device": describe_device(gpu_names(backend))}


def verify_reference(name: str) -> Verification:
    """A reference as built against its tutorial's documented facts."""
    from reference import load

    module = load(name)
    documented = module.DOCUMENTED
    rows = compare_facts(documented.facts, describe_model(module.build_model()))
    against = f"tutorial {documented.tutorial} ({documented.layers_source})"
    return Verification(f"reference {module.__name__.rsplit('.', 1)[-1]}", against, rows)


def verify_summary(path: Path, reference: str) -> Verification:
    """A pasted ``model.summary()`` against the reference model as built."""
    from reference import load, resolve

    built = describe_model(load(reference).build_model())
    rows = compare_facts(built, parse_summary(path.read_text()))
    return Verification(f"summary {path}", f"reference {resolve(reference)} as built", rows)


def verify_model_file(path: Path, reference: str, *, backend: str = DEFAULT) -> Verification:
    """A model file's ``build_model()``, built in a child process on ``backend``, against the documented facts."""
    from reference import load, resolve

    documented = load(reference).DOCUMENTED
    facts = describe_file(path, backend=backend)
    against = f"tutorial {documented.tutorial} as documented ({resolve(reference)})"
    return Verification(f"model {path}", against, compare_facts(documented.facts, facts))


def render(verifications: list[Verification], console: Console) -> None:
    """One rich table per verification, a mark per row, the departures spelled out."""
    for verification in verifications:
        status = (
            "[green]matches[/green]"
            if verification.ok
            else f"[red]{verification.mismatches} mismatch(es)[/red]"
        )
        table = Table(
            title=f"{escape(verification.subject)} vs {escape(verification.against)}: {status}",
            title_justify="left",
        )
        table.add_column("", width=1)
        table.add_column("row", no_wrap=True)
        table.add_column("found", no_wrap=True)
        table.add_column("departure from the expected value")
        for row in verification.rows:
            table.add_row(
                PASS if row.ok else FAIL, Text(row.label), Text(row.actual), Text("; ".join(row.problems))
            )
        console.print(table)
    failed = [v.subject for v in verifications if not v.ok]
    if failed:
        console.print(
            Text(f"✗ {len(failed)} of {len(verifications)} do not match: {', '.join(failed)}", style="red")
        )
    else:
        console.print(f"[green]✓ all {len(verifications)} match[/green]")
