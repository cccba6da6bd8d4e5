"""Runtime overhead of an optimizer relative to SGD (DeepOBS ``estimate_runtime``, §6)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeEstimate:
    """Wall-clock times of alternating runs and their ratio.

    Attributes:
        testproblem: Problem the runs trained.
        sgd_times_s: Seconds per SGD run.
        optimizer_times_s: Seconds per run of the new optimizer.
        ratio_mean: Mean over pairs of optimizer time / SGD time.
        ratio_std: Standard deviation of that ratio (sample std; 0 for one pair).
    """

    testproblem: str
    sgd_times_s: tuple[float, ...]
    optimizer_times_s: tuple[float, ...]
    ratio_mean: float
    ratio_std: float

    def __str__(self) -> str:
        return (
            f"{self.testproblem}: {self.ratio_mean:.3f} ± {self.ratio_std:.3f} times the "
            f"run time of SGD ({len(self.sgd_times_s)} pairs of runs)"
        )


def estimate_runtime(
    optimizer_class: type,
    hyperparams: dict,
    testproblem: str = "mnist_mlp",
    num_epochs: int = 5,
    n_runs: int = 5,
    *,
    batch_size: int | None = None,
    sgd_lr: float = 0.01,
    data_dir: str | Path | None = None,
) -> RuntimeEstimate:
    """Time ``optimizer_class`` against SGD on ``testproblem``, alternating the two.

    Each of the ``n_runs`` rounds runs SGD (``lr=sgd_lr``) and then the new optimizer with
    :class:`~deepobs.pytorch.runners.StandardRunner` without writing results (same seed, same
    settings); alternating spreads drifts of machine load evenly over both.

    Args:
        optimizer_class: The optimizer to time (a ``torch.optim.Optimizer`` subclass).
        hyperparams: Its hyperparameters, learning rate included.
        testproblem: Problem to train (DeepOBS uses ``mnist_mlp``, which needs MNIST).
        num_epochs: Epochs per run.
        n_runs: Number of SGD/optimizer pairs.
        batch_size: Batch size (default: the problem's).
        sgd_lr: SGD's learning rate.
        data_dir: Data directory.

    Returns:
        The times and the ratio ``mean ± std`` over pairs.

    Raises:
        ValueError: if ``n_runs`` or ``num_epochs`` is not positive.
    """
    if n_runs < 1 or num_epochs < 1:
        raise ValueError(f"n_runs and num_epochs must be >= 1, got {n_runs} and {num_epochs}.")
    import torch  # the runner (and torch) only when timing is asked for

    from deepobs.pytorch.runners import StandardRunner

    sgd = StandardRunner(torch.optim.SGD, {"lr": {"type": float}}, optimizer_name="SGD")
    new = StandardRunner(optimizer_class, {k: {"type": type(v)} for k, v in hyperparams.items()})
    common = {
        "testproblem": testproblem,
        "batch_size": batch_size,
        "num_epochs": num_epochs,
        "random_seed": 42,
        "data_dir": data_dir,
        "no_logs": True,
    }
    times: dict[str, list[float]] = {"sgd": [], "new": []}
    for i in range(n_runs):
        for key, runner, params in (("sgd", sgd, {"lr": sgd_lr}), ("new", new, hyperparams)):
            start = time.perf_counter()
            runner.run(hyperparams=dict(params), **common)
            times[key].append(time.perf_counter() - start)
        logger.info(
            "runtime round %d/%d: SGD %.2f s, %s %.2f s",
            i + 1,
            n_runs,
            times["sgd"][-1],
            getattr(optimizer_class, "__name__", optimizer_class),
            times["new"][-1],
        )
    ratios = np.array(times["new"]) / np.array(times["sgd"])
    estimate = RuntimeEstimate(
        testproblem=testproblem,
        sgd_times_s=tuple(times["sgd"]),
        optimizer_times_s=tuple(times["new"]),
        ratio_mean=float(ratios.mean()),
        ratio_std=float(ratios.std(ddof=1)) if n_runs > 1 else 0.0,
    )
    logger.info("%s", estimate)
    return estimate
