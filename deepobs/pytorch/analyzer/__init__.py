"""Analysis of DeepOBS results: loading, best-setting selection, plots, tables, TikZ.

Needs the ``analyzer`` extra (``pip install "deepobs[analyzer]"``: pandas, matplotlib,
matplot2tikz). Importing :mod:`deepobs.pytorch` does not import this package.

The path-based entry points (``plot_optimizer_performance``, ``plot_results_table``, ...) live
in :mod:`deepobs.pytorch.analyzer.result_analysis`; the building blocks are split by concept:
:mod:`.load` (reading the three results formats), :mod:`.results` (a tree in memory, the
tidy table), :mod:`.stats` (aggregation over seeds),
:mod:`.select` (ranking settings), :mod:`.metrics` (Performance, Speed), :mod:`.plots`,
:mod:`.tables`, :mod:`.tikz`, :mod:`.check` and :mod:`.runtime`.
"""

from __future__ import annotations

from deepobs.pytorch.analyzer._deps import require

require("pandas", "matplotlib")

from deepobs.pytorch.analyzer.check import OutputReport, check_output  # noqa: E402
from deepobs.pytorch.analyzer.load import Run  # noqa: E402
from deepobs.pytorch.analyzer.result_analysis import (  # noqa: E402
    analyze,
    get_performance_dictionary,
    plot_hyperparameter_sensitivity,
    plot_optimizer_performance,
    plot_results_table,
    plot_testset_performances,
)
from deepobs.pytorch.analyzer.results import Results, load_results, read_results  # noqa: E402
from deepobs.pytorch.analyzer.runtime import RuntimeEstimate, estimate_runtime  # noqa: E402
from deepobs.pytorch.analyzer.select import best_setting, rank_settings  # noqa: E402
from deepobs.pytorch.analyzer.stats import aggregate, t_quantile  # noqa: E402
from deepobs.pytorch.analyzer.tikz import figure_to_tikz, save_figure  # noqa: E402

__all__ = [
    "OutputReport",
    "Results",
    "Run",
    "RuntimeEstimate",
    "aggregate",
    "analyze",
    "best_setting",
    "check_output",
    "estimate_runtime",
    "figure_to_tikz",
    "get_performance_dictionary",
    "load_results",
    "plot_hyperparameter_sensitivity",
    "plot_optimizer_performance",
    "plot_results_table",
    "plot_testset_performances",
    "rank_settings",
    "read_results",
    "save_figure",
    "t_quantile",
]
