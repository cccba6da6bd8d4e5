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
from deepobs.pytorch.analyzer.budget import budget_figure, budget_table
from deepobs.pytorch.analyzer.curves import (
    ResultsLike,
    as_results,
    metric_label,
    palette,
    performance_column,
    reference_label,
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
from deepobs.pytorch.analyzer.profiles import profile_figure, steps_to_target
from deepobs.pytorch.analyzer.results import Results
from deepobs.pytorch.analyzer.select import higher_is_better, warn_mixed_data_orders
from deepobs.pytorch.analyzer.significance import significance_tables
from deepobs.pytorch.analyzer.style import check_style
from deepobs.pytorch.analyzer.tables import STATISTICS_NOTE, results_table, to_latex, to_markdown
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
    style: str = "default",
) -> Figure:
    """Test and train loss (and accuracy, where the problem has it) vs epoch.

    Each optimizer's best setting is drawn as its mean over seeds with a band (``std``, ``ci``,
    ``minmax`` or ``quartiles``); a dotted line marks the convergence threshold. Loss-only
    problems get two panels, others four (see
    :func:`~deepobs.pytorch.analyzer.plots.performance_figure`).

    Args:
        path: Results tree (or a folder in it), or loaded :class:`Results`.
        testproblem: Problem to plot; needed if the results hold several.
        mode: Selection criterion (``final``, ``best``, ``most``).
        metric: Selection metric (default: validation accuracy, else validation loss).
        reference_path: Results drawn dashed as baselines (e.g. the DeepOBS 1.1 baselines).
        band: Band over seeds.
        conv_perf_file: Convergence thresholds (default: the DeepOBS 1.1 values).
        style: Figure style: ``default`` (fits LaTeX's article), ``neurips``, ``icml``,
            ``iclr`` or ``jmlr``.

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
    return performance_figure([column], band=band, style=style)


def plot_testset_performances(
    results_dir: ResultsLike,
    *,
    testset: str | list[str] = "small",
    mode: str = "final",
    metric: str | None = None,
    reference_path: ResultsLike | None = None,
    band: str = "std",
    conv_perf_file: str | Path | None = None,
    style: str = "default",
) -> Figure:
    """The DeepOBS benchmark plot: one column per problem of the set that has results.

    Rows: test loss, train loss and, if a problem has accuracies, test and train accuracy
    (switched off for loss-only problems). Problems of the set without results (yours or the
    reference runs') are left out; the legend is below the grid.

    Args:
        results_dir: Results tree or loaded :class:`Results`.
        testset: ``small``, ``large`` or a list of problem names.
        mode: Selection criterion.
        metric: Selection metric.
        reference_path: Baselines drawn dashed.
        band: Band over seeds.
        conv_perf_file: Convergence thresholds (default: the DeepOBS 1.1 values).
        style: Figure style (see :func:`plot_optimizer_performance`).

    Raises:
        ValueError: for an unknown test set name, or if no problem of the set has results.
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
    available = set(results.problems()) | set(reference.problems() if reference else ())
    problems = [p for p in problems if p in available]
    if not problems:
        raise ValueError(
            f"No problem of the test set {testset!r} has results; the results hold "
            f"{sorted(available)}."
        )
    columns = [
        performance_column(p, results, reference, mode, metric, thresholds) for p in problems
    ]
    return performance_figure(columns, band=band, title=title, style=style)


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
    yscale: str = "auto",
    style: str = "default",
) -> Figure:
    """Final (``mode='best'``: best) value of the selection metric vs one hyperparameter.

    One line per optimizer through the mean over seeds, dots for single seeds; where several
    settings share a value (other hyperparameters varied), the best of them is shown. Settings
    with a diverged run are marked ``x`` at the worst edge. ``relative=True`` plots the DeepOBS
    1.1 relative performance, each optimizer scaled by its own best setting (accuracy / best,
    or best loss / loss; y in [0, 1], diverged = 0). ``yscale='auto'`` switches to a log axis
    when the values span more than a decade (never for relative values).

    Raises:
        ValueError: if the problem is ambiguous or no setting has the hyperparameter.
    """
    results, reference = as_results(path), as_results(reference_path)
    problem = single_problem(results, testproblem)
    styles, lines, metrics = palette(results, reference), [], []
    sources = [(results, False)] + ([(reference, True)] if reference else [])
    for source, is_reference in sources:
        if problem not in source.problems():
            continue
        for optimizer in order_optimizers(source.optimizers(problem)):
            line, used = sensitivity_line(source, problem, optimizer, hyperparam, mode, metric)
            if is_reference:
                line.label = reference_label(source, optimizer)
            look = styles[line.label]
            line.color, line.linestyle, line.marker = look.color, look.linestyle, look.marker
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
        yscale = "linear" if yscale == "auto" else yscale
    return sensitivity_figure(
        lines,
        hyperparam,
        ylabel,
        xscale,
        higher,
        title=problem_title(problem),
        yscale=yscale,
        style=style,
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
    """Performance, Speed, hyperparameters and training parameters of one optimizer's best setting.

    The results are those of the folder ``<results>/<testproblem>/<optimizer>``.

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


def _save_tables(
    results: Results, out: Path, mode: str, metric: str | None, thresholds: dict[str, float]
) -> list[Path]:
    """The results table (with statistics) and the machine-readable CSVs."""
    summary = performance_summary(results, mode, metric, thresholds)
    significance, pairs = significance_tables(results, mode, metric)
    table = results_table(summary, significance)
    written = []
    texts = {
        "results_table.md": to_markdown(table, STATISTICS_NOTE),
        "results_table.tex": to_latex(table, summary, STATISTICS_NOTE),
    }
    for name, text in texts.items():
        written.append(out / name)
        write_text_atomic(written[-1], text)
    frames = {
        "results_summary.csv": summary,
        "statistics.csv": significance,
        "pairwise_tests.csv": pairs,
        "steps_to_target.csv": steps_to_target(results, mode, metric, thresholds),
        "tuning_budget.csv": budget_table(results, mode, metric),
    }
    for name, frame in frames.items():
        written.append(out / name)
        write_text_atomic(written[-1], frame.to_csv(index=False))
    return written


def analyze(
    results_dir: ResultsLike,
    out_dir: str | Path,
    formats: str | list[str] = "png",
    *,
    mode: str = "final",
    metric: str | None = None,
    reference_path: ResultsLike | None = None,
    style: str = "default",
    relative: bool = False,
    band: str = "std",
) -> list[Path]:
    """Write every figure, table and statistic of a results tree to ``out_dir``.

    Figures: per problem ``<problem>_performance``, ``<problem>_lr_sensitivity`` (DeepOBS 1.1's
    relative version with ``relative=True``) and ``<problem>_tuning_budget`` (optimizers with
    several settings); ``benchmark_small``/``benchmark_large`` for each set with results on two
    or more of its problems (yours or the reference runs');
    ``performance_profile`` (two or more optimizers). Tables: ``results_table.md``/``.tex``
    (95 % CIs, bold best, † not significantly different) and the CSVs ``results_summary``,
    ``statistics`` (per optimizer vs the best), ``pairwise_tests`` (Welch and Mann-Whitney,
    Holm-corrected), ``steps_to_target`` and ``tuning_budget``.

    Returns:
        The paths written.

    Raises:
        ValueError: if the tree holds no results, or for an unknown format or style.
    """
    formats, out = parse_formats(formats), Path(out_dir)
    check_style(style)
    results, reference = as_results(results_dir), as_results(reference_path)
    if not len(results):
        raise ValueError(f"No DeepOBS results files under {results_dir}; see the warnings.")
    warn_mixed_data_orders(results.runs + (reference.runs if reference else []), "the figures")
    written: list[Path] = []
    options = {"mode": mode, "metric": metric, "reference_path": reference, "style": style}
    thresholds = load_convergence_thresholds()
    for problem in results.problems():
        fig = plot_optimizer_performance(results, testproblem=problem, band=band, **options)
        written += save_figure(fig, out / f"{problem}_performance", formats)
        try:
            fig = plot_hyperparameter_sensitivity(
                results, testproblem=problem, relative=relative, **options
            )
        except ValueError as err:
            logger.info("No sensitivity plot for %s: %s", problem, err)
        else:
            written += save_figure(fig, out / f"{problem}_lr_sensitivity", formats)
    budget = budget_table(results, mode, metric)
    for problem in results.problems():
        rows = budget[(budget["testproblem"] == problem) & (budget["n_trials"] > 1)]
        if len(rows):
            fig = budget_figure(rows, problem, style)
            written += save_figure(fig, out / f"{problem}_tuning_budget", formats)
    available = set(results.problems()) | set(reference.problems() if reference else ())
    # DeepOBS' two benchmark grids (the ladder's is drawn on request: testset="ladder"); a
    # grid needs two problems with results.
    for name in ("small", "large"):
        problems = TEST_SETS[name]
        if set(problems) & set(results.problems()) and len(set(problems) & available) > 1:
            fig = plot_testset_performances(results, testset=name, band=band, **options)
            written += save_figure(fig, out / f"benchmark_{name}", formats)
    if len(results.optimizers()) > 1:
        fig = profile_figure(steps_to_target(results, mode, metric, thresholds), style)
        written += save_figure(fig, out / "performance_profile", formats)
    written += _save_tables(results, out, mode, metric, thresholds)
    return written


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
