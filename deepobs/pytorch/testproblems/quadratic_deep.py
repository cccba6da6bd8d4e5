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
from deepobs.pytorch.testproblems.testproblem import UnregularizedTestproblem, reduce_losses

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


#: MSE over the ``dim`` outputs is ``(1 / dim) * ||W (theta - x)||^2``; with ``W^T W = c Q``
#: and ``c = dim / 2`` it is the per-example loss ``0.5 (theta - x)^T Q (theta - x)``.
def quadratic_scale(hessian: np.ndarray) -> np.ndarray:
    """``W = sqrt(dim / 2) * L^T`` with ``Q = L L^T`` (Cholesky, in float64)."""
    dim = hessian.shape[0]
    return np.sqrt(dim / 2.0) * np.linalg.cholesky(hessian).T


class QuadraticDeepNet(nn.Sequential):
    """``x -> W (theta - x)`` from two ``nn.Linear`` layers; only ``theta`` is trainable.

    ``shift`` has the frozen weight ``-I`` and the bias ``theta`` (starts at all ones);
    ``scale`` has the frozen weight ``W`` (:func:`quadratic_scale`) and no bias. With
    ``nn.MSELoss`` against zero targets the loss of an example is
    ``0.5 (theta - x)^T Q (theta - x)`` (mean over its ``dim`` outputs).

    Args:
        hessian: The symmetric positive definite matrix ``Q`` (``dim x dim``).
    """

    def __init__(self, hessian: np.ndarray | torch.Tensor) -> None:
        hessian = np.asarray(hessian.cpu() if isinstance(hessian, torch.Tensor) else hessian)
        dim = hessian.shape[0]
        super().__init__()
        self.shift = nn.Linear(dim, dim, bias=True)
        self.scale = nn.Linear(dim, dim, bias=False)
        with torch.no_grad():
            self.shift.weight.copy_(-torch.eye(dim))
            self.shift.bias.fill_(1.0)
            self.scale.weight.copy_(torch.from_numpy(quadratic_scale(hessian)))
        self.shift.weight.requires_grad_(False)
        self.scale.weight.requires_grad_(False)

    @property
    def theta(self) -> nn.Parameter:
        """The trainable point ``theta`` (the bias of ``shift``)."""
        return self.shift.bias


@register_testproblem(dataset="quadratic", batch_size=128, num_epochs=100, has_accuracy=False)
class quadratic_deep(UnregularizedTestproblem):
    """Noisy quadratic in 100 dimensions with 90 small and 10 large Hessian eigenvalues.

    As in DeepOBS ``develop``: the model is an ``nn.Sequential`` of two linear layers whose
    only trainable parameter is ``theta`` (100 values), the loss ``nn.MSELoss`` against zero
    targets (a batch is ``(x, zeros)``), so ``loss_function(reduction="none")`` gives ``[N, 100]``
    and BackPACK can extend the problem. Per-example loss ``0.5 (theta - x)^T Q (theta - x)``
    (the mean of that row); the problem's own ``reduction="none"`` returns these ``[N]``.
    """

    def set_up(self) -> None:
        """Build the data set, the model and the loss."""
        self.data = datasets.quadratic(self._batch_size, data_dir=self._data_dir)
        self.model = QuadraticDeepNet(deep_hessian())
        self.loss_function = nn.MSELoss
        self._finish_set_up()

    def _prepare_batch(self, batch):
        inputs = batch[0]
        return inputs, torch.zeros_like(inputs)

    def _loss_and_accuracy(self, batch, reduction):
        inputs = batch[0]  # targets are zeros, whatever the loader's second entry
        outputs = self.model(inputs)
        losses = self.loss_function(reduction="none")(outputs, torch.zeros_like(outputs))
        return reduce_losses(losses.mean(dim=1), reduction), None
