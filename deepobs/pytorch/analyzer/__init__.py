"""Analysis of DeepOBS results: loading, best-setting selection, plots, tables, TikZ.

Needs the ``analyzer`` extra (``pip install "deepobs[analyzer]"``: pandas, matplotlib, scipy,
tueplots). Importing :mod:`deepobs.pytorch` does not import this package.

The path-based entry points (``plot_optimizer_performance``, ``plot_results_table``, ...) live
in :mod:`deepobs.pytorch.analyzer.result_analysis`; the building blocks are split by concept:
:mod:`.load` (reading the three results formats), :mod:`.results` (a tree in memory, the
tidy table), :mod:`.stats` (aggregation over seeds),
:mod:`.select` (ranking settings), :mod:`.metrics` (Performance, Speed), :mod:`.plots`,
:mod:`.tables`, :mod:`.tikz` (PNG/PDF/PGF export), :mod:`.style` (sizes for a paper column),
:mod:`.significance` (CIs, pairwise tests), :mod:`.profiles` (steps to target, performance
profiles), :mod:`.budget` (tuning-budget curves), :mod:`.report` (HTML/Markdown report),
:mod:`.check` and :mod:`.runtime`.
"""

from __future__ import annotations

from deepobs.pytorch.analyzer._deps import require

require("pandas", "matplotlib")

from deepobs.pytorch.analyzer.budget import budget_table, expected_best  # noqa: E402
from deepobs.pytorch.analyzer.check import OutputReport, check_output  # noqa: E402
from deepobs.pytorch.analyzer.load import Run  # noqa: E402
from deepobs.pytorch.analyzer.profiles import (  # noqa: E402
    performance_profile,
    steps_to_target,
)
from deepobs.pytorch.analyzer.report import write_report  # noqa: E402
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
from deepobs.pytorch.analyzer.significance import (  # noqa: E402
    compare_to_best,
    confidence_interval,
    pairwise_tests,
    significance_tables,
)
from deepobs.pytorch.analyzer.stats import aggregate, t_quantile  # noqa: E402
from deepobs.pytorch.analyzer.style import STYLES  # noqa: E402
from deepobs.pytorch.analyzer.tikz import (  # noqa: E402
    LATEX_PREAMBLE,
    figure_to_pgf,
    figure_to_tikz,
    save_figure,
)

__all__ = [
    "LATEX_PREAMBLE",
    "STYLES",
    "OutputReport",
    "Results",
    "Run",
    "RuntimeEstimate",
    "aggregate",
    "analyze",
    "best_setting",
    "budget_table",
    "check_output",
    "compare_to_best",
    "confidence_interval",
    "estimate_runtime",
    "expected_best",
    "figure_to_pgf",
    "figure_to_tikz",
    "get_performance_dictionary",
    "load_results",
    "pairwise_tests",
    "performance_profile",
    "plot_hyperparameter_sensitivity",
    "plot_optimizer_performance",
    "plot_results_table",
    "plot_testset_performances",
    "rank_settings",
    "read_results",
    "save_figure",
    "significance_tables",
    "steps_to_target",
    "t_quantile",
    "write_report",
]
