"""Deferred modules: Keras starts without running matplotlib.pyplot or IPython, and a submission
that uses them gets the real modules."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from grader import backends

pytestmark = pytest.mark.matrix


def run(code: str) -> str:
    """``code`` in a new Python (this test's own modules stay as they are); what it printed."""
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", backends.DEFAULT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_keras_starts_without_running_pyplot_or_ipython_and_both_work_when_used():
    printed = run(
        """
        import importlib.util, sys
        from grader.runner import lazy
        print("deferred", lazy.defer())
        import keras
        lazy_type = importlib.util._LazyModule
        print("after keras", [n for n in lazy.DEFERRED if isinstance(sys.modules[n], lazy_type)])

        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        figure = plt.figure()
        plt.plot([0, 1], [1, 0])
        print("plotted", len(figure.axes), type(sys.modules["matplotlib.pyplot"]).__name__)
        from IPython.core.inputtransformer2 import TransformerManager
        print("magic", TransformerManager().transform_cell("%matplotlib inline\\n").strip())
        """
    )
    lines = dict(line.split(" ", 1) for line in printed.splitlines())
    assert lines["deferred"] == "['matplotlib.pyplot', 'IPython']"
    # Keras imported both, and neither ran: what Keras holds is the stand-in.
    assert lines["after keras"] == "['matplotlib.pyplot', 'IPython']"
    assert lines["plotted"] == "1 module"
    assert lines["magic"] == "get_ipython().run_line_magic('matplotlib', 'inline')"


def test_a_module_already_imported_or_missing_is_left_as_it_is():
    printed = run(
        """
        import IPython
        from grader.runner import lazy
        print(lazy.defer(["IPython", "no_such_module_here", "colorsys"]))
        """
    )
    assert printed.strip() == "['colorsys']"
