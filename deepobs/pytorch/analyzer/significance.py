"""Is a difference between optimizers more than seed noise? CIs and pairwise tests over seeds.

Per problem, each optimizer's best setting gives one final value of the Performance metric per
seed. From those: a 95 % confidence interval of the mean (Student's t, ``scipy.stats``), and
for every pair of optimizers Welch's t-test (unequal variances) and the Mann-Whitney U rank test
(exact for small samples), each two-sided and Holm-corrected over the problem's pairs. An
optimizer is *not significantly different from the best* when its Holm-corrected Welch p-value
against the best is at least ``alpha``; the rank test is reported beside it (with three seeds
per optimizer it cannot reach p < 0.05: its smallest two-sided p is 0.1).

Diverged seeds (non-finite finals) are left out and counted.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from deepobs.pytorch.analyzer._naming import order_optimizers
from deepobs.pytorch.analyzer.metrics import score_optimizer
from deepobs.pytorch.analyzer.results import Results
from deepobs.pytorch.analyzer.select import higher_is_better

#: Columns of :func:`pairwise_tests`.
PAIR_COLUMNS = (
    "optimizer_a",
    "optimizer_b",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "welch_t",
    "welch_p",
    "welch_p_holm",
    "mannwhitney_u",
    "mannwhitney_p",
    "mannwhitney_p_holm",
)


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of the mean of the finite ``values``.

    Returns:
        ``(mean, low, high)``; the interval is NaN for fewer than two values, and the mean
        for a zero spread.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan, math.nan
    sem = float(values.std(ddof=1) / math.sqrt(values.size))
    if sem == 0.0:
        return mean, mean, mean
    low, high = stats.t.interval(level, values.size - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def holm(pvalues: list[float] | np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1; NaN stays NaN)."""
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = valid.size
    running = 0.0
    for rank, index in enumerate(valid[np.argsort(p[valid], kind="stable")]):
        running = max(running, (m - rank) * p[index])
        adjusted[index] = min(1.0, running)
    return adjusted


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if a.size < 2 or b.size < 2:
        return math.nan, math.nan
    if a.std(ddof=1) == 0 and b.std(ddof=1) == 0:  # scipy gives NaN; decide by the means
        return (
            (math.nan, 1.0)
            if a.mean() == b.mean()
            else (math.copysign(math.inf, a.mean() - b.mean()), 0.0)
        )
    result = stats.ttest_ind(a, b, equal_var=False)
    return float(result.statistic), float(result.pvalue)


def _mannwhitney(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if a.size < 1 or b.size < 1:
        return math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.mannwhitneyu(a, b, alternative="two-sided")
    return float(result.statistic), float(result.pvalue)


def pairwise_tests(scores: dict[str, np.ndarray]) -> pd.DataFrame:
    """Welch and Mann-Whitney tests for every pair of optimizers, Holm-corrected per test.

    Args:
        scores: Per optimizer, its final values over seeds (non-finite values are dropped).

    Returns:
        One row per pair (in the order of ``scores``) with :data:`PAIR_COLUMNS`.
    """
    finite = {k: np.asarray(v, dtype=float)[np.isfinite(v)] for k, v in scores.items()}
    rows = []
    for a, b in itertools.combinations(finite, 2):
        x, y = finite[a], finite[b]
        t, p_t = _welch(x, y)
        u, p_u = _mannwhitney(x, y)
        rows.append(
            {
                "optimizer_a": a,
                "optimizer_b": b,
                "n_a": x.size,
                "n_b": y.size,
                "mean_a": float(x.mean()) if x.size else math.nan,
                "mean_b": float(y.mean()) if y.size else math.nan,
                "welch_t": t,
                "welch_p": p_t,
                "mannwhitney_u": u,
                "mannwhitney_p": p_u,
            }
        )
    frame = pd.DataFrame(rows, columns=[c for c in PAIR_COLUMNS if not c.endswith("_holm")])
    frame["welch_p_holm"] = holm(frame["welch_p"].to_numpy()) if rows else []
    frame["mannwhitney_p_holm"] = holm(frame["mannwhitney_p"].to_numpy()) if rows else []
    return frame[list(PAIR_COLUMNS)]


def compare_to_best(
    scores: dict[str, np.ndarray], higher_better: bool, alpha: float = 0.05, level: float = 0.95
) -> pd.DataFrame:
    """Per optimizer: mean, CI, seeds, and whether it is the best or tied with it.

    The best is the optimizer with the best mean (ignoring diverged seeds; an optimizer with
    no finite value cannot be best). ``tied_with_best`` is True where the Holm-corrected Welch
    p-value against the best is at least ``alpha`` (and for the best itself).

    Returns:
        One row per optimizer: ``optimizer, mean, ci_low, ci_high, n, n_diverged, is_best,
        welch_p_holm, mannwhitney_p_holm, tied_with_best`` (p-values against the best).
    """
    pairs = pairwise_tests(scores)
    rows = []
    for name, values in scores.items():
        values = np.asarray(values, dtype=float)
        mean, low, high = confidence_interval(values, level)
        rows.append(
            {
                "optimizer": name,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "n": int(np.isfinite(values).sum()),
                "n_diverged": int((~np.isfinite(values)).sum()),
            }
        )
    frame = pd.DataFrame(rows)
    means = frame["mean"].where(np.isfinite(frame["mean"]))
    best = None
    if means.notna().any():
        best = frame.loc[means.idxmax() if higher_better else means.idxmin(), "optimizer"]
    frame["is_best"] = frame["optimizer"] == best
    for column in ("welch_p_holm", "mannwhitney_p_holm"):
        frame[column] = [_pair_value(pairs, name, best, column) for name in frame["optimizer"]]
    frame["tied_with_best"] = frame["is_best"] | (frame["welch_p_holm"] >= alpha)
    return frame


def _pair_value(pairs: pd.DataFrame, a: str, b: str | None, column: str) -> float:
    if b is None or a == b:
        return math.nan
    match = pairs[
        ((pairs["optimizer_a"] == a) & (pairs["optimizer_b"] == b))
        | ((pairs["optimizer_a"] == b) & (pairs["optimizer_b"] == a))
    ]
    return float(match[column].iloc[0]) if len(match) else math.nan


def final_scores(
    results: Results, testproblem: str, mode: str = "final", metric: str | None = None
) -> tuple[dict[str, np.ndarray], str]:
    """Per optimizer, the final Performance value of each seed of its best setting on a problem.

    Performance is the test accuracy, else the test loss; also returns the metric's name.
    """
    scores, perf = {}, "test_losses"
    for optimizer in order_optimizers(results.optimizers(testproblem)):
        score = score_optimizer(results, testproblem, optimizer, mode, metric, {})
        runs = results.groups()[(testproblem, optimizer, score["setting"])]
        perf = score["performance_metric"]
        scores[optimizer] = np.array([r.curves[perf][-1] for r in runs], dtype=float)
    return scores, perf


def significance_tables(
    results: Results, mode: str = "final", metric: str | None = None, alpha: float = 0.05
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`compare_to_best` and :func:`pairwise_tests` of every problem in ``results``.

    Returns:
        ``(summary, pairs)``, both with a leading ``testproblem`` and ``metric`` column.
    """
    summaries, pairs = [], []
    for problem in results.problems():
        scores, perf = final_scores(results, problem, mode, metric)
        summaries.append(compare_to_best(scores, higher_is_better(perf), alpha))
        summaries[-1].insert(0, "metric", perf)
        summaries[-1].insert(0, "testproblem", problem)
        pairs.append(pairwise_tests(scores))
        pairs[-1].insert(0, "metric", perf)
        pairs[-1].insert(0, "testproblem", problem)
    return pd.concat(summaries, ignore_index=True), pd.concat(pairs, ignore_index=True)
