"""Tuning-budget curves: the expected best validation score after ``k`` random trials.

Each setting an optimizer was run with on a problem is one trial, scored by its selection
metric (mean over seeds of the final, or with ``mode='best'`` the best, validation value).
Drawing ``k`` of the ``N`` trials at random with replacement, the expected best score is, with
the scores sorted from worst to best as ``v_1 ... v_N`` (Dodge et al. 2019, "Show your work"),

    E[best of k] = sum_i v_i * ((i / N)^k - ((i - 1) / N)^k).

Diverged trials score as the optimizer's worst finite trial, so the curve stays finite and a
diverging setting never helps. The spread (±1 std of the best of ``k``) comes from the same
distribution.
"""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from deepobs.pytorch.analyzer._naming import order_optimizers, problem_title
from deepobs.pytorch.analyzer.curves import metric_label
from deepobs.pytorch.analyzer.plots import legend_columns, legend_rows
from deepobs.pytorch.analyzer.results import Results
from deepobs.pytorch.analyzer.select import higher_is_better, rank_settings
from deepobs.pytorch.analyzer.style import figure_size, line_styles, plain_log_ticks, style_rc


def expected_best(
    scores: np.ndarray, k: int | np.ndarray, higher_better: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Expected best of ``k`` draws (with replacement) from ``scores``, and its std.

    Args:
        scores: Trial scores; non-finite ones are replaced by the worst finite score.
        k: Number(s) of trials, each ``>= 1``.
        higher_better: Whether the best is the largest score.

    Returns:
        ``(mean, std)`` arrays, one entry per ``k``; NaN if no score is finite.

    Raises:
        ValueError: if a ``k`` is below 1.
    """
    k = np.atleast_1d(np.asarray(k))
    if (k < 1).any():
        raise ValueError(f"The number of trials k must be >= 1, got {k.min()}.")
    scores = np.asarray(scores, dtype=float)
    finite = scores[np.isfinite(scores)]
    if finite.size == 0:
        return np.full(k.shape, np.nan), np.full(k.shape, np.nan)
    worst = finite.min() if higher_better else finite.max()
    values = np.where(np.isfinite(scores), scores, worst)
    values = np.sort(values) if higher_better else np.sort(values)[::-1]  # worst ... best
    n = values.size
    cdf = np.arange(n + 1) / n
    means, stds = [], []
    for trials in k:
        weights = cdf[1:] ** trials - cdf[:-1] ** trials
        mean = float(weights @ values)
        second = float(weights @ values**2)
        means.append(mean)
        stds.append(math.sqrt(max(second - mean * mean, 0.0)))
    return np.array(means), np.array(stds)


def trial_scores(
    results: Results, testproblem: str, mode: str = "final", metric: str | None = None
) -> tuple[dict[str, np.ndarray], str]:
    """Per optimizer, the score of each of its settings on ``testproblem``; and the metric used.

    A score of NaN marks a diverged setting; the metric is the one the settings were selected by.
    """
    scores, used = {}, "valid_losses"
    for optimizer in order_optimizers(results.optimizers(testproblem)):
        ranking = rank_settings(results, testproblem, optimizer, mode, metric)
        used = ranking["metric"].iloc[0]
        column = "best" if mode == "best" else "final"
        scores[optimizer] = ranking[column].to_numpy(dtype=float)
    return scores, used


def budget_table(results: Results, mode: str = "final", metric: str | None = None) -> pd.DataFrame:
    """Expected best score after ``k = 1 ... N`` trials for every problem and optimizer.

    Returns:
        ``testproblem, optimizer, metric, k, n_trials, expected_best, std``.
    """
    rows = []
    for problem in results.problems():
        scores, used = trial_scores(results, problem, mode, metric)
        for optimizer, values in scores.items():
            ks = np.arange(1, values.size + 1)
            mean, std = expected_best(values, ks, higher_is_better(used))
            rows += [
                {
                    "testproblem": problem,
                    "optimizer": optimizer,
                    "metric": used,
                    "k": int(k),
                    "n_trials": values.size,
                    "expected_best": m,
                    "std": s,
                }
                for k, m, s in zip(ks, mean, std)
            ]
    return pd.DataFrame(rows)


def budget_figure(table: pd.DataFrame, testproblem: str, style: str = "default") -> Figure:
    """Expected best validation score vs number of random trials, one line per optimizer."""
    rows = table[table["testproblem"] == testproblem]
    if rows.empty:
        raise ValueError(f"No tuning trials of {testproblem!r} in the budget table.")
    optimizers = list(dict.fromkeys(rows["optimizer"]))
    looks = line_styles(optimizers)
    rc = style_rc(style)
    with mpl.rc_context(rc):
        n_rows = legend_rows(rc["figure.figsize"][0], optimizers)
        size = figure_size(rc, 1, 1, max_row_in=2.2, legend_rows=n_rows)
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.add_subplot()
        for optimizer in optimizers:
            line = rows[rows["optimizer"] == optimizer]
            look = looks[optimizer]
            k, mean, std = line["k"], line["expected_best"], line["std"]
            ax.plot(
                k,
                mean,
                color=look.color,
                marker=look.marker,
                linestyle=look.linestyle,
                markevery=max(1, len(k) // 6),
                label=f"{optimizer} ({len(k)} trials)",
            )
            ax.fill_between(k, mean - std, mean + std, color=look.color, alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        plain_log_ticks(ax.xaxis)
        ax.set_xlabel("number of random tuning trials k")
        ax.set_ylabel(f"expected best {metric_label(rows['metric'].iloc[0])}")
        ax.set_title(problem_title(testproblem))
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=legend_columns(fig.get_figwidth(), labels),
            title="line: expected best of k trials, band: ±1 std (Dodge et al. 2019)",
            title_fontsize=mpl.rcParams["legend.fontsize"],
            frameon=False,
        )
    return fig
