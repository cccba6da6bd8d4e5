"""Across problems: epochs to a target and performance profiles (AlgoPerf style).

For each problem and optimizer (its best setting, mean curve over seeds) the *epochs to target*
is the first epoch whose Performance value (test accuracy, else test loss) reaches the problem's
target. The target is the DeepOBS convergence threshold where one exists and some optimizer
reaches it; else (no threshold, or runs too short for it) the least good final value among the
optimizers that did not diverge, so every such optimizer reaches it (``target_source`` says
which).

The performance profile of an optimizer is, for each ratio ``tau >= 1``, the fraction of
problems on which it reached the target within ``tau`` times the epochs of the fastest
optimizer on that problem (Dolan and More 2002; the AlgoPerf benchmark's score). A problem it
never reaches counts as never solved.
"""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from deepobs.pytorch.analyzer._naming import order_optimizers, problem_title
from deepobs.pytorch.analyzer.metrics import score_optimizer
from deepobs.pytorch.analyzer.plots import legend_columns, legend_rows
from deepobs.pytorch.analyzer.results import Results
from deepobs.pytorch.analyzer.select import higher_is_better
from deepobs.pytorch.analyzer.style import figure_size, line_styles, plain_log_ticks, style_rc


def epochs_to_target(curve: np.ndarray, target: float, higher_better: bool) -> float:
    """First epoch (index) where ``curve`` reaches ``target``; ``inf`` if it never does."""
    curve = np.asarray(curve, dtype=float)
    with np.errstate(invalid="ignore"):
        reached = curve >= target if higher_better else curve <= target
    hits = np.flatnonzero(reached & np.isfinite(curve))
    return float(hits[0]) if hits.size else math.inf


def steps_to_target(
    results: Results,
    mode: str = "final",
    metric: str | None = None,
    thresholds: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Epochs to target of every optimizer's best setting on every problem.

    Returns:
        One row per (problem, optimizer): ``testproblem, optimizer, metric, target,
        target_source`` (``threshold`` or ``weakest final``), ``epochs`` (``inf`` if never
        reached), ``steps`` (epochs x steps per epoch, where the results record it) and
        ``ratio`` (epochs over the fastest optimizer's on the problem).
    """
    thresholds = thresholds or {}
    rows = []
    for problem in results.problems():
        curves, perf = {}, "test_losses"
        for optimizer in order_optimizers(results.optimizers(problem)):
            score = score_optimizer(results, problem, optimizer, mode, metric, {})
            runs = results.groups()[(problem, optimizer, score["setting"])]
            perf = score["performance_metric"]
            stacked = np.stack([r.curves[perf] for r in runs])
            with np.errstate(invalid="ignore"):
                curves[optimizer] = (stacked.mean(axis=0), runs[0].meta.get("steps_per_epoch"))
        higher = higher_is_better(perf)
        target, source = thresholds.get(problem, math.nan), "threshold"
        reached = [epochs_to_target(c, target, higher) for c, _ in curves.values()]
        if not math.isfinite(target) or not any(math.isfinite(e) for e in reached):
            finals = [c[-1] for c, _ in curves.values() if math.isfinite(c[-1])]
            target = (min(finals) if higher else max(finals)) if finals else math.nan
            source = "weakest final"
        for optimizer, (curve, per_epoch) in curves.items():
            epochs = epochs_to_target(curve, target, higher)
            steps = epochs * per_epoch if isinstance(per_epoch, int | float) else math.nan
            rows.append(
                {
                    "testproblem": problem,
                    "optimizer": optimizer,
                    "metric": perf,
                    "target": target,
                    "target_source": source,
                    "epochs": epochs,
                    "steps": steps,
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame.assign(ratio=[])
    # Epoch 0 is the initial evaluation: a problem reached there is "solved" in epoch 0 by
    # every optimizer alike; count it as one epoch so ratios stay finite.
    effort = frame["epochs"].clip(lower=1.0)
    fastest = effort.groupby(frame["testproblem"]).transform("min")
    frame["ratio"] = (effort / fastest).where(np.isfinite(fastest), math.inf)
    return frame


def performance_profile(frame: pd.DataFrame, taus: np.ndarray) -> dict[str, np.ndarray]:
    """Fraction of problems each optimizer solves within ``tau`` x the fastest epochs.

    Args:
        frame: The output of :func:`steps_to_target`.
        taus: Ratios (``>= 1``) to evaluate the profile at.

    Returns:
        Per optimizer, ``rho(tau)`` for each ``tau``; the denominator is the number of
        problems in ``frame`` (a problem an optimizer has no results on counts as unsolved).
    """
    n_problems = frame["testproblem"].nunique()
    profile = {}
    for optimizer in order_optimizers(set(frame["optimizer"])):
        ratios = frame.loc[frame["optimizer"] == optimizer, "ratio"].to_numpy(dtype=float)
        profile[optimizer] = np.array(
            [(ratios <= tau).sum() / n_problems for tau in np.asarray(taus, dtype=float)]
        )
    return profile


def profile_figure(frame: pd.DataFrame, style: str = "default") -> Figure:
    """Step plot of :func:`performance_profile` over ``tau`` (log axis)."""
    finite = frame["ratio"][np.isfinite(frame["ratio"])]
    tau_max = max(2.0, float(finite.max()) * 1.5) if len(finite) else 2.0
    taus = np.unique(np.concatenate([np.geomspace(1.0, tau_max, 200), finite.to_numpy()]))
    profile = performance_profile(frame, taus)
    looks = line_styles(list(profile))
    rc = style_rc(style)
    with mpl.rc_context(rc):
        rows = legend_rows(rc["figure.figsize"][0], list(profile))
        size = figure_size(rc, 1, 1, max_row_in=2.2, legend_rows=rows)
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.add_subplot()
        for optimizer, rho in profile.items():
            look = looks[optimizer]
            ax.step(
                taus,
                rho,
                where="post",
                color=look.color,
                linestyle=look.linestyle,
                marker=look.marker,
                markevery=max(1, len(taus) // 6),
                label=optimizer,
            )
        ax.set_xscale("log")
        plain_log_ticks(ax.xaxis)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("tau: epochs to target / fastest optimizer's epochs")
        ax.set_ylabel("fraction of problems")
        n = frame["testproblem"].nunique()
        names = ", ".join(problem_title(p) for p in dict.fromkeys(frame["testproblem"]))
        ax.set_title(f"Performance profile over {n} problem{'s' if n != 1 else ''}")
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=legend_columns(fig.get_figwidth(), labels),
            title=f"problems: {names}" if len(names) < 90 else None,
            title_fontsize=mpl.rcParams["legend.fontsize"],
            frameon=False,
        )
    return fig
