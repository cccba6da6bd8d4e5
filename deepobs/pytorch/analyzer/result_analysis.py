"""Entry points: plots and tables from a results path (or an already loaded :class:`Results`).

Every plot function returns a :class:`matplotlib.figure.Figure` and never shows it; save it
with :func:`deepobs.pytorch.analyzer.tikz.save_figure` (PNG, PDF, TikZ). Each optimizer is
drawn with its best setting under ``mode``/``metric`` (see
:mod:`deepobs.pytorch.analyzer.select`); reference results (e.g. the DeepOBS 1.1 baselines)
are drawn dashed, each with its setting that has the most seeds.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from deepobs.pytorch.analyzer._naming import TEST_SETS, order_optimizers, problem_title
from deepobs.pytorch.analyzer.curves import (
    ResultsLike,
    as_results,
    metric_label,
    palette,
    performance_column,
    sensitivity_line,
    single_problem,
    to_relative,
)
from deepobs.pytorch.analyzer.metrics import (
    load_convergence_thresholds,
    performance_summary,
    score_optimizer,
)
from deepobs.pytorch.analyzer.plots import performance_figure, sensitivity_figure
from deepobs.pytorch.analyzer.select import higher_is_better
from deepobs.pytorch.analyzer.tables import results_table, to_latex, to_markdown
from deepobs.pytorch.analyzer.tikz import parse_formats, save_figure

logger = logging.getLogger(__name__)


def plot_optimizer_performance(
    path: ResultsLike,
    *,
    testproblem: str | None = None,
    mode: str = "final",
    metric: str | None = None,
    reference_path: ResultsLike | None = None,
    band: str = "std",
    conv_perf_file: str | Path | None = None,
) -> Figure:
    """Test loss, train loss, test accuracy and train accuracy vs epoch (4 axes, one column).

    Each optimizer's best setting is drawn as its mean over seeds with a band (``std``, ``ci``,
    ``minmax`` or ``quartiles``); a grey line marks the convergence threshold.

    Args:
        path: Results tree (or a folder in it), or loaded :class:`Results`.
        testproblem: Problem to plot; needed if the results hold several.
        mode: Selection criterion (``final``, ``best``, ``most``).
        metric: Selection metric (default: validation accuracy, else validation loss).
        reference_path: Results drawn dashed as baselines (e.g. the DeepOBS 1.1 baselines).
        band: Band over seeds.
        conv_perf_file: Convergence thresholds (default: the DeepOBS 1.1 values).

    Raises:
        ValueError: if the problem is ambiguous or unknown.
    """
    results = as_results(path)
    problem = single_problem(results, testproblem)
    column = performance_column(
        problem,
        results,
        as_results(reference_path),
        mode,
        metric,
        load_convergence_thresholds(conv_perf_file),
    )
    return performance_figure([column], band=band)


def plot_testset_performances(
    results_dir: ResultsLike,
    *,
    testset: str | list[str] = "small",
    mode: str = "final",
    metric: str | None = None,
    reference_path: ResultsLike | None = None,
    band: str = "std",
    conv_perf_file: str | Path | None = None,
) -> Figure:
    """The DeepOBS benchmark plot: a 4 x (number of problems) grid, columns P1-P4 or P5-P8.

    Rows: test loss, train loss, test accuracy, train accuracy. Loss-only problems have their
    accuracy panels switched off; the first free panel holds the legend. Problems without
    results stay empty (baselines, if given, are still drawn).

    Args:
        results_dir: Results tree or loaded :class:`Results`.
        testset: ``small``, ``large`` or a list of problem names.
        mode: Selection criterion.
        metric: Selection metric.
        reference_path: Baselines drawn dashed.
        band: Band over seeds.
        conv_perf_file: Convergence thresholds (default: the DeepOBS 1.1 values).

    Raises:
        ValueError: for an unknown test set name.
    """
    if isinstance(testset, str):
        if testset not in TEST_SETS:
            raise ValueError(
                f"Unknown test set {testset!r}. Valid: {', '.join(TEST_SETS)} "
                "or a list of test problem names."
            )
        problems, title = list(TEST_SETS[testset]), f"Benchmark Set {testset.capitalize()}"
    else:
        problems, title = list(testset), None
    results, reference = as_results(results_dir), as_results(reference_path)
    thresholds = load_convergence_thresholds(conv_perf_file)
    columns = [
        performance_column(p, results, reference, mode, metric, thresholds) for p in problems
    ]
    return performance_figure(columns, band=band, title=title)


def plot_hyperparameter_sensitivity(
    path: ResultsLike,
    *,
    testproblem: str | None = None,
    hyperparam: str = "lr",
    mode: str = "final",
    metric: str | None = None,
    xscale: str = "log",
    reference_path: ResultsLike | None = None,
    relative: bool = False,
) -> Figure:
    """Final (``mode='best'``: best) value of the selection metric vs one hyperparameter.

    One line per optimizer through the mean over seeds, dots for single seeds; where several
    settings share a value (other hyperparameters varied), the best of them is shown. Settings
    with a diverged run are marked ``x`` at the worst edge. ``relative=True`` plots the DeepOBS
    1.1 relative performance (accuracy / best, or best loss / loss; y in [0, 1]).

    Raises:
        ValueError: if the problem is ambiguous or no setting has the hyperparameter.
    """
    results, reference = as_results(path), as_results(reference_path)
    problem = single_problem(results, testproblem)
    colors, lines, metrics = palette(results, reference), [], []
    sources = [(results, False)] + ([(reference, True)] if reference else [])
    for source, is_reference in sources:
        if problem not in source.problems():
            continue
        for optimizer in order_optimizers(source.optimizers(problem)):
            line, used = sensitivity_line(source, problem, optimizer, hyperparam, mode, metric)
            if is_reference:
                line.label, line.linestyle = f"{optimizer} (baseline)", "--"
            line.color = colors[line.label]
            if metrics and used != metrics[0]:  # e.g. 1.1 baselines: test instead of valid
                line.label += f" [{metric_label(used)}]"
            lines.append(line)
            metrics.append(used)
    lines = [line for line in lines if line.x.size]
    if not lines:
        raise ValueError(f"No setting on {problem!r} has a numeric hyperparameter {hyperparam!r}.")
    higher = higher_is_better(metrics[0])
    ylabel = f"{'best' if mode == 'best' else 'final'} {metric_label(metrics[0])}"
    if relative:
        to_relative(lines, higher)
        ylabel, higher = f"relative {ylabel}", True
    return sensitivity_figure(
        lines, hyperparam, ylabel, xscale, higher, title=problem_title(problem)
    )


def plot_results_table(
    results_dir: ResultsLike,
    *,
    mode: str = "final",
    metric: str | None = None,
    conv_perf_file: str | Path | None = None,
) -> pd.DataFrame:
    """The DeepOBS table: Performance / Speed / Tuneability per problem and optimizer.

    Returns:
        Strings indexed by ``(testproblem, quantity)``, one column per optimizer. Render with
        :func:`~deepobs.pytorch.analyzer.tables.to_markdown` or ``to_latex``; the numbers
        behind it come from :func:`~deepobs.pytorch.analyzer.metrics.performance_summary`.
    """
    summary = performance_summary(
        as_results(results_dir), mode, metric, load_convergence_thresholds(conv_perf_file)
    )
    return results_table(summary)


def get_performance_dictionary(
    optimizer_path: ResultsLike,
    mode: str = "final",
    metric: str | None = None,
    conv_perf_file: str | Path | None = None,
) -> dict:
    """Performance, Speed, hyperparameters and training parameters of one optimizer's best
    setting (the folder ``<results>/<testproblem>/<optimizer>``).

    Raises:
        ValueError: if the path holds more than one problem or optimizer.
    """
    results = as_results(optimizer_path)
    problem = single_problem(results, None)
    optimizers = results.optimizers(problem)
    if len(optimizers) != 1:
        raise ValueError(
            f"{optimizer_path} holds optimizers {optimizers}; pass one optimizer's folder."
        )
    score = score_optimizer(
        results, problem, optimizers[0], mode, metric, load_convergence_thresholds(conv_perf_file)
    )
    runs = results.groups()[(problem, optimizers[0], score["setting"])]
    return {
        "Performance": score["performance"],
        "Speed": score["speed"],
        "Hyperparameters": runs[0].hyperparams,
        "Training Parameters": runs[0].training_params,
        **score,
    }


def analyze(
    results_dir: ResultsLike,
    out_dir: str | Path,
    formats: str | list[str] = "png",
    *,
    mode: str = "final",
    metric: str | None = None,
    reference_path: ResultsLike | None = None,
) -> list[Path]:
    """Write every plot and the table of a results tree to ``out_dir``; return the paths.

    Per problem ``<problem>_performance`` and ``<problem>_lr_sensitivity``; for each
    benchmark set with results ``benchmark_small``/``benchmark_large``; the table as
    ``results_table.md``, ``results_table.tex`` and ``results_summary.csv``.

    Raises:
        ValueError: if the tree holds no results, or for an unknown format.
    """
    formats, out = parse_formats(formats), Path(out_dir)
    results, reference = as_results(results_dir), as_results(reference_path)
    if not len(results):
        raise ValueError(f"No DeepOBS results files under {results_dir}; see the warnings.")
    written: list[Path] = []
    options = {"mode": mode, "metric": metric, "reference_path": reference}
    for problem in results.problems():
        fig = plot_optimizer_performance(results, testproblem=problem, **options)
        written += save_figure(fig, out / f"{problem}_performance", formats)
        try:
            fig = plot_hyperparameter_sensitivity(results, testproblem=problem, **options)
        except ValueError as err:
            logger.info("No sensitivity plot for %s: %s", problem, err)
        else:
            written += save_figure(fig, out / f"{problem}_lr_sensitivity", formats)
    for name, problems in TEST_SETS.items():
        if set(problems) & set(results.problems()):
            fig = plot_testset_performances(results, testset=name, **options)
            written += save_figure(fig, out / f"benchmark_{name}", formats)
    summary = performance_summary(results, mode, metric, load_convergence_thresholds())
    table = results_table(summary)
    for suffix, text in ((".md", to_markdown(table)), (".tex", to_latex(table, summary))):
        written.append(out / f"results_table{suffix}")
        written[-1].write_text(text, encoding="utf-8")
    written.append(out / "results_summary.csv")
    summary.to_csv(written[-1], index=False)
    return written
