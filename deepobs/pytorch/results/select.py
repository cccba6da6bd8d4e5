"""The DeepOBS selection protocol on arrays: ranking the settings of one optimizer.

Used by both the analyzer (:func:`deepobs.pytorch.analyzer.select.rank_settings`) and the
tuner (:func:`deepobs.pytorch.tuner.rerun.rerun_setting`), so both pick the same best setting.

**Common seeds.** Settings are compared on the seeds *all* of them share. DeepOBS tuned each
learning rate with seed 42 and then reran the winner with seeds 43-51; averaging every seed a
setting happens to have would compare the rerun setting's 10-seed mean with the others'
single seed 42, which favours or penalises it by seed noise alone. Ranking on the shared seeds
(there: seed 42) reproduces the published choice on all 24 published problem-optimizer pairs.
When every setting has the same seeds (a plain grid), nothing changes. If the settings share
no seed, each is scored on all its seeds, with a warning.

Criteria (``mode``), computed on the mean over the compared seeds of the metric's curve:

* ``final``: the value after the last epoch (the DeepOBS protocol's criterion);
* ``best``: the best value over all epochs (max for accuracies, min for losses);
* ``most``: the setting with the most seeds (after tuning, the setting rerun with more seeds),
  ties broken by ``final``.

Order: settings without a diverged compared seed first, then by the fraction of diverged
compared seeds, (``most``: more seeds first,) then by score, then by setting name. A setting
with a diverged run among the compared seeds therefore ranks below every setting without one.

Metric: the validation accuracy by default, or the validation loss for problems without an
accuracy. Files without validation lists (DeepOBS 1.1) fall back to the test metric, with a
warning: that selects on test data (what DeepOBS 1.1 did).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from deepobs.pytorch.results.read import CURVE_NAMES, Run

logger = logging.getLogger(__name__)

MODES = ("final", "best", "most")


@dataclass(frozen=True)
class SettingCurves:
    """One setting's per-seed curves of the selection metric (the input of the ranking).

    Attributes:
        setting: The setting's name (its folder).
        seeds: The seeds, one per row of ``curves``.
        curves: ``[seeds, epochs]`` values of the metric, NaN where missing or diverged.
        diverged: Per seed, whether the run is marked diverged (a NaN in ``curves`` counts
            as diverged as well).
    """

    setting: str
    seeds: tuple[int, ...]
    curves: np.ndarray
    diverged: tuple[bool, ...]

    @classmethod
    def from_runs(cls, setting: str, runs: Sequence[Run], metric: str) -> SettingCurves:
        """The curves of ``metric`` of ``runs`` (all of one setting)."""
        return cls(
            setting=setting,
            seeds=tuple(r.random_seed for r in runs),
            curves=np.stack([r.curves[metric] for r in runs]),
            diverged=tuple(r.status == "diverged" for r in runs),
        )


@dataclass(frozen=True)
class SettingScore:
    """One row of a ranking (best first).

    Attributes:
        rank: 1 for the best setting.
        setting: The setting's name.
        score: The value ranked by (``final`` or ``best``), NaN if a compared seed diverged.
        final: Last value of the mean curve over the compared seeds (NaN if one diverged).
        best: Best value of that mean curve (NaN if a compared seed diverged).
        n_seeds: Seeds of the setting.
        n_diverged: Diverged seeds of the setting (all its seeds).
        compared_seeds: The seeds the setting was scored on.
        n_compared_diverged: Diverged seeds among ``compared_seeds``.
    """

    rank: int
    setting: str
    score: float
    final: float
    best: float
    n_seeds: int
    n_diverged: int
    compared_seeds: tuple[int, ...]
    n_compared_diverged: int


def higher_is_better(metric: str) -> bool:
    """Whether larger values of ``metric`` (a DeepOBS list name) are better."""
    return metric.endswith("accuracies")


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
    if requested not in CURVE_NAMES:
        raise ValueError(f"Unknown metric {requested!r}. Valid metrics: {', '.join(CURVE_NAMES)}.")
    split, suffix = requested.split("_")
    chain = [requested, f"{split}_losses", f"test_{suffix}", "test_losses"]
    chosen = next((m for m in chain if m in available), None)
    if chosen is None:
        raise ValueError(
            f"No metric to rank {context} by: tried {chain}, the runs hold {sorted(available)}."
        )
    if chosen != requested:
        on_test = chosen.startswith("test") and split != "test"
        reason = (
            " (no validation lists, e.g. DeepOBS 1.1 files): selecting on test data"
            if on_test
            else ""
        )
        logger.log(
            logging.WARNING if on_test else logging.INFO,
            "%s: %s not available, ranking by %s instead%s",
            context,
            requested,
            chosen,
            reason,
        )
    return chosen


def common_seeds(settings: Sequence[SettingCurves]) -> set[int]:
    """The seeds every setting has (empty if they share none)."""
    return set.intersection(*(set(s.seeds) for s in settings)) if settings else set()


def rank_settings(
    settings: Sequence[SettingCurves],
    metric: str,
    mode: str = "final",
    context: str = "",
) -> list[SettingScore]:
    """Rank ``settings`` best first, comparing them on the seeds they all share.

    Args:
        settings: The settings of one optimizer on one problem.
        metric: The DeepOBS list name the curves hold (for the direction).
        mode: ``final``, ``best`` or ``most`` (module docstring).
        context: Names what is being ranked, for log messages.

    Raises:
        ValueError: for an unknown mode or no settings.
    """
    if mode not in MODES:
        raise ValueError(f"Unknown mode {mode!r}. Valid modes: {', '.join(MODES)}.")
    if not settings:
        raise ValueError(f"No settings with results to rank{' for ' + context if context else ''}.")
    shared = common_seeds(settings)
    if not shared and len(settings) > 1:
        logger.warning(
            "%s: the settings share no seed; scoring each on all its seeds (seed noise "
            "enters the comparison)",
            context or "ranking",
        )
    elif any(set(s.seeds) != shared for s in settings):
        logger.info(
            "%s: comparing settings on their common seed(s) %s",
            context or "ranking",
            sorted(shared),
        )
    sign = -1.0 if higher_is_better(metric) else 1.0
    scored = [_score(s, shared, sign, mode) for s in settings]
    if mode == "most" and len({s.n_seeds for s in scored}) == 1 and len(scored) > 1:
        logger.info(
            "%s: all settings have %d seed(s); mode 'most' ranks by 'final'",
            context or "ranking",
            scored[0].n_seeds,
        )

    def key(score: SettingScore) -> tuple:
        fraction = score.n_compared_diverged / len(score.compared_seeds)
        value = sign * score.score if math.isfinite(score.score) else math.inf
        most = -score.n_seeds if mode == "most" else 0
        return (fraction > 0, fraction, most, value, score.setting)

    return [replace(s, rank=i) for i, s in enumerate(sorted(scored, key=key), start=1)]


def best_setting(
    settings: Sequence[SettingCurves], metric: str, mode: str = "final", context: str = ""
) -> str:
    """Name of the best setting (rank 1 of :func:`rank_settings`)."""
    return rank_settings(settings, metric, mode, context)[0].setting


def warn_mixed_data_orders(runs: Iterable[Run], context: str = "the analysis") -> dict[str, set]:
    """Log a warning for each test problem whose ``runs`` used different data orders.

    The published DeepOBS 1.1 baselines replayed one training order per run (``fixed``); this
    package reshuffles every epoch by default (``reshuffle``; see ``Run.data_order``). A
    comparison across orders mixes the optimizer's effect with the order's.

    Args:
        runs: The runs compared (e.g. the user's runs and the reference runs together).
        context: Where they are compared (``"the figures"``), for the message.

    Returns:
        ``{testproblem: {data orders}}`` for the problems with more than one order.
    """
    found: dict[str, dict[str, set[str]]] = {}
    for run in runs:
        source = "published 1.1" if run.source == "deepobs-1.1" else run.optimizer
        found.setdefault(run.testproblem, {}).setdefault(run.data_order, set()).add(source)
    mixed = {problem: set(orders) for problem, orders in found.items() if len(orders) > 1}
    for problem in sorted(mixed):
        orders = sorted(found[problem].items())
        described = "; ".join(f"{order}: {', '.join(sorted(names))}" for order, names in orders)
        logger.warning(
            "%s: runs trained with different data orders are compared in %s (%s); their "
            "differences are not only the optimizers' (train with --data-order to match)",
            problem,
            context,
            described,
        )
    return mixed


def _score(setting: SettingCurves, shared: set[int], sign: float, mode: str) -> SettingScore:
    bad = [d or bool(np.isnan(c).any()) for d, c in zip(setting.diverged, setting.curves)]
    rows = [i for i, seed in enumerate(setting.seeds) if seed in shared]
    rows = rows or list(range(len(setting.seeds)))
    if any(bad[i] for i in rows):
        final = best = math.nan
    else:
        mean = setting.curves[rows].mean(axis=0)
        final = float(mean[-1])
        best = float(mean.max() if sign < 0 else mean.min())
    return SettingScore(
        rank=0,
        setting=setting.setting,
        score=best if mode == "best" else final,
        final=final,
        best=best,
        n_seeds=len(setting.seeds),
        n_diverged=sum(bad),
        compared_seeds=tuple(setting.seeds[i] for i in rows),
        n_compared_diverged=sum(bad[i] for i in rows),
    )
