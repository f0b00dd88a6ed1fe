"""A submission's code as the parts its author knows it by: ``model.py``, a script, or a
notebook's code cells, each compiled under a name that errors can be traced back to.

Every message about a line of student code says where it is the way the student would look for
it: "model.py, line 12" or "CNN_MNIST.ipynb, code cell 4, line 2". Notebooks are read with
nbformat, and IPython's own transformer turns their magics and shell lines (``%matplotlib
inline``, ``!pip install ...``) into ``get_ipython()`` calls, which the capture answers without
doing anything (grader/runner/capture.py). This runs in the builder, the child that runs student
code; the grader's process never reads the entry.
"""

from __future__ import annotations

import ast
import linecache
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.runner.protocol import SubmissionError

MAGIC = re.compile(r"^\s*(%|!|\?)|\?\s*$", re.MULTILINE)  # a line IPython would rewrite
LABELS: dict[str, str] = {}  # compile()'s filename -> how the student knows that code


@dataclass(frozen=True)
class Part:
    """One piece of the student's code: a whole file, or one code cell of a notebook."""

    label: str  # "model.py" or "CNN_MNIST.ipynb, code cell 4"
    filename: str  # what it is compiled as, and so what tracebacks name
    source: str  # Python, magics already rewritten
    magics: tuple[str, ...] = ()  # the IPython lines it had, as written

    def tree(self) -> ast.Module | None:
        try:
            return ast.parse(self.source, filename=self.filename)
        except (SyntaxError, ValueError):
            return None

    def line(self, number: int) -> str:
        lines = self.source.splitlines()
        return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def read_program(entry: Path) -> list[Part]:
    """``entry`` as parts: a notebook's code cells in order, or a Python file whole."""
    entry = entry.resolve()
    if entry.suffix == ".ipynb":
        parts = _notebook(entry)
    else:
        try:
            source = entry.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise SubmissionError(f"{entry.name} is not UTF-8 text ({error.reason}).") from None
        parts = [Part(entry.name, str(entry), source)]
    for part in parts:
        _register(part)
    return parts


def _notebook(entry: Path) -> list[Part]:
    import nbformat

    try:
        notebook = nbformat.read(entry, as_version=4)
    except Exception as error:  # nbformat raises JSON, validation and version errors alike
        raise SubmissionError(
            f"{entry.name} cannot be read as a Jupyter notebook ({type(error).__name__}: "
            f"{str(error).strip().splitlines()[0] if str(error).strip() else ''}); save it again from "
            "Jupyter or Colab (File > Download > .ipynb)."
        ) from None
    parts = []
    cells = [cell for cell in notebook.cells if cell.get("cell_type") == "code"]
    for number, cell in enumerate(cells, start=1):
        source = str(cell.get("source", ""))
        magics = tuple(
            line.strip() for line in source.splitlines() if MAGIC.match(line) or line.startswith("%%")
        )
        if magics:
            from IPython.core.inputtransformer2 import TransformerManager

            source = TransformerManager().transform_cell(source)
        label = f"{entry.name}, code cell {number}"
        parts.append(Part(label, f"{entry} (code cell {number})", source, magics))
    return parts


def _register(part: Part) -> None:
    """Let tracebacks and ``where()`` show this part's lines under its label."""
    LABELS[part.filename] = part.label
    lines = part.source.splitlines(keepends=True)
    linecache.cache[part.filename] = (len(part.source), None, lines, part.filename)


def label(filename: str) -> str | None:
    """How the student knows the code compiled as ``filename`` (None: not theirs, or not read here)."""
    return LABELS.get(filename)


def made_at(parts: Sequence[Part], name: str) -> str:
    """Where the student's code makes ``name``: the first call to it (``MyLayer(...)``,
    ``Lambda(...)``), else its definition, else the first lambda for a lambda; empty when nothing
    matches."""
    calls: list[tuple[Part, int]] = []
    defined: list[tuple[Part, int]] = []
    for part in parts:
        tree = part.tree()
        if tree is None:
            continue
        for node in ast.walk(tree):
            if name in ("<lambda>", "lambda"):
                if isinstance(node, ast.Lambda):
                    calls.append((part, node.lineno))
            elif isinstance(node, ast.Call) and _called(node.func) == name:
                calls.append((part, node.lineno))
            elif isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
                defined.append((part, node.lineno))
    found = (calls and _first(calls, parts)) or (defined and _first(defined, parts))
    if not found:
        return ""
    part, number = found
    return f"{part.label}, line {number}: {part.line(number).rstrip(',:;')}"


def _first(places: list[tuple[Part, int]], parts: Sequence[Part]) -> tuple[Part, int]:
    order = {id(part): index for index, part in enumerate(parts)}
    return min(places, key=lambda place: (order[id(place[0])], place[1]))


def _called(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""
