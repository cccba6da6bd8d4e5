"""Statistics over seeds: Student-t quantiles (no SciPy needed) and per-epoch aggregation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

#: Bands drawn around a curve over seeds (see :func:`curve_band`).
BANDS = ("std", "ci", "minmax", "quartiles")
#: Columns a setting's curve is aggregated over seeds by.
CURVE_GROUP = ("testproblem", "optimizer", "setting", "split", "metric", "epoch")


def _incomplete_beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularised incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        # Even then odd term of the fraction.
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < eps:
            break
    return result


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """``I_x(a, b)`` for ``a, b > 0`` and ``0 <= x <= 1``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _incomplete_beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _incomplete_beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Cumulative distribution function of Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """Quantile of Student's t (``scipy.stats.t.ppf(p, df)``), by bisection on :func:`t_cdf`.

    Raises:
        ValueError: if ``p`` is not in (0, 1) or ``df`` is not positive.
    """
    if not 0.0 < p < 1.0 or not df > 0:
        raise ValueError(f"t_quantile needs 0 < p < 1 and df > 0, got p={p!r}, df={df!r}.")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, 2.0 * high
    for _ in range(200):
        middle = 0.5 * (low + high)
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-13 * high:
            break
    return 0.5 * (low + high)


def ci_halfwidth(std: np.ndarray, n: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Half width of the t-based confidence interval of a mean: ``t(n-1) * std / sqrt(n)``.

    NaN where fewer than two values exist.
    """
    std, n = np.asarray(std, dtype=float), np.asarray(n, dtype=float)
    quantiles = {k: t_quantile(0.5 + level / 2.0, k - 1) for k in np.unique(n[n >= 2])}
    t = np.array([quantiles.get(k, math.nan) for k in n.ravel()]).reshape(n.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return t * std / np.sqrt(n)


def aggregate(frame: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Aggregate a tidy results table over seeds, per setting, split, metric and epoch.

    NaN values (diverged runs, missing lists) are left out of every statistic; ``n`` counts
    the finite values and ``n_runs`` the runs, so ``n < n_runs`` marks epochs where a seed
    had diverged. ``std`` is the sample standard deviation (``ddof=1``) and the confidence
    interval uses Student's t with ``n - 1`` degrees of freedom.

    Args:
        frame: Tidy table (:attr:`Results.frame`).
        level: Confidence level of ``ci_low``/``ci_high``.

    Returns:
        One row per group of :data:`CURVE_GROUP` with ``mean, std, min, max, median, n,
        n_runs, ci_low, ci_high``.
    """
    grouped = frame.groupby(list(CURVE_GROUP), sort=True)["value"]
    stats = grouped.agg(["mean", "std", "min", "max", "median", "count", "size"])
    stats = stats.rename(columns={"count": "n", "size": "n_runs"}).reset_index()
    half = ci_halfwidth(stats["std"].to_numpy(), stats["n"].to_numpy(), level)
    stats["ci_low"] = stats["mean"] - half
    stats["ci_high"] = stats["mean"] + half
    return stats


def curve_band(
    curves: np.ndarray, band: str = "std", level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre line and band of per-seed curves (``seeds x epochs``), ignoring NaN.

    Args:
        curves: One row per seed.
        band: ``std`` (mean +- sample std), ``ci`` (mean and t confidence interval at
            ``level``), ``minmax`` (mean, min to max) or ``quartiles`` (median, 25 to 75 %).
        level: Confidence level for ``ci``.

    Returns:
        ``(centre, low, high)``, NaN where no seed has a finite value (and for the band where
        fewer than two have).

    Raises:
        ValueError: for an unknown ``band``.
    """
    if band not in BANDS:
        raise ValueError(f"Unknown band {band!r}. Valid bands: {', '.join(BANDS)}.")
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    n = np.isfinite(curves).sum(axis=0)
    with warnings.catch_warnings():  # all-NaN epochs (diverged) give NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        if band == "quartiles":
            low, centre, high = np.nanpercentile(curves, [25, 50, 75], axis=0)
            return centre, low, high
        mean = np.nanmean(curves, axis=0)
        if band == "minmax":
            return mean, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
        std = np.where(n >= 2, np.nanstd(curves, axis=0, ddof=1), np.nan)
    half = ci_halfwidth(std, n, level) if band == "ci" else std
    return mean, mean - half, mean + half
