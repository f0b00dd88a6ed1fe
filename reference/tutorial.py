"""The plain records every reference module fills in: what its tutorial documents, what it
leaves open (and what the reference picked), and how it trains.

Keeping "documented" and "chosen" apart is the point: ``grader verify-docs`` checks a
reference only against what its tutorial actually printed or implied, never against a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.model_facts import LayerFacts, ModelFacts

REFERENCE_SEED = 42  # no tutorial documents a seed; every reference trains with this one


def layer(kind: str, output_shape: tuple[int | None, ...], params: int) -> LayerFacts:
    """A documented layer row, as the tutorial's summary prints it (or as its layers imply)."""
    return LayerFacts(kind, output_shape, params)


@dataclass(frozen=True)
class Documented:
    """Facts the tutorial states. ``None`` means the tutorial does not give it."""

    tutorial: str
    title: str
    layers: tuple[LayerFacts, ...]
    layers_source: str
    total_params: int
    trainable_params: int
    test_accuracy: float | None = None
    test_loss: float | None = None
    seed: int | None = None
    dataset: str = "mnist"
    result: str = ""

    @property
    def facts(self) -> ModelFacts:
        return ModelFacts(self.layers, self.total_params, self.trainable_params)


@dataclass(frozen=True)
class Choice:
    """Something the tutorial leaves open, and what this reference does about it."""

    what: str
    tutorial: str
    reference: str


def no_callbacks(run_dir: Path) -> list[Any]:
    return []


@dataclass(frozen=True)
class Recipe:
    """How the tutorial trains: ``validation`` is a fraction held out of the training data,
    or ``"test"`` where the tutorial validates on the test set itself."""

    optimizer: str
    batch_size: int
    epochs: int
    validation: float | Literal["test"]
    callbacks: Callable[[Path], list[Any]] = field(default=no_callbacks)
    seed: int = REFERENCE_SEED

    def fit_kwargs(
        self, *, x_test: Any, y_test: Any, run_dir: Path, epochs: int | None = None
    ) -> dict[str, Any]:
        """Keyword arguments for ``model.fit`` (``epochs`` caps the recipe's own)."""
        kwargs: dict[str, Any] = {
            "batch_size": self.batch_size,
            "epochs": min(self.epochs, epochs) if epochs else self.epochs,
            "callbacks": self.callbacks(run_dir),
        }
        if self.validation == "test":
            kwargs["validation_data"] = (x_test, y_test)
        elif self.validation:
            kwargs["validation_split"] = self.validation
        return kwargs
