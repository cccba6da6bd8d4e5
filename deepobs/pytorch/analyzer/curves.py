"""Preparing what the plots draw: best-setting curves and sensitivity points per optimizer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from deepobs.pytorch.analyzer._naming import LOSS_ONLY_PROBLEMS, curve_key, order_optimizers
from deepobs.pytorch.analyzer.plots import PANELS, CurveSet, SensitivityLine
from deepobs.pytorch.analyzer.results import Results, read_results
from deepobs.pytorch.analyzer.select import higher_is_better, rank_settings
from deepobs.pytorch.analyzer.style import LineStyle, line_styles

ResultsLike = str | Path | Results
#: Appended to the legend label of the published DeepOBS 1.1 (TensorFlow) results.
PUBLISHED_SUFFIX = "(published, TF DeepOBS 1.1)"
_SPLIT_NAMES = {"train": "train", "valid": "validation", "test": "test"}


def as_results(source: ResultsLike | None) -> Results | None:
    """Read ``source`` unless it is already loaded (``None`` stays ``None``)."""
    if source is None or isinstance(source, Results):
        return source
    return read_results(source)


def single_problem(results: Results, testproblem: str | None) -> str:
    """``testproblem``, or the only problem in ``results`` if it is ``None``.

    Raises:
        ValueError: if the problem is unknown, or ``None`` while the results hold several.
    """
    problems = results.problems()
    if testproblem is None and len(problems) == 1:
        return problems[0]
    if testproblem in problems:
        return testproblem
    raise ValueError(
        f"Pick a test problem with testproblem=...: got {testproblem!r}, the "
        f"results hold {problems}."
    )


def reference_label(reference: Results, optimizer: str) -> str:
    """Legend label of a reference optimizer.

    ``SGD (published, TF DeepOBS 1.1)`` for the published DeepOBS 1.1 results,
    ``SGD (reference)`` otherwise.
    """
    sources = {r.source for r in reference.runs if r.optimizer == optimizer}
    if sources == {"deepobs-1.1"}:
        return f"{optimizer} {PUBLISHED_SUFFIX}"
    return f"{optimizer} (reference)"


def palette(results: Results, reference: Results | None = None) -> dict[str, LineStyle]:
    """A colour, marker and dash pattern per legend label, the same in every panel.

    Optimizers come first, then reference runs (greys, dashed).
    """
    labels = order_optimizers(results.optimizers())
    references = []
    if reference is not None:
        references = [
            reference_label(reference, o) for o in order_optimizers(reference.optimizers())
        ]
    return line_styles(labels, references)


def best_curve_sets(
    results: Results,
    testproblem: str,
    mode: str = "final",
    metric: str | None = None,
    baseline: bool = False,
    colors: dict[str, LineStyle] | None = None,
) -> list[CurveSet]:
    """The best setting's curves of each optimizer on ``testproblem``, ready to draw.

    ``baseline=True`` labels them as reference runs (see :func:`reference_label`).
    """
    curve_sets = []
    styles = colors or palette(results)
    for i, optimizer in enumerate(order_optimizers(results.optimizers(testproblem))):
        setting = rank_settings(results, testproblem, optimizer, mode, metric)["setting"][0]
        runs = results.groups()[(testproblem, optimizer, setting)]
        keys = [k for k, _ in PANELS if all(k in r.curves for r in runs)]
        label = reference_label(results, optimizer) if baseline else optimizer
        look = styles.get(label, line_styles([label] * (i + 1))[label])
        curve_sets.append(
            CurveSet(
                label=label,
                curves={k: np.stack([r.curves[k] for r in runs]) for k in keys},
                color=look.color,
                linestyle=look.linestyle,
                marker=look.marker,
            )
        )
    return curve_sets


def performance_column(
    problem: str,
    results: Results,
    reference: Results | None,
    mode: str,
    metric: str | None,
    thresholds: dict[str, float],
) -> tuple:
    """One column of a performance figure: ``(problem, curve sets, threshold, has_accuracy)``.

    Baselines from ``reference`` use their setting with the most seeds.
    """
    colors = palette(results, reference)
    curve_sets = []
    if problem in results.problems():
        curve_sets += best_curve_sets(results, problem, mode, metric, colors=colors)
    if reference is not None and problem in reference.problems():
        curve_sets += best_curve_sets(reference, problem, "most", metric, True, colors)
    runs = [
        r for r in results.runs + (reference.runs if reference else []) if r.testproblem == problem
    ]
    has_accuracy = any(r.has_accuracy for r in runs) if runs else problem not in LOSS_ONLY_PROBLEMS
    return problem, curve_sets, thresholds.get(problem), has_accuracy


def metric_label(metric: str) -> str:
    """Axis label of a curve key: ``"test_accuracies"`` -> split name and kind of quantity."""
    split, kind = curve_key(metric)
    return f"{_SPLIT_NAMES[split]} {kind}"


def sensitivity_line(
    results: Results, problem: str, optimizer: str, hyperparam: str, mode: str, metric: str | None
) -> tuple[SensitivityLine, str]:
    """Per value of ``hyperparam``, the best setting with that value and its per-seed scores.

    The other hyperparameters may vary between the settings chosen for different values.
    """
    ranking = rank_settings(results, problem, optimizer, mode, metric)
    metric = ranking["metric"][0]
    groups, points = results.groups(), {}
    for setting in ranking["setting"]:  # best first: the first setting per value wins
        runs = groups[(problem, optimizer, setting)]
        value = runs[0].hyperparams.get(hyperparam)
        if not isinstance(value, int | float) or not math.isfinite(value):
            continue
        curves = np.stack([r.curves[metric] for r in runs])
        best = np.max if higher_is_better(metric) else np.min
        scores = best(curves, axis=1) if mode == "best" else curves[:, -1]
        diverged = bool(np.isnan(curves).any() or any(r.status == "diverged" for r in runs))
        points.setdefault(float(f"{value:.8g}"), (scores, diverged))
    x = np.array(sorted(points))
    width = max((len(points[v][0]) for v in x), default=0)
    scores = np.full((len(x), width), np.nan)
    for i, value in enumerate(x):
        scores[i, : len(points[value][0])] = points[value][0]
    diverged = np.array([points[v][1] for v in x], dtype=bool)
    return SensitivityLine(optimizer, x, scores, diverged), metric


def to_relative(lines: list[SensitivityLine], higher: bool) -> None:
    """Turn ``lines`` in place into DeepOBS 1.1 relative performance, per optimizer.

    Each setting's value is divided by the optimizer's own best (accuracy), or its best is
    divided by the value (loss); the best setting of every line is 1 and diverged settings
    are 0.
    """
    for line in lines:
        mean = line.centre()
        finite = mean[np.isfinite(mean)]
        best = (finite.max() if higher else finite.min()) if finite.size else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            line.scores = line.scores / best if higher else best / line.scores
            line.mean = mean / best if higher else best / mean
        line.scores[line.diverged], line.mean[line.diverged] = 0.0, 0.0
        line.diverged = np.zeros_like(line.diverged)  # drawn at 0, the worst relative value
