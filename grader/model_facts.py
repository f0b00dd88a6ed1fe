"""What the grader knows about a model: its layers' kinds, output shapes and parameter counts.

The same plain record comes from three places: a live Keras model (``describe_model``), a
pasted ``model.summary()`` text (``grader.summary``), and a child process that built a
submission (as JSON), so every comparison works on one shape of data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from grader import wire

Shape = tuple[int | None, ...]
MAX_FACT_LAYERS = 4096  # a declaration has at most 512 layers; facts count nested ones too
MAX_RANK = 16


@dataclass(frozen=True)
class LayerFacts:
    """One layer as a summary shows it."""

    kind: str
    output_shape: Shape
    params: int
    name: str = ""

    def describe(self) -> str:
        return f"{self.kind} {format_shape(self.output_shape)} {self.params:,}"


@dataclass(frozen=True)
class ModelFacts:
    """A model's layers in order, and its parameter totals."""

    layers: tuple[LayerFacts, ...]
    total_params: int
    trainable_params: int

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def output_shape(self) -> Shape | None:
        return self.layers[-1].output_shape if self.layers else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ModelFacts:
        """Rebuild from JSON, checking every field's type and size: the data may come from an
        untrusted child (raises ``wire.Malformed``)."""
        if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
            raise wire.Malformed("the model's facts are not an object listing its layers")
        if len(data["layers"]) > MAX_FACT_LAYERS:
            raise wire.Malformed(f"the model's facts list over {MAX_FACT_LAYERS:,} layers")
        layers = []
        for layer in data["layers"]:
            if not isinstance(layer, dict) or not isinstance(layer.get("output_shape"), list):
                raise wire.Malformed("a layer's facts are not an object with an output shape")
            if len(layer["output_shape"]) > MAX_RANK:
                raise wire.Malformed(f"a layer's output shape has over {MAX_RANK} dimensions")
            layers.append(
                LayerFacts(
                    kind=wire.text(layer.get("kind"), 64, what="a layer's kind"),
                    output_shape=tuple(
                        None if d is None else wire.whole(d, what="a dimension")
                        for d in layer["output_shape"]
                    ),
                    params=wire.whole(layer.get("params"), what="a layer's parameters"),
                    name=wire.text(layer.get("name", ""), 256, what="a layer's name"),
                )
            )
        total = wire.whole(data.get("total_params"), what="the parameter count")
        trainable = wire.whole(data.get("trainable_params"), what="the trainable parameter count")
        return cls(tuple(layers), total, trainable)


def format_shape(shape: Shape) -> str:
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def _output_shape(layer: Any) -> Shape:
    try:
        return tuple(None if d is None else int(d) for d in layer.output.shape)
    except (AttributeError, ValueError, TypeError):
        return ()  # a layer with several outputs or none: no single shape to compare


def describe_model(model: Any) -> ModelFacts:
    """Read a built Keras 2 or Keras 3 model into ``ModelFacts`` (InputLayer rows included)."""
    layers: list[LayerFacts] = []
    if type(model).__name__ != "Sequential":
        layers.extend(
            LayerFacts("InputLayer", _output_shape(layer), 0, layer.name)
            for layer in model.layers
            if type(layer).__name__ == "InputLayer"
        )
    layers.extend(
        LayerFacts(type(layer).__name__, _output_shape(layer), int(layer.count_params()), layer.name)
        for layer in model.layers
        if type(layer).__name__ != "InputLayer"
    )
    trainable = sum(int(_size(weight)) for weight in model.trainable_weights)
    return ModelFacts(tuple(layers), int(model.count_params()), trainable)


def _size(weight: Any) -> int:
    size = 1
    for dim in weight.shape:
        size *= int(dim)
    return size
