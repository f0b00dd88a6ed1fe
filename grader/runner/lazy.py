"""Modules Keras imports as it starts but a grade seldom uses, run when first used instead.

Keras 3 imports ``matplotlib.pyplot`` for its image-gallery plots whenever it is imported: about
0.3 s of every child's start on one core, each grade's builder included, while only a notebook
that plots ever touches it. ``defer`` puts a stand-in in ``sys.modules`` before Keras is imported:
Keras's ``import`` finds the stand-in, and the first attribute anything reads from it runs the
real module, which takes the stand-in's place in ``sys.modules`` and is what the stand-in
answers with from then on. What a submission sees is the same module, later.

Only plain modules are deferred, never packages: importing a package's submodule reads the
package's ``__path__`` in the middle of that import, too late to run the package first. (importlib's
``LazyLoader`` defers nothing that is imported by name before Python 3.12: ``import`` itself reads
the module's ``__spec__``, and that runs it.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Iterable
from typing import Any

DEFERRED = ("matplotlib.pyplot",)


class Deferred(types.ModuleType):
    """A module not yet run: the real one is imported when an attribute it lacks is first read."""

    def __init__(self, spec: importlib.machinery.ModuleSpec) -> None:
        super().__init__(spec.name)
        # What import and inspect read of every module in sys.modules, known without running it.
        self.__spec__ = spec
        self.__loader__ = spec.loader
        self.__package__ = spec.parent
        if spec.has_location:
            self.__file__ = spec.origin
            self.__cached__ = spec.cached
        object.__setattr__(self, "_lock", threading.RLock())
        object.__setattr__(self, "_real", None)

    def _load(self) -> types.ModuleType:
        with object.__getattribute__(self, "_lock"):
            real = object.__getattribute__(self, "_real")
            if real is None:
                name = self.__name__
                if sys.modules.get(name) is self:
                    del sys.modules[name]  # so that importing runs the module itself
                real = importlib.import_module(name)
                object.__setattr__(self, "_real", real)
                parent, _, child = name.rpartition(".")
                if parent and parent in sys.modules:
                    setattr(sys.modules[parent], child, real)
            return real

    def __getattr__(self, attribute: str) -> Any:  # only for what the stand-in itself lacks
        return getattr(self._load(), attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:
        if object.__getattribute__(self, "__dict__").get("_real") is None and attribute.startswith("__"):
            object.__setattr__(self, attribute, value)  # the stand-in's own module attributes
        else:
            setattr(self._load(), attribute, value)

    def __dir__(self) -> list[str]:
        return dir(self._load())


def defer(names: Iterable[str] = DEFERRED) -> list[str]:
    """Stand-ins for the installed modules among ``names`` not yet imported; the names deferred."""
    deferred = []
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)  # imports a submodule's parent package, as importing would
        if spec is None or spec.loader is None or spec.submodule_search_locations is not None:
            continue  # not installed, or a package
        stand_in = Deferred(spec)
        sys.modules[name] = stand_in
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, stand_in)
        deferred.append(name)
    return deferred


def loaded(name: str) -> bool:
    """Whether the module ``name`` has run (a stand-in that has not counts as not loaded)."""
    module = sys.modules.get(name)
    if isinstance(module, Deferred):
        return object.__getattribute__(module, "_real") is not None
    return module is not None
