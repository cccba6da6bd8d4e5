"""DeepOBS' tuners under their DeepOBS 1.2 names: ``from deepobs.tuner import GridSearch``.

The classes are those of :mod:`deepobs.pytorch.tuner` (same arguments as in DeepOBS:
``GridSearch(optimizer_class, hyperparam_names, grid, ressources, runner)``,
``RandomSearch(optimizer_class, hyperparam_names, distributions, ressources, runner)``,
``tune(testproblem, output_dir, random_seed, rerun_best_setting, **run_kwargs)``). They are
imported on first use, so importing this package loads neither torch nor the runners.
DeepOBS' Gaussian-process tuner ``GP`` is not part of this package; use
:class:`deepobs.pytorch.tuner.OptunaSearch` for adaptive search.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "GridSearch": "deepobs.pytorch.tuner.search",
    "RandomSearch": "deepobs.pytorch.tuner.search",
    "Tuner": "deepobs.pytorch.tuner.search",
    "OptunaSearch": "deepobs.pytorch.tuner.optuna_search",
    "SearchSpace": "deepobs.pytorch.tuner.space",
    "rerun_setting": "deepobs.pytorch.tuner.rerun",
    "log_uniform": "deepobs.pytorch.tuner.distributions",
}
_SUBMODULES = ("tuner_utils",)

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


def __getattr__(name: str):
    """Resolve an exported name on first use."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "GP":
        raise ImportError(
            "DeepOBS' Gaussian-process tuner GP (bayes_opt) is not part of this package. "
            "Use deepobs.pytorch.tuner.OptunaSearch (sampler 'tpe') for adaptive search."
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
