"""DeepOBS' analyzer under its DeepOBS 1.2 names: ``from deepobs import analyzer``.

``analyzer.plot_optimizer_performance(path)``, ``plot_hyperparameter_sensitivity``,
``plot_testset_performances``, ``plot_results_table``, ``get_performance_dictionary``,
``check_output`` and ``estimate_runtime`` take DeepOBS' arguments (see
:mod:`deepobs.analyzer.analyze`) and are built on :mod:`deepobs.pytorch.analyzer`, which has
the full, modern interface. Everything is imported on first use: importing this package loads
neither matplotlib nor pandas.
"""

from __future__ import annotations

import importlib

_FUNCTIONS = (
    "check_output",
    "estimate_runtime",
    "get_performance_dictionary",
    "plot_hyperparameter_sensitivity",
    "plot_optimizer_performance",
    "plot_results_table",
    "plot_testset_performances",
)

__all__ = [*_FUNCTIONS, "analyze"]


def __getattr__(name: str):
    """Import :mod:`deepobs.analyzer.analyze` on first use of one of its functions."""
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(f"{__name__}.analyze"), name)
    if name == "analyze":
        return importlib.import_module(f"{__name__}.analyze")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
