"""Drawing the DeepOBS figures from prepared curves (no file reading, no pyplot).

Figures are built as :class:`matplotlib.figure.Figure` objects: no backend is selected, no
global ``rcParams`` change and nothing is shown. Sizes and fonts come from a style
(:mod:`deepobs.pytorch.analyzer.style`), applied with ``rc_context`` while a figure is built.
Every line has a colour *and* a marker (and references a dash pattern), and the legend says
what the band is and over how many seeds. The path-based entry points that prepare the curves
are in :mod:`deepobs.pytorch.analyzer.result_analysis`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from deepobs.pytorch.analyzer._naming import problem_title
from deepobs.pytorch.analyzer.stats import curve_band
from deepobs.pytorch.analyzer.style import figure_size, plain_log_ticks, style_rc

#: The panels of the performance plots: (list name, y label).
PANELS = (
    ("test_losses", "test loss"),
    ("train_losses", "train loss"),
    ("test_accuracies", "test accuracy"),
    ("train_accuracies", "train accuracy"),
)
#: Below this many epochs the y-range shows whole curves instead of zooming in.
_ZOOM_MIN_POINTS = 10
#: What the line and the band show, per band kind (legend title).
CENTRE_TEXT = {"std": "mean", "ci": "mean", "minmax": "mean", "quartiles": "median"}
BAND_TEXT = {
    "std": "±1 std",
    "ci": "95 pct. confidence interval",
    "minmax": "min to max",
    "quartiles": "25th to 75th percentile",
}
#: Label of the legend entry of off-scale points.
CLIPPED_LABEL = "off the axis (clipped)"
THRESHOLD_LABEL = "convergence threshold"


@dataclass
class CurveSet:
    """The curves of one setting to draw: one line (and band) per panel.

    Attributes:
        label: Legend label.
        curves: Per-seed curves (``seeds x epochs``) by DeepOBS list name.
        color: Matplotlib colour.
        linestyle: Matplotlib line style (references are dashed).
        marker: Marker drawn on the line (a few per line).
    """

    label: str
    curves: dict[str, np.ndarray]
    color: str = "C0"
    linestyle: str | tuple = "-"
    marker: str = "o"

    @property
    def n_seeds(self) -> int:
        """Number of seeds (rows) of the curves."""
        return max((len(c) for c in self.curves.values()), default=0)


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
        marker: Marker of the line's points.
    """

    label: str
    x: np.ndarray
    scores: np.ndarray
    diverged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    color: str = "C0"
    linestyle: str | tuple = "-"
    mean: np.ndarray | None = None
    marker: str = "o"

    def __post_init__(self) -> None:
        if self.diverged.size != self.x.size:  # not given: no setting diverged
            self.diverged = np.zeros(self.x.size, dtype=bool)

    def centre(self) -> np.ndarray:
        """The line: ``mean`` if set, else the mean over seeds; NaN where diverged."""
        if self.mean is not None:
            values = self.mean
        else:
            with warnings.catch_warnings():  # all-NaN rows: diverged settings
                warnings.simplefilter("ignore", RuntimeWarning)
                values = np.nanmean(self.scores, axis=1) if self.scores.size else self.x * np.nan
        return np.where(self.diverged, np.nan, values)


def _markevery(n_points: int) -> int:
    return max(1, n_points // 6)


def draw_curve(ax: Axes, curve_set: CurveSet, key: str, band: str = "std") -> bool:
    """Draw the centre line and band of ``curve_set.curves[key]``; False if it has none."""
    curves = curve_set.curves.get(key)
    if curves is None:
        return False
    centre, low, high = curve_band(curves, band)
    epochs = np.arange(centre.size)
    ax.plot(
        epochs,
        centre,
        color=curve_set.color,
        linestyle=curve_set.linestyle,
        marker=curve_set.marker,
        markevery=_markevery(centre.size),
        label=curve_set.label,
    )
    if len(curves) > 1:
        ax.fill_between(epochs, low, high, color=curve_set.color, alpha=0.2, linewidth=0)
    return True


def _zoomed_ylim(ax: Axes, curve_sets: list[CurveSet], key: str) -> None:
    """Set a DeepOBS-style y-range on ``ax``.

    The range spans the 20th/80th percentiles of the curves and the final values with a 10 %
    margin, so early epochs do not squeeze the interesting part.
    """
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


def _mark_clipped(ax: Axes, curve_sets: list[CurveSet], key: str, band: str) -> bool:
    """Draw a triangle at the axis edge where a line's epoch 0 is outside the y-range.

    Called after zooming in; returns True if any triangle was drawn.
    """
    low, high = ax.get_ylim()
    edge = blended_transform_factory(ax.transData, ax.transAxes)
    any_clipped = False
    for cs in curve_sets:
        if key not in cs.curves:
            continue
        first = curve_band(cs.curves[key], band)[0][0]
        for clipped, marker, y in ((first > high, "^", 1.0), (first < low, "v", 0.0)):
            if clipped:
                ax.plot(
                    [0],
                    [y],
                    marker,
                    color=cs.color,
                    transform=edge,
                    clip_on=False,
                    markersize=4,
                    label="_clipped",
                )
                any_clipped = True
    return any_clipped


def _legend_title(curve_sets: list[CurveSet], band: str) -> str:
    """``line: mean, band: ±1 std over 3 seeds`` (a range if the seed counts differ)."""
    seeds = sorted({cs.n_seeds for cs in curve_sets if cs.n_seeds})
    if not seeds:
        return ""
    count = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]} to {seeds[-1]}"
    plural = "s" if seeds[-1] > 1 else ""
    return f"line: {CENTRE_TEXT[band]}, band: {BAND_TEXT[band]} over {count} seed{plural}"


def legend_columns(width_in: float, labels: list[str]) -> int:
    """As many legend columns as fit ``width_in`` with the longest label.

    A label takes about 0.55 em per character plus the line sample.
    """
    em = mpl.rcParams["legend.fontsize"]
    em = em if isinstance(em, int | float) else mpl.rcParams["font.size"]
    entry_pt = (max((len(label) for label in labels), default=1) * 0.55 + 5.0) * float(em)
    fits = int(width_in * 72 // entry_pt)
    return max(1, min(len(labels), fits, 4))


def legend_rows(width_in: float, labels: list[str]) -> int:
    """Lines the legend of ``labels`` takes (with its title)."""
    return math.ceil(len(labels) / legend_columns(width_in, labels)) + 1


def _figure_legend(fig: Figure, axes: list[Axes], title: str, extra: list[tuple]) -> None:
    """One legend below the figure with each label once (in drawing order)."""
    handles: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    for handle, label in extra:
        handles.setdefault(label, handle)
    if not handles:
        return
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncols=legend_columns(fig.get_figwidth(), list(handles)),
        title=title or None,
        title_fontsize=mpl.rcParams["legend.fontsize"],
        frameon=False,
    )


def _draw_panel(
    ax: Axes, key: str, curve_sets: list[CurveSet], band: str, threshold: float | None
) -> tuple[bool, bool]:
    """Curves, threshold, zoom and clip marks of one panel; (threshold drawn, any clipped)."""
    for curve_set in curve_sets:
        draw_curve(ax, curve_set, key, band)
    drawn = threshold is not None and math.isfinite(threshold)
    if drawn:
        ax.axhline(
            threshold,
            color="black",
            linewidth=0.8,
            linestyle=":",
            zorder=0.5,
            label=THRESHOLD_LABEL,
        )
    _zoomed_ylim(ax, curve_sets, key)
    return drawn, _mark_clipped(ax, curve_sets, key, band)


def _extra_entries(clipped: bool) -> list[tuple]:
    if not clipped:
        return []
    return [
        (Line2D([], [], marker="^", color="black", linestyle="none", markersize=4), CLIPPED_LABEL)
    ]


def _epoch_axis(ax: Axes) -> None:
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.xaxis.set_tick_params(labelbottom=True)


def performance_figure(
    columns: list[tuple[str, list[CurveSet], float | None, bool]],
    band: str = "std",
    title: str | None = None,
    style: str = "default",
) -> Figure:
    """Loss and accuracy curves vs epoch, for one problem or a benchmark set.

    One problem: a 2 x 2 grid (test/train loss above test/train accuracy), or 1 x 2 (losses)
    for a loss-only problem. Several problems: one column per problem and one row per
    quantity (test loss, train loss and, if any problem has them, test and train accuracy);
    accuracy panels of loss-only problems are switched off. The convergence threshold is a
    dotted line in the panel of the DeepOBS Performance metric; one legend below the figure
    names every line and says what the band shows.

    Args:
        columns: Per problem ``(testproblem, curve sets, convergence threshold or None,
            has_accuracy)``.
        band: Band over seeds (see :func:`~deepobs.pytorch.analyzer.stats.curve_band`).
        title: Figure title.
        style: Figure style (see :mod:`deepobs.pytorch.analyzer.style`).

    Returns:
        The figure.
    """
    any_accuracy = any(col[3] for col in columns)
    keys = [k for k, _ in PANELS if any_accuracy or not k.endswith("accuracies")]
    ylabels = dict(PANELS)
    single = len(columns) == 1
    rc = style_rc(style, full_width=not single)
    with mpl.rc_context(rc):
        nrows, ncols = (len(keys) // 2, 2) if single else (len(keys), len(columns))
        labels = list(dict.fromkeys(cs.label for col in columns for cs in col[1]))
        labels += [THRESHOLD_LABEL, CLIPPED_LABEL]
        rows = legend_rows(rc["figure.figsize"][0], labels)
        fig = Figure(figsize=figure_size(rc, nrows, ncols, 0.75, rows), layout="constrained")
        grid = fig.subplots(nrows, ncols, squeeze=False, sharex=not single)
        all_sets, clipped = [], False
        for col, (problem, curve_sets, threshold, has_accuracy) in enumerate(columns):
            all_sets += curve_sets
            perf_key = "test_accuracies" if has_accuracy else "test_losses"
            cells = (
                [(grid.flat[i], k) for i, k in enumerate(keys)]
                if single
                else [(grid[row, col], k) for row, k in enumerate(keys)]
            )
            for ax, key in cells:
                if key.endswith("accuracies") and not has_accuracy:
                    ax.set_axis_off()
                    continue
                _, clip = _draw_panel(
                    ax, key, curve_sets, band, threshold if key == perf_key else None
                )
                clipped |= clip
                if single or col == 0:
                    ax.set_ylabel(ylabels[key])
            if not single:
                grid[0, col].set_title(problem_title(problem))
                _epoch_axis([ax for ax, _ in cells if ax.axison][-1])
        if single:
            for ax in grid[-1]:
                _epoch_axis(ax)
            name = problem_title(columns[0][0])
            fig.suptitle(f"{title}: {name}" if title else name)
        elif title:
            fig.suptitle(title)
        _figure_legend(fig, list(grid.flat), _legend_title(all_sets, band), _extra_entries(clipped))
    return fig


def _spans_decades(values: np.ndarray) -> bool:
    values = values[np.isfinite(values)]
    return bool(values.size) and values.min() > 0 and values.max() > 10 * values.min()


def sensitivity_figure(
    lines: list[SensitivityLine],
    xlabel: str,
    ylabel: str,
    xscale: str = "log",
    higher_better: bool = True,
    title: str | None = None,
    yscale: str = "auto",
    style: str = "default",
) -> Figure:
    """Score vs one hyperparameter, one line per optimizer (one axes).

    The line joins the mean over seeds; dots show each seed; settings with a diverged run are
    drawn as ``x`` at the bottom (accuracy) or top (loss) edge: the worst place.
    ``yscale='auto'`` uses a log axis when the positive values span more than a decade.
    """
    rc = style_rc(style)
    with mpl.rc_context(rc):
        labels = [line.label for line in lines] + ["diverged"]
        rows = legend_rows(rc["figure.figsize"][0], labels)
        size = figure_size(rc, 1, 1, max_row_in=2.2, legend_rows=rows)
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.add_subplot()
        edge = blended_transform_factory(ax.transData, ax.transAxes)
        values = [line.scores.ravel() for line in lines] + [line.centre() for line in lines]
        values = np.concatenate(values) if values else np.zeros(0)
        if yscale == "auto":
            yscale = "log" if _spans_decades(values) else "linear"
        for index, line in enumerate(lines):
            ax.plot(
                line.x,
                line.centre(),
                marker=line.marker,
                color=line.color,
                linestyle=line.linestyle,
                label=line.label,
            )
            seeds_x = np.repeat(line.x, line.scores.shape[1]) if line.scores.size else line.x[:0]
            seeds_y = line.scores.ravel()
            finite = np.isfinite(seeds_y) & ((seeds_y > 0) if yscale == "log" else True)
            ax.scatter(
                seeds_x[finite], seeds_y[finite], s=5, color=line.color, alpha=0.4, linewidths=0
            )
            if line.diverged.any():
                offset = 0.03 + 0.04 * index  # staggered so optimizers diverging alike show
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
        ax.set_yscale(yscale)
        for axis, scale in ((ax.xaxis, xscale), (ax.yaxis, yscale)):
            if scale == "log":
                plain_log_ticks(axis)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if any(line.diverged.any() for line in lines):
            ax.plot([], [], "x", color="black", label="diverged")
        seeds = sorted({int(np.isfinite(line.scores).sum(axis=1).max(initial=0)) for line in lines})
        note = f"line: mean over seeds (dots: single seeds, up to {seeds[-1]})" if seeds else ""
        handles, labels = ax.get_legend_handles_labels()
        ncols = legend_columns(fig.get_figwidth(), labels)
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=ncols,
            title=note or None,
            title_fontsize=mpl.rcParams["legend.fontsize"],
            frameon=False,
        )
        if title:
            ax.set_title(title)
    return fig
