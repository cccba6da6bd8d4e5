"""Runners: train a test problem with an optimizer and write DeepOBS results.

``StandardRunner(optimizer_class, hyperparameter_names).run(...)`` is the main entry point;
subclass :class:`PTRunner` for your own training loop.
"""

from deepobs.pytorch.runners.batched import BatchedSeedRunner
from deepobs.pytorch.runners.lr_schedule import LearningRateScheduleRunner
from deepobs.pytorch.runners.runner import PTRunner
from deepobs.pytorch.runners.standard import StandardRunner
from deepobs.pytorch.runners.training_run import TrainingRun

__all__ = [
    "BatchedSeedRunner",
    "LearningRateScheduleRunner",
    "PTRunner",
    "StandardRunner",
    "TrainingRun",
]
