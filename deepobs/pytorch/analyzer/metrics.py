"""The DeepOBS scores of an optimizer on a test problem: Performance, Speed, Tuneability.

* **Performance**: final test accuracy of the selected setting, mean +- std over seeds (test
  loss for problems without accuracy: ``quadratic_deep``, the VAEs, the 2-D problems).
* **Speed** (DeepOBS 1.1's rule): for each seed, the first epoch at which its test curve
  reaches the problem's convergence performance (``num_epochs + 1`` if it never does), averaged
  over the seeds; NaN without a threshold. (Not the first epoch of the mean curve: one slow
  seed counts with its own epoch.)
* **Tuneability**: the learning-rate sensitivity (see ``plot_hyperparameter_sensitivity``)
  and the selected hyperparameters.

The thresholds in ``convergence_performance.json`` (next to this module) are the values
DeepOBS 1.1 published with its baselines (repository ``fsschneider/DeepOBS_Baselines``): test
loss for ``quadratic_deep``, ``mnist_vae`` and ``fmnist_vae``, test accuracy for the others.
They were derived from the TensorFlow baselines (full training sets, no validation split);
the rule behind them was not published. The file maps problem names to numbers, the same
format DeepOBS reads, so a user's own file works as well.
"""

from __future__ import annotations

import json
import logging
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from deepobs.pytorch.analyzer.results import Results
from deepobs.pytorch.analyzer.select import higher_is_better, rank_settings

logger = logging.getLogger(__name__)

THRESHOLDS_FILE = "convergence_performance.json"


def load_convergence_thresholds(path: str | Path | None = None) -> dict[str, float]:
    """Read the ``{testproblem: threshold}`` file (default: the DeepOBS 1.1 values).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not a mapping of names to numbers.
    """
    if path is None:
        text = (resources.files(__package__) / THRESHOLDS_FILE).read_text(encoding="utf-8")
    else:
        if not Path(path).is_file():
            raise FileNotFoundError(
                f"Convergence performance file {str(path)!r} not found; "
                "leave it out to use the DeepOBS 1.1 thresholds."
            )
        text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(v, int | float) for v in data.values()):
        raise ValueError(f"{path}: expected a JSON object {{testproblem: number}}.")
    return {str(k): float(v) for k, v in data.items()}


def performance_metric(has_accuracy: bool) -> str:
    """The list Performance and Speed are measured on."""
    return "test_accuracies" if has_accuracy else "test_losses"


def first_epochs(curves: np.ndarray, threshold: float, higher_better: bool) -> np.ndarray:
    """Per seed, the first epoch at which its curve reaches ``threshold``.

    Args:
        curves: ``[seeds, epochs]`` (or one curve ``[epochs]``) of the test metric.
        threshold: The convergence performance.
        higher_better: ``True`` for accuracies (reached when ``>=``), ``False`` for losses.

    Returns:
        One epoch index per seed; ``num_epochs + 1`` (the curve's length) for a seed that never
        reaches it. NaN entries (diverged) never count as reached.
    """
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    with np.errstate(invalid="ignore"):
        reached = curves >= threshold if higher_better else curves <= threshold
    never = curves.shape[1]
    return np.where(reached.any(axis=1), reached.argmax(axis=1), never).astype(float)


def speed(curves: np.ndarray, threshold: float | None, higher_better: bool) -> float:
    """DeepOBS Speed: the mean over seeds of each seed's first epoch reaching ``threshold``.

    Args:
        curves: ``[seeds, epochs]`` of the test metric, or one curve ``[epochs]``.
        threshold: The convergence performance, ``None`` if the problem has none.
        higher_better: Direction of the metric.

    Returns:
        The mean of :func:`first_epochs` (a seed that never reaches the threshold counts as
        ``num_epochs + 1``), NaN if ``threshold`` is ``None`` or not finite.
    """
    if threshold is None or not math.isfinite(threshold):
        return math.nan
    return float(first_epochs(curves, threshold, higher_better).mean())


def relative_performance(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """DeepOBS 1.1's relative performance of one optimizer's settings: 1 for its best.

    Each optimizer is normalised by its *own* best setting: ``value / best`` for accuracies,
    ``best / value`` for losses (so 1 is best and smaller is worse in both cases). Diverged
    settings (NaN values) get 0, the worst relative value.

    Args:
        values: One score per setting (e.g. the final test metric's mean over seeds).
        higher_is_better: ``True`` for accuracies, ``False`` for losses.

    Returns:
        Relative values in ``[0, 1]`` for positive inputs, same shape as ``values``; all 0 if
        every setting diverged.
    """
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return np.zeros_like(values)
    best = finite.max() if higher_is_better else finite.min()
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = values / best if higher_is_better else best / values
    return np.where(np.isfinite(relative), relative, 0.0)


def format_hyperparams(hyperparams: dict) -> str:
    """``lr=1.58e-02, momentum=0.99``: the learning rate first (DeepOBS table format)."""
    items = sorted(
        hyperparams.items(), key=lambda kv: (kv[0] not in ("lr", "learning_rate"), kv[0])
    )
    parts = []
    for name, value in items:
        if name in ("lr", "learning_rate") and isinstance(value, int | float):
            parts.append(f"{name}={value:0.2e}")
        elif isinstance(value, float):
            parts.append(f"{name}={value:g}")
        else:
            parts.append(f"{name}={value}")
    return ", ".join(parts)


def score_optimizer(
    results: Results,
    testproblem: str,
    optimizer: str,
    mode: str = "final",
    metric: str | None = None,
    thresholds: dict[str, float] | None = None,
) -> dict:
    """Performance, Speed and the selected setting of ``optimizer`` on ``testproblem``.

    Args:
        results: The loaded results.
        testproblem: Test problem name.
        optimizer: Optimizer name.
        mode: Selection criterion (see :mod:`deepobs.pytorch.analyzer.select`).
        metric: Selection metric (default: validation accuracy, else validation loss).
        thresholds: Convergence thresholds (default: the DeepOBS 1.1 values).

    Returns:
        A dict with ``testproblem, optimizer, setting, selection_metric, performance_metric,
        performance, performance_std, speed, speed_reached, threshold, n_seeds, n_diverged, lr,
        hyperparams, training_params``.
    """
    thresholds = load_convergence_thresholds() if thresholds is None else thresholds
    ranking = rank_settings(results, testproblem, optimizer, mode, metric)
    setting = ranking["setting"].iloc[0]
    runs = results.groups()[(testproblem, optimizer, setting)]
    perf = performance_metric(all(r.has_accuracy for r in runs))
    curves = np.stack([r.curves[perf] for r in runs])
    finals = curves[:, -1]
    diverged = int(np.isnan(finals).sum())
    epochs_to_threshold = speed(curves, thresholds.get(testproblem), higher_is_better(perf))
    return {
        "testproblem": testproblem,
        "optimizer": optimizer,
        "setting": setting,
        "selection_metric": ranking["metric"].iloc[0],
        "performance_metric": perf,
        "performance": float(finals.mean()) if not diverged else math.nan,
        "performance_std": float(finals.std(ddof=1))
        if len(runs) > 1 and not diverged
        else math.nan,
        "speed": epochs_to_threshold,
        "speed_reached": epochs_to_threshold < curves.shape[1],  # by at least one seed
        "threshold": thresholds.get(testproblem, math.nan),
        "n_seeds": len(runs),
        "n_diverged": diverged,
        "lr": runs[0].lr,
        "hyperparams": format_hyperparams(runs[0].hyperparams),
        "training_params": json.dumps(runs[0].training_params, sort_keys=True),
    }


def performance_summary(
    results: Results,
    mode: str = "final",
    metric: str | None = None,
    thresholds: dict[str, float] | None = None,
) -> pd.DataFrame:
    """:func:`score_optimizer` for every problem and optimizer in ``results``."""
    thresholds = load_convergence_thresholds() if thresholds is None else thresholds
    rows = [
        score_optimizer(results, p, o, mode, metric, thresholds)
        for p in results.problems()
        for o in results.optimizers(p)
    ]
    return pd.DataFrame(rows)
