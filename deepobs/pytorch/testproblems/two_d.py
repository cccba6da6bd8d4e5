"""Noisy two-dimensional test functions: Rosenbrock, Beale and Branin (DeepOBS §2.3).

The per-example loss is ``f(u, v) + u·x + v·y`` with ``(x, y)`` from the ``two_d`` data set;
on the all-zero test set it is the function itself. ``u`` is named ``weight``, ``v`` ``bias``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from deepobs.pytorch import datasets
from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems.testproblem import (
    UnregularizedTestproblem,
    check_reduction,
    reduce_losses,
)


def rosenbrock(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rosenbrock's banana function; minimum 0 at (1, 1)."""
    return (1 - u) ** 2 + 100 * (v - u**2) ** 2


def beale(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Beale's function; minimum 0 at (3, 0.5)."""
    return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v**2) ** 2 + (2.625 - u + u * v**3) ** 2


def branin(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Branin's function; minimum about 0.398 at three points."""
    a = v - 5.1 * u**2 / (4 * math.pi**2) + 5 * u / math.pi - 6
    return a**2 + 10 * (1 - 1 / (8 * math.pi)) * torch.cos(u) + 10


class TwoDModel(nn.Module):
    """Two scalars ``(u, v)`` = ``(weight, bias)`` and a function of them."""

    def __init__(self, func: Callable, start: tuple[float, float]) -> None:
        super().__init__()
        self.func = func
        self.weight = nn.Parameter(torch.tensor(start[0]))
        self.bias = nn.Parameter(torch.tensor(start[1]))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # [batch] -> [batch]
        """Per-example loss ``f(u, v) + u·x + v·y`` of the inputs ``x`` and ``y``."""
        return self.func(self.weight, self.bias) + self.weight * x + self.bias * y


class ReduceOutputs(nn.Module):
    """Loss module of models that output their per-example losses: reduces them.

    Args:
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)

    def forward(self, outputs: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """Reduce the per-example losses ``outputs`` (``targets`` are not used)."""
        return reduce_losses(outputs, self.reduction)


class _TwoDProblem(UnregularizedTestproblem):
    """Shared set-up of the 2-D problems."""

    func: Callable
    start: tuple[float, float]

    def set_up(self) -> None:
        """Build the data set, the model and the loss."""
        self.data = datasets.two_d(self._batch_size, data_dir=self._data_dir)
        self.model = TwoDModel(type(self).func, type(self).start)
        self.loss_function = ReduceOutputs  # the model returns the per-example loss itself
        self._finish_set_up()

    def _loss_and_accuracy(self, batch, reduction):
        x, y = batch
        return self.loss_function(reduction=reduction)(self.model(x, y)), None


@register_testproblem(dataset="two_d", has_accuracy=False)
class two_d_rosenbrock(_TwoDProblem):
    """Noisy Rosenbrock function, started at (-0.5, 1.5)."""

    func = staticmethod(rosenbrock)
    start = (-0.5, 1.5)


@register_testproblem(dataset="two_d", has_accuracy=False)
class two_d_beale(_TwoDProblem):
    """Noisy Beale function, started at (-4.5, 4.5)."""

    func = staticmethod(beale)
    start = (-4.5, 4.5)


@register_testproblem(dataset="two_d", has_accuracy=False)
class two_d_branin(_TwoDProblem):
    """Noisy Branin function, started at (2.5, 12.5)."""

    func = staticmethod(branin)
    start = (2.5, 12.5)
