"""Hyperparameter tuning: DeepOBS' grid and random search, and Optuna studies.

* :class:`GridSearch`, :class:`RandomSearch` (DeepOBS 1.2): fixed sets of settings, run in
  this process or written as ``deepobs run`` command lines for a cluster scheduler;
  :func:`rerun_setting` reruns the best setting with more seeds; :func:`deepobs_lr_grid` and
  :class:`log_uniform` give the protocol's learning rates.
* :class:`OptunaSearch` (the ``tuner`` extra): TPE, random or grid sampling over a JSON
  :class:`SearchSpace`, in SQLite (embedded) or PostgreSQL studies shared by any number of
  workers; see :mod:`deepobs.pytorch.tuner.optuna_search` for how to start workers.

The same classes are importable under DeepOBS' top-level names, ``from deepobs.tuner import
GridSearch, RandomSearch``. Importing this package does not import Optuna.
"""

from __future__ import annotations

from deepobs.pytorch.tuner.distributions import deepobs_lr_grid, log_uniform
from deepobs.pytorch.tuner.optuna_search import OptunaSearch, StudyOptions, best_setting
from deepobs.pytorch.tuner.rerun import rank_settings, read_settings, rerun_setting
from deepobs.pytorch.tuner.search import TEST_SETS, GridSearch, RandomSearch
from deepobs.pytorch.tuner.space import SearchSpace

__all__ = [
    "TEST_SETS",
    "GridSearch",
    "OptunaSearch",
    "RandomSearch",
    "SearchSpace",
    "StudyOptions",
    "best_setting",
    "deepobs_lr_grid",
    "log_uniform",
    "rank_settings",
    "read_settings",
    "rerun_setting",
]
