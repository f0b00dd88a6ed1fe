"""What a notebook costs to build against a model.py: each of the five tutorials in three forms,
built in the sandboxed builder the way a grade builds them.

    nox -s bench -- -k capture

The forms hold the same code: the tutorial typed in as a script (tutorials/tutorial_00N_script/),
the same cells as a notebook (tutorials/tutorial_00N_notebook/), and its model.py listing
(tutorials/tutorial_00N/), each with only the changes its era forces (tests/test_tutorials.py,
FIXES; the notebooks have them already). The notebook and script
also run the tutorial's own code before fit: loading and reshaping the images, one-hot labels,
plots. Each build is timed on the grader's clock (the ``build`` phase, from the command to the
``built`` event) and by the CPU time of the child's process tree, after Keras has started, and
the forms are interleaved round by round so that drift hits them alike.

The target: a notebook costs what its code costs as a script, plus reading the notebook (nbformat
and, for a magic, IPython's transformer): at most ``READING_S`` more, median against median.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from benchmarks.conftest import BACKEND
from grader.assignment import load_assignment
from grader.data import load_dataset
from grader.runner.supervisor import Runner, Subject
from grader.settings import Limits, Training
from grader.submission import read_submission
from tests.conftest import TUTORIALS
from tests.test_tutorials import FIXES, notebook, script

ROUNDS = 3
READING_S = 0.5
FORMS = ("model.py", "script", "notebook")


def forms(number: int, folder: Path) -> dict[str, Path]:
    """Tutorial ``number``'s three entries, each with the changes its era forces."""

    def fixed(source: Path, target: Path) -> Path:
        text = source.read_text()
        for old, new in FIXES[number]:
            if "%matplotlib" not in new:  # a magic only a notebook can hold
                text = text.replace(old, new)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    return {
        "model.py": fixed(
            TUTORIALS / f"tutorial_00{number}" / "model.py", folder / f"model_{number}" / "model.py"
        ),
        "script": fixed(script(number), folder / f"script_{number}" / script(number).name),
        "notebook": notebook(number),
    }


def test_capture(benchmark, tmp_path):
    sample = load_dataset("mnist_sample")
    images = sample.x_train, sample.y_train
    entries = {number: forms(number, tmp_path) for number in FIXES}
    timings: dict[tuple[int, str], list[tuple[float, float]]] = {}

    def build(number: int, form: str, entry: Path, turn: int) -> None:
        task = load_assignment(read_submission(script(number).parent).assignment or "")
        runner = Runner(
            Subject.submission(entry),
            recipe=task.reference,
            training=Training(max_epochs=1, time_limit_s=60, backend=BACKEND),
            work=tmp_path / "work" / f"{number}-{form}-{turn}",
            limits=Limits(build_s=120),
        )
        with runner:
            runner.wait_ready()
            before = runner.cpu_seconds()
            built = runner.build(images=images)
            cpu = runner.cpu_seconds() - before
        assert built.declaration is not None  # built and declared, as a grade needs it
        timings.setdefault((number, form), []).append((runner.timings["build"], cpu))

    turns = iter(range(10_000))

    def one_round() -> None:
        turn = next(turns)
        for number, found in entries.items():
            for form in FORMS:
                build(number, form, found[form], turn)

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)
    table: dict[str, dict[str, dict[str, float]]] = {}
    for (number, form), runs in sorted(timings.items()):
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        table.setdefault(f"00{number}", {})[form] = {"build_s": round(wall, 3), "cpu_s": round(cpu, 3)}
    benchmark.extra_info["capture"] = table
    print("\nbuild, median of", ROUNDS, "rounds (wall s / CPU s):")
    for name, found in table.items():
        print(name, "  ".join(f"{form} {v['build_s']:.2f}/{v['cpu_s']:.2f}" for form, v in found.items()))
    for name, found in table.items():
        assert found["notebook"]["build_s"] <= found["script"]["build_s"] + READING_S, (name, found)
