"""DeepOBS: a deep-learning optimizer benchmark suite, implemented in PyTorch.

The subpackages load on first use, as attributes or by import, so ``import deepobs`` stays
light: ``deepobs.pytorch`` (problems, data sets, runners), ``deepobs.config`` (settings shared
by all parts), ``deepobs.analyzer`` and ``deepobs.tuner`` (DeepOBS' top-level names for
:mod:`deepobs.pytorch.analyzer` and :mod:`deepobs.pytorch.tuner`).
"""

from __future__ import annotations

import importlib

__version__ = "1.2.0"

_SUBMODULES = ("analyzer", "config", "pytorch", "tuner")

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str):
    """Import a subpackage the first time it is used as an attribute (``deepobs.config``)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
