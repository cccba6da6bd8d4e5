"""Noise for the two-dimensional test functions (DeepOBS' ``two_d`` data set)."""

from __future__ import annotations

import numpy as np
import torch

from deepobs.pytorch.datasets._base import DataSet

TRAIN_SEED, VALID_SEED = 42, 44


def _xy(seed: int, size: int) -> list[torch.Tensor]:
    rng = np.random.RandomState(seed)
    x = rng.normal(0.0, 1.0, size)  # two consecutive draws of one generator, x then y
    y = rng.normal(0.0, 1.0, size)
    return [torch.from_numpy(a.astype(np.float32)) for a in (x, y)]


class two_d(DataSet):
    """Standard-normal pairs ``(x, y)`` that make a 2-D function noisy: f(u, v) + u·x + v·y.

    Training and validation points are random; the test set is all zeros, so the test loss is
    the deterministic function itself. ``train_eval`` is the training set.

    Args:
        batch_size: Mini-batch size.
        size: Number of points per split (10 000 in DeepOBS).
        seed: Seed of the training order; default derived from the run's seed.
    """

    name = "two_d"
    requires_files = False

    def __init__(self, batch_size: int, size: int = 10000, **kwargs) -> None:
        self._size = size
        super().__init__(batch_size, **kwargs)

    def _make_train_and_valid_dataloader(self):
        self._train = _xy(TRAIN_SEED, self._size)
        return (
            self._tensor_loader(self._train, shuffle=True),
            self._tensor_loader(_xy(VALID_SEED, self._size)),
        )

    def _make_train_eval_dataloader(self):
        return self._tensor_loader(self._train)

    def _make_test_dataloader(self):
        zeros = torch.zeros(self._size)
        return self._tensor_loader([zeros, zeros.clone()])
