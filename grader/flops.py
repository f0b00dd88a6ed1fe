"""Arithmetic cost of training, to put measured throughput next to the machine's peak.

Forward FLOPs per image count the multiply-adds of every Conv2D and Dense kernel
(2 x kernel weights x output positions); pooling, dropout and activations are left out as
negligible. One training step costs about three forward passes (the forward pass, the gradient
with respect to the inputs and the gradient with respect to the weights), the usual estimate.
"""

from __future__ import annotations

from typing import Any

TRAINING_TO_FORWARD = 3


def forward_flops_per_image(model: Any) -> int:
    total = 0
    for layer in model.layers:
        if type(layer).__name__ not in {"Conv2D", "Dense"}:
            continue
        kernel_size = 1
        for dim in layer.kernel.shape:
            kernel_size *= int(dim)
        positions = 1
        for dim in tuple(layer.output.shape)[1:-1]:
            positions *= int(dim)
        total += 2 * kernel_size * positions
    return total


def training_flops_per_image(model: Any) -> int:
    return TRAINING_TO_FORWARD * forward_flops_per_image(model)
