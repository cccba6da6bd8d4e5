"""Runners: train a test problem with an optimizer and write DeepOBS results.

``StandardRunner(optimizer_class, hyperparameter_names).run(...)`` is the main entry point;
subclass :class:`PTRunner` for your own training loop.
"""

from deepobs.pytorch.runners.lr_schedule import LearningRateScheduleRunner
from deepobs.pytorch.runners.runner import PTRunner
from deepobs.pytorch.runners.standard import StandardRunner

__all__ = ["LearningRateScheduleRunner", "PTRunner", "StandardRunner"]
