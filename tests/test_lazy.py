"""Deferred modules: Keras starts without running matplotlib.pyplot, and a submission that plots
gets the real module."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from grader import backends

pytestmark = pytest.mark.matrix


def run(code: str) -> dict[str, str]:
    """``code`` in a new Python (this test's own modules stay as they are); what it printed, as
    ``key: value`` lines."""
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", backends.DEFAULT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(line.split(": ", 1) for line in done.stdout.splitlines())


def test_keras_starts_without_running_pyplot_and_a_plot_gets_the_real_module():
    printed = run(
        """
        import sys
        from grader.runner import lazy
        print("deferred:", lazy.defer())
        import keras
        print("keras holds:", type(sys.modules["matplotlib.pyplot"]).__name__, lazy.loaded("matplotlib.pyplot"))

        import matplotlib
        matplotlib.use("Agg")  # reads pyplot's switch_backend: the real module runs here
        import matplotlib.pyplot as plt
        figure = plt.figure()
        plt.plot([0, 1], [1, 0])
        print("plotted:", len(figure.axes), type(plt).__name__, plt is matplotlib.pyplot, lazy.loaded("matplotlib.pyplot"))
        from matplotlib.pyplot import subplots
        print("same function:", subplots is sys.modules["matplotlib.pyplot"].subplots)
        """
    )
    assert printed["deferred"] == "['matplotlib.pyplot']"
    assert printed["keras holds"] == "Deferred False"  # Keras imported it; it has not run
    assert printed["plotted"] == "1 module True True"
    assert printed["same function"] == "True"


def test_what_is_imported_a_package_or_missing_is_left_as_it_is():
    printed = run(
        """
        import json
        from grader.runner import lazy
        print("deferred:", lazy.defer(["json", "IPython", "no_such_module_here", "colorsys"]))
        import colorsys
        print("stand-in:", type(colorsys).__name__, lazy.loaded("colorsys"))
        print("converted:", colorsys.rgb_to_hsv(1.0, 0.0, 0.0), lazy.loaded("colorsys"))
        """
    )
    assert printed["deferred"] == "['colorsys']"
    assert printed["stand-in"] == "Deferred False"
    assert printed["converted"] == "(0.0, 1.0, 1.0) True"
