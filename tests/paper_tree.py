"""A small synthetic results tree for the figure, statistics and LaTeX tests.

Three optimizers (``SGD``, ``Adam`` and ``my_opt``, whose underscore must survive LaTeX) x two
problems (``quadratic_deep``: loss only; ``fmnist_2c2d``: with accuracies) x three learning
rates x three seeds, 12 epochs each; the largest learning rate of ``SGD`` diverges. Curves are
smooth exponential decays with seed noise, so zooming clips epoch 0 and rankings are known:
on both problems Adam is best, ``my_opt`` is close to it and SGD is clearly worse.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from test_analyzer import write_run

OPTIMIZERS = ("SGD", "Adam", "my_opt")
PROBLEMS = ("quadratic_deep", "fmnist_2c2d")
LRS = (0.001, 0.01, 0.1)
SEEDS = (42, 43, 44)
EPOCHS = 12
#: Final quality per optimizer at its best learning rate (0.01), larger is better.
_QUALITY = {"SGD": 0.80, "Adam": 0.92, "my_opt": 0.915}


def _accuracy(optimizer: str, lr: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed * 7 + OPTIMIZERS.index(optimizer) * 131 + int(lr * 1e4))
    final = _QUALITY[optimizer] - 0.05 * abs(np.log10(lr) + 2) + rng.normal(0, 0.004)
    epochs = np.arange(EPOCHS + 1)
    return 0.1 + (final - 0.1) * (1 - np.exp(-epochs / 2.0))


def write_paper_tree(root: Path) -> Path:
    """Write the tree under ``root`` and return ``root``."""
    for problem in PROBLEMS:
        loss_only = problem == "quadratic_deep"
        for optimizer in OPTIMIZERS:
            for lr in LRS:
                for seed in SEEDS:
                    acc = _accuracy(optimizer, lr, seed)
                    if loss_only:  # quadratic_deep: a loss around 90 that starts near 400
                        loss = (90 + 300 * (1 - acc) ** 3).tolist()
                        curves = {
                            "train_losses": loss,
                            "valid_losses": loss,
                            "test_losses": [v + 0.5 for v in loss],
                        }
                    else:
                        loss = (1.0 - acc).tolist()
                        curves = {
                            "train_losses": loss,
                            "valid_losses": loss,
                            "test_losses": loss,
                            "train_accuracies": acc.tolist(),
                            "valid_accuracies": acc.tolist(),
                            "test_accuracies": (acc - 0.01).tolist(),
                        }
                    if optimizer == "SGD" and lr == 0.1:  # diverges after epoch 3
                        curves = {k: v[:4] + [None] * (EPOCHS - 3) for k, v in curves.items()}
                    write_run(
                        root,
                        curves,
                        hyperparams={"lr": lr},
                        seed=seed,
                        problem=problem,
                        optimizer=optimizer,
                    )
    return root
