"""Ranking the settings of an optimizer on a test problem (the DeepOBS selection protocol).

The protocol itself (criteria, common seeds, metric fallback, tie-break) lives in
:mod:`deepobs.pytorch.results.select`, shared with the tuner; this module applies it to loaded
:class:`~deepobs.pytorch.analyzer.results.Results` and returns tables.

Settings are compared **on the seeds all of them share**: DeepOBS tuned on seed 42 and reran
the winner with seeds 43-51, so averaging every seed a setting has would bias the comparison
toward or against the rerun setting. The default metric is the validation accuracy, or the
validation loss for problems without an accuracy; files without validation lists (DeepOBS 1.1)
fall back to the test metric, with a warning. A setting with a diverged compared run ranks
below every setting without one, whatever its score.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from deepobs.pytorch.analyzer.results import Results
from deepobs.pytorch.results import select as protocol
from deepobs.pytorch.results.select import (
    MODES,
    SettingCurves,
    default_metric,
    higher_is_better,
    resolve_metric,
    warn_mixed_data_orders,
)

logger = logging.getLogger(__name__)

__all__ = [
    "MODES",
    "best_setting",
    "default_metric",
    "higher_is_better",
    "rank_settings",
    "resolve_metric",
    "warn_mixed_data_orders",
]


def rank_settings(
    results: Results,
    testproblem: str,
    optimizer: str,
    mode: str = "final",
    metric: str | None = None,
) -> pd.DataFrame:
    """Rank the settings of ``optimizer`` on ``testproblem``, best first.

    Args:
        results: The loaded results.
        testproblem: Test problem name.
        optimizer: Optimizer name.
        mode: ``final``, ``best`` or ``most`` (see :mod:`deepobs.pytorch.results.select`).
        metric: DeepOBS list name to rank by (default: :func:`default_metric`).

    Returns:
        One row per setting: ``rank, setting, score, final, best, n_seeds, n_diverged,
        compared_seeds, lr, metric, mode``. ``score`` is NaN for settings with a diverged
        compared run; ``final``/``best`` are over ``compared_seeds``.

    Raises:
        ValueError: for an unknown mode, or a problem/optimizer without results.
    """
    if mode not in MODES:
        raise ValueError(f"Unknown mode {mode!r}. Valid modes: {', '.join(MODES)}.")
    key = ("rank_settings", testproblem, optimizer, mode, metric)
    if key not in results.cache:  # memoised: rankings are asked for by every plot
        results.cache[key] = _rank_settings(results, testproblem, optimizer, mode, metric)
    return results.cache[key].copy()


def _rank_settings(
    results: Results, testproblem: str, optimizer: str, mode: str, metric: str | None
) -> pd.DataFrame:
    groups = {k: v for k, v in results.groups().items() if k[:2] == (testproblem, optimizer)}
    if not groups:
        raise ValueError(
            f"No results for optimizer {optimizer!r} on {testproblem!r}; "
            f"optimizers with results there: {results.optimizers(testproblem)}."
        )
    context = f"{testproblem}/{optimizer}"
    metric_key = ("metric", testproblem, optimizer, metric)
    if metric_key not in results.cache:  # resolve (and log a fallback) once per optimizer
        available = set.intersection(*(set(r.curves) for runs in groups.values() for r in runs))
        results.cache[metric_key] = resolve_metric(metric, available, context)
        warn_mixed_data_orders([r for runs in groups.values() for r in runs], "the ranking")
    metric = results.cache[metric_key]
    settings = [
        SettingCurves.from_runs(setting, runs, metric) for (_, _, setting), runs in groups.items()
    ]
    ranking = protocol.rank_settings(settings, metric, mode, context)
    lrs = {setting: runs[0].lr for (_, _, setting), runs in groups.items()}
    table = pd.DataFrame(
        [
            {
                "rank": row.rank,
                "setting": row.setting,
                "score": row.score,
                "final": row.final,
                "best": row.best,
                "n_seeds": row.n_seeds,
                "n_diverged": row.n_diverged,
                "compared_seeds": row.compared_seeds,
                "lr": lrs[row.setting],
            }
            for row in ranking
        ]
    )
    table["rank"] = table["rank"].astype(np.int64)
    table["metric"], table["mode"] = metric, mode
    return table


def best_setting(
    results: Results,
    testproblem: str,
    optimizer: str,
    mode: str = "final",
    metric: str | None = None,
) -> str:
    """Name of the best setting (rank 1 of :func:`rank_settings`, compared on common seeds)."""
    return str(rank_settings(results, testproblem, optimizer, mode, metric)["setting"].iloc[0])
