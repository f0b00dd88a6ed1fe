"""Arithmetic cost of training, to put measured throughput next to the machine's peak.

Forward FLOPs per image count the multiply-adds of every Conv2D and Dense kernel
(2 x kernel weights x output positions); pooling, dropout and activations are left out as
negligible. One training step costs about three forward passes (the forward pass, the gradient
with respect to the inputs and the gradient with respect to the weights), the usual estimate.
"""

from __future__ import annotations

from typing import Any

TRAINING_TO_FORWARD = 3


def layer_forward_flops(layer: Any) -> int:
    """Forward FLOPs per image of one layer: its kernel's multiply-adds (0 for other layers)."""
    if type(layer).__name__ not in {"Conv2D", "Dense"}:
        return 0
    kernel_size = 1
    for dim in layer.kernel.shape:
        kernel_size *= int(dim)
    positions = 1
    for dim in tuple(layer.output.shape)[1:-1]:
        positions *= int(dim)
    return 2 * kernel_size * positions


def forward_flops_per_image(model: Any) -> int:
    return sum(layer_forward_flops(layer) for layer in model.layers)


def training_flops_per_image(model: Any) -> int:
    return TRAINING_TO_FORWARD * forward_flops_per_image(model)
