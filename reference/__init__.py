"""One reference implementation per tutorial architecture, by name or tutorial number.

Each module exposes ``build_model()``, ``RECIPE``, ``DOCUMENTED`` and ``CHOICES`` and runs as
a script (``python -m reference.<name>``) that trains with its tutorial's recipe. Modules are
imported on demand, so listing the names does not start TensorFlow.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up notices out of the output

REFERENCES = {
    "conv_32_64_64": "000",
    "one_conv_dense32": "001",
    "conv5x5_dense1024": "002",
    "functional_cnn": "003",
    "adadelta_dropout": "004",
}


def resolve(name: str) -> str:
    """The reference's name for a name or a tutorial number ("002")."""
    if name in REFERENCES:
        return name
    by_number = {number: key for key, number in REFERENCES.items()}
    if name in by_number:
        return by_number[name]
    raise KeyError(f"unknown reference {name!r}; choose one of {', '.join(REFERENCES)} (or 000-004)")


def load(name: str) -> ModuleType:
    """Import one reference module (this imports Keras)."""
    return importlib.import_module(f"reference.{resolve(name)}")
