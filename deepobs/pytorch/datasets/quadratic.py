"""Noise samples for the ``quadratic_deep`` problem (DeepOBS' ``quadratic`` data set)."""

from __future__ import annotations

import numpy as np
import torch

from deepobs.pytorch.datasets._base import DataSet

TRAIN_SEED, VALID_SEED, TEST_SEED = 42, 44, 43
NOISE_STD = 0.6


def _noise(seed: int, size: int, dim: int) -> torch.Tensor:
    # A fresh NumPy generator per split reproduces DeepOBS' data bit for bit.
    sample = np.random.RandomState(seed).normal(0.0, NOISE_STD, (size, dim))
    return torch.from_numpy(sample.astype(np.float32))


class quadratic(DataSet):
    """Gaussian samples ``x ~ N(0, 0.6^2 I)`` that shift the quadratic's minimum.

    Each split has ``size`` points of dimension ``dim``; ``train_eval`` is the training set.
    A batch is ``[x, x]`` (the second entry stands in for the labels of the generic API).

    Args:
        batch_size: Mini-batch size.
        dim: Dimension of the problem (100 for ``quadratic_deep``).
        size: Number of points per split.
        seed: Seed of the training order; default derived from the run's seed.
    """

    name = "quadratic"
    requires_files = False

    def __init__(self, batch_size: int, dim: int = 100, size: int = 1000, **kwargs) -> None:
        self._dim, self._size = dim, size
        super().__init__(batch_size, **kwargs)

    def _make_train_and_valid_dataloader(self):
        train = _noise(TRAIN_SEED, self._size, self._dim)
        valid = _noise(VALID_SEED, self._size, self._dim)
        self._train = train
        return (
            self._tensor_loader([train, train], shuffle=True),
            self._tensor_loader([valid, valid]),
        )

    def _make_train_eval_dataloader(self):
        return self._tensor_loader([self._train, self._train])

    def _make_test_dataloader(self):
        test = _noise(TEST_SEED, self._size, self._dim)
        return self._tensor_loader([test, test])
