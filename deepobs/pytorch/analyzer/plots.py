"""Drawing the DeepOBS figures from prepared curves (no file reading, no pyplot).

Figures are built as :class:`matplotlib.figure.Figure` objects: no backend is selected, no
global ``rcParams`` change and nothing is shown. The path-based entry points that prepare the
curves are in :mod:`deepobs.pytorch.analyzer.result_analysis`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from deepobs.pytorch.analyzer._naming import problem_title
from deepobs.pytorch.analyzer.stats import curve_band

#: Rows of the performance plots: (list name, y label).
PANELS = (
    ("test_losses", "test loss"),
    ("train_losses", "train loss"),
    ("test_accuracies", "test accuracy"),
    ("train_accuracies", "train accuracy"),
)
#: Below this many epochs the y-range shows whole curves instead of zooming in.
_ZOOM_MIN_POINTS = 10


@dataclass
class CurveSet:
    """The curves of one setting to draw: one line (and band) per panel.

    Attributes:
        label: Legend label.
        curves: Per-seed curves (``seeds x epochs``) by DeepOBS list name.
        color: Matplotlib colour.
        linestyle: Matplotlib line style (baselines are dashed).
    """

    label: str
    curves: dict[str, np.ndarray]
    color: str = "C0"
    linestyle: str = "-"


@dataclass
class SensitivityLine:
    """One optimizer's points of a sensitivity plot.

    Attributes:
        label: Legend label.
        x: Hyperparameter values, sorted.
        scores: The per-seed scores at each value (``values x seeds``, NaN-padded).
        diverged: Whether the setting at each value has a diverged run.
        color: Matplotlib colour.
        linestyle: Matplotlib line style.
        mean: The line's values if not the mean of ``scores`` (relative performance).
    """

    label: str
    x: np.ndarray
    scores: np.ndarray
    diverged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    color: str = "C0"
    linestyle: str = "-"
    mean: np.ndarray | None = None

    def centre(self) -> np.ndarray:
        """The line: ``mean`` if set, else the mean over seeds; NaN where diverged."""
        if self.mean is not None:
            values = self.mean
        else:
            with warnings.catch_warnings():  # all-NaN rows: diverged settings
                warnings.simplefilter("ignore", RuntimeWarning)
                values = np.nanmean(self.scores, axis=1) if self.scores.size else self.x * np.nan
        return np.where(self.diverged, np.nan, values)


def draw_curve(ax: Axes, curve_set: CurveSet, key: str, band: str = "std") -> bool:
    """Draw the centre line and band of ``curve_set.curves[key]``; False if it has none."""
    curves = curve_set.curves.get(key)
    if curves is None:
        return False
    centre, low, high = curve_band(curves, band)
    epochs = np.arange(centre.size)
    ax.plot(
        epochs, centre, color=curve_set.color, linestyle=curve_set.linestyle, label=curve_set.label
    )
    if len(curves) > 1:
        ax.fill_between(epochs, low, high, color=curve_set.color, alpha=0.2, linewidth=0)
    return True


def _zoomed_ylim(ax: Axes, curve_sets: list[CurveSet], key: str) -> None:
    """DeepOBS-style y-range: the 20th/80th percentiles of the curves and the final values
    with a 10 % margin, so early epochs do not squeeze the interesting part."""
    centres = [curve_band(cs.curves[key])[0] for cs in curve_sets if key in cs.curves]
    centres = [c[np.isfinite(c)] for c in centres]
    centres = [c for c in centres if c.size]
    if not centres or max(c.size for c in centres) < _ZOOM_MIN_POINTS:
        return
    finals = [c[-1] for c in centres]
    if key.endswith("accuracies"):
        low = min(min(np.percentile(c, 20) for c in centres), *finals)
        high = max(max(c.max() for c in centres), *finals)
    else:
        low = min(min(c.min() for c in centres), *finals)
        high = max(max(np.percentile(c, 80) for c in centres), *finals)
    margin = 0.1 * (high - low) if high > low else 0.1 * abs(high) or 1.0
    ax.set_ylim(low - margin, high + margin)


def _draw_column(
    axes: list[Axes],
    curve_sets: list[CurveSet],
    band: str,
    threshold: float | None,
    has_accuracy: bool,
) -> None:
    for ax, (key, _) in zip(axes, PANELS):
        if key.endswith("accuracies") and not has_accuracy:
            ax.set_axis_off()
            continue
        for curve_set in curve_sets:
            draw_curve(ax, curve_set, key, band)
        is_perf_panel = key == ("test_accuracies" if has_accuracy else "test_losses")
        if threshold is not None and math.isfinite(threshold) and is_perf_panel:
            ax.axhline(threshold, color="grey", linewidth=1, zorder=0.5)
        _zoomed_ylim(ax, curve_sets, key)


def _add_legend(fig: Figure, axes: np.ndarray) -> None:
    """Put the legend into a free (switched-off) panel, else below the figure."""
    handles, labels = {}, []
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    if not labels:
        return
    free = [ax for ax in axes.flat if not ax.axison]
    if free:
        free[0].legend([handles[k] for k in labels], labels, loc="center", frameon=False)
    else:
        fig.legend(
            [handles[k] for k in labels],
            labels,
            loc="outside lower center",
            ncols=min(len(labels), 4),
            frameon=False,
        )


def performance_figure(
    columns: list[tuple[str, list[CurveSet], float | None, bool]],
    band: str = "std",
    title: str | None = None,
) -> Figure:
    """A 4-row grid: test loss, train loss, test accuracy, train accuracy vs epoch.

    Args:
        columns: Per column ``(testproblem, curve sets, convergence threshold or None,
            has_accuracy)``. Accuracy panels of loss-only problems are switched off; the first
            of them holds the legend.
        band: Band over seeds (see :func:`~deepobs.pytorch.analyzer.stats.curve_band`).
        title: Figure title.

    Returns:
        The figure, with ``4 * len(columns)`` axes.
    """
    width = 4.0 * len(columns) if len(columns) > 1 else 6.0
    fig = Figure(figsize=(width, 9.0), layout="constrained")
    axes = fig.subplots(len(PANELS), len(columns), sharex="col", squeeze=False)
    for col, (problem, curve_sets, threshold, has_accuracy) in enumerate(columns):
        _draw_column(list(axes[:, col]), curve_sets, band, threshold, has_accuracy)
        axes[0, col].set_title(problem_title(problem))
        bottom = [ax for ax in axes[:, col] if ax.axison][-1]
        bottom.set_xlabel("epoch")
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        bottom.xaxis.set_tick_params(labelbottom=True)
    for row, (_, label) in enumerate(PANELS):
        axes[row, 0].set_ylabel(label)
    _add_legend(fig, axes)
    if title:
        fig.suptitle(title)
    return fig


def sensitivity_figure(
    lines: list[SensitivityLine],
    xlabel: str,
    ylabel: str,
    xscale: str = "log",
    higher_better: bool = True,
    title: str | None = None,
) -> Figure:
    """Score vs one hyperparameter, one line per optimizer (one axes).

    The line joins the mean over seeds; dots show each seed; settings with a diverged run are
    drawn as ``x`` at the bottom (accuracy) or top (loss) edge: the worst place.
    """
    fig = Figure(figsize=(8.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    edge = blended_transform_factory(ax.transData, ax.transAxes)
    for index, line in enumerate(lines):
        ax.plot(
            line.x,
            line.centre(),
            marker="o",
            color=line.color,
            linestyle=line.linestyle,
            label=line.label,
        )
        seeds_x = np.repeat(line.x, line.scores.shape[1]) if line.scores.size else line.x[:0]
        seeds_y = line.scores.ravel()
        finite = np.isfinite(seeds_y)
        ax.scatter(seeds_x[finite], seeds_y[finite], s=8, color=line.color, alpha=0.4)
        if line.diverged.any():
            offset = 0.03 + 0.04 * index  # staggered so optimizers diverging alike stay visible
            y = offset if higher_better else 1 - offset
            ax.plot(
                line.x[line.diverged],
                np.full(line.diverged.sum(), y),
                "x",
                color=line.color,
                transform=edge,
                clip_on=False,
                label="_diverged",
            )
    ax.set_xscale(xscale)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if any(line.diverged.any() for line in lines):
        ax.plot([], [], "x", color="black", label="diverged")
    fig.legend(loc="outside right upper", frameon=False)
    if title:
        ax.set_title(title)
    return fig
