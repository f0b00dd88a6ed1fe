"""Modules Keras imports as it starts but a grade seldom uses, loaded when first used instead.

Keras 3 imports ``matplotlib.pyplot`` (for its image-gallery plots) and ``IPython`` (for a
notebook's file editor) whenever it is imported: about 0.3 s and 0.1 s of every child's start on
one core, each grade's builder included, while only a notebook that plots or has magics ever
touches them. ``defer`` puts a stand-in for each in ``sys.modules`` before Keras is imported
(importlib's ``LazyLoader``): Keras's ``import`` finds the stand-in, and the first attribute a
plot, a magic or anything else reads runs the real module. What a submission sees is the same
module, later.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable

DEFERRED = ("matplotlib.pyplot", "IPython")


def defer(names: Iterable[str] = DEFERRED) -> list[str]:
    """Stand-ins for the installed modules among ``names`` not yet imported; the names deferred."""
    deferred = []
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)  # imports a submodule's parent package, as importing would
        if spec is None or spec.loader is None:
            continue
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
        deferred.append(name)
    return deferred
