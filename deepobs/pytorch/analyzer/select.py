"""Ranking the settings of an optimizer on a test problem (the DeepOBS selection protocol).

Criteria (``mode``), computed on the mean curve over seeds of the selection ``metric``:

* ``final``: the value after the last epoch (the DeepOBS protocol's criterion);
* ``best``: the best value over all epochs (max for accuracies, min for losses);
* ``most``: the setting with the most seeds (after tuning, the setting rerun with more seeds),
  ties broken by ``final``.

The default metric is the validation accuracy, or the validation loss for problems without an
accuracy. Files without validation lists (DeepOBS 1.1) fall back to the test metric, with a
warning: that selects on test data. A setting with a diverged run ranks below every setting
without one, whatever its score.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from deepobs.pytorch.analyzer._naming import curve_key
from deepobs.pytorch.analyzer.results import Results

logger = logging.getLogger(__name__)

MODES = ("final", "best", "most")


def higher_is_better(metric: str) -> bool:
    """Whether larger values of ``metric`` (a DeepOBS list name) are better."""
    return curve_key(metric)[1] == "accuracy"


def default_metric(has_accuracy: bool) -> str:
    """The default selection metric: validation accuracy, else validation loss."""
    return "valid_accuracies" if has_accuracy else "valid_losses"


def resolve_metric(requested: str | None, available: set[str], context: str = "") -> str:
    """Return the metric to rank by: ``requested`` if every run has it, else a fallback.

    Fallback order: the same split's loss (for an accuracy), the test list of the same kind,
    the test loss. Falling back is logged; falling back to test data is a warning.

    Args:
        requested: A DeepOBS list name, or ``None`` for :func:`default_metric`.
        available: List names every run in question holds.
        context: Names what is being ranked, for the log message.

    Raises:
        ValueError: if ``requested`` is not a list name, or no fallback exists.
    """
    if requested is None:
        requested = default_metric("test_accuracies" in available)
    split, kind = curve_key(requested)
    suffix = "accuracies" if kind == "accuracy" else "losses"
    chain = [requested, f"{split}_losses", f"test_{suffix}", "test_losses"]
    chosen = next((m for m in chain if m in available), None)
    if chosen is None:
        raise ValueError(
            f"No metric to rank {context} by: tried {chain}, the runs hold {sorted(available)}."
        )
    if chosen != requested:
        on_test = chosen.startswith("test") and split != "test"
        level = logging.WARNING if on_test else logging.INFO
        reason = (
            " (no validation lists, e.g. DeepOBS 1.1 files): selecting on test data"
            if on_test
            else ""
        )
        logger.log(
            level,
            "%s: %s not available, ranking by %s instead%s",
            context,
            requested,
            chosen,
            reason,
        )
    return chosen


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
        mode: ``final``, ``best`` or ``most`` (module docstring).
        metric: DeepOBS list name to rank by (default: :func:`default_metric`).

    Returns:
        One row per setting: ``rank, setting, score, final, best, n_seeds, n_diverged, lr,
        metric, mode``. ``score`` is NaN for settings with a diverged run.

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
    available = set.intersection(*(set(r.curves) for runs in groups.values() for r in runs))
    metric_key = ("metric", testproblem, optimizer, metric)
    if metric_key not in results.cache:  # resolve (and log a fallback) once per optimizer
        results.cache[metric_key] = resolve_metric(metric, available, f"{testproblem}/{optimizer}")
    metric = results.cache[metric_key]
    sign = -1.0 if higher_is_better(metric) else 1.0
    rows = []
    for (_, _, setting), runs in groups.items():
        curves = np.stack([run.curves[metric] for run in runs])
        n_diverged = sum(r.status == "diverged" or np.isnan(c).any() for r, c in zip(runs, curves))
        mean = curves.mean(axis=0)
        ok = n_diverged == 0
        rows.append(
            {
                "setting": setting,
                "final": mean[-1] if ok else np.nan,
                "best": (mean.max() if sign < 0 else mean.min()) if ok else np.nan,
                "n_seeds": len(runs),
                "n_diverged": n_diverged,
                "lr": runs[0].lr,
            }
        )
    table = pd.DataFrame(rows)
    table["score"] = table["best" if mode == "best" else "final"]
    if mode == "most" and table["n_seeds"].nunique() == 1 and len(table) > 1:
        logger.info(
            "%s/%s: all settings have %d seed(s); mode 'most' ranks by 'final'",
            testproblem,
            optimizer,
            table["n_seeds"].iloc[0],
        )
    table["_diverged"] = table["n_diverged"] > 0
    table["_fraction"] = table["n_diverged"] / table["n_seeds"]
    table["_seeds"] = -table["n_seeds"] if mode == "most" else 0
    table["_score"] = (sign * table["score"]).fillna(np.inf)
    table = table.sort_values(["_diverged", "_fraction", "_seeds", "_score", "setting"])
    table = table.drop(columns=["_diverged", "_fraction", "_seeds", "_score"])
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["metric"], table["mode"] = metric, mode
    return table.reset_index(drop=True)


def best_setting(
    results: Results,
    testproblem: str,
    optimizer: str,
    mode: str = "final",
    metric: str | None = None,
) -> str:
    """Name of the best setting (rank 1 of :func:`rank_settings`)."""
    return str(rank_settings(results, testproblem, optimizer, mode, metric)["setting"].iloc[0])
