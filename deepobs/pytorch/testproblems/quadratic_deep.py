"""``quadratic_deep``: a noisy 100-dimensional quadratic with a deep-learning-like spectrum.

DeepOBS (Schneider, Balles & Hennig, ICLR 2019), §2.2 of the reference: 90 eigenvalues from
U(0, 1) and 10 from U(30, 60), rotated by a Haar-random orthogonal matrix.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from deepobs.pytorch import datasets
from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems.testproblem import TestProblem

HESSIAN_SEED = 42


def haar_rotation(dim: int, rng: np.random.RandomState) -> np.ndarray:
    """Random rotation by the Diaconis–Shahshahani subgroup algorithm (DeepOBS' draw order)."""
    t = 2.0 * np.pi * rng.uniform()
    rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    for d in range(2, dim):
        v = rng.normal(size=(d + 1, 1))
        v /= np.linalg.norm(v)
        e = np.zeros((d + 1, 1))
        e[0] = 1.0
        x = (e - v) / np.linalg.norm(e - v)
        m = np.zeros((d + 1, d + 1))
        m[0, 0] = 1.0
        m[1:, 1:] = rot
        rot = m - 2.0 * x @ (x.T @ m)
    return -rot


def deep_hessian(dim: int = 100, seed: int = HESSIAN_SEED) -> np.ndarray:
    """The ``quadratic_deep`` Hessian ``Q = R^T diag(lambda) R`` from its own generator."""
    rng = np.random.RandomState(seed)  # per call: two problems always share one Hessian
    n_large = dim // 10
    eigenvalues = np.concatenate(
        [rng.uniform(0.0, 1.0, dim - n_large), rng.uniform(30.0, 60.0, n_large)]
    )
    rot = haar_rotation(dim, rng)
    return rot.T @ np.diag(eigenvalues) @ rot


class QuadraticModel(nn.Module):
    """Per-example loss ``0.5 (theta - x)^T Q (theta - x)``; ``theta`` starts at all ones."""

    def __init__(self, hessian: np.ndarray) -> None:
        super().__init__()
        dim = hessian.shape[0]
        self.theta = nn.Parameter(torch.ones(dim))
        self.register_buffer("hessian", torch.from_numpy(hessian.astype(np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [batch, dim] -> [batch]
        diff = self.theta - x
        return 0.5 * ((diff @ self.hessian) * diff).sum(dim=1)


@register_testproblem(dataset="quadratic", batch_size=128, num_epochs=100, has_accuracy=False)
class quadratic_deep(TestProblem):
    """Noisy quadratic in 100 dimensions with 90 small and 10 large Hessian eigenvalues."""

    def set_up(self) -> None:
        """Build the data set, the model and the loss."""
        self.data = datasets.quadratic(self._batch_size, data_dir=self._data_dir)
        self.model = QuadraticModel(deep_hessian())
        self.loss_function = None  # the model returns the per-example loss itself
        self._finish_set_up()

    def _loss_and_accuracy(self, batch, reduction):
        inputs, _ = batch
        losses = self.model(inputs)
        return (losses.mean() if reduction == "mean" else losses), None
