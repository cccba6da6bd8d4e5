"""DeepOBS 1.2's ``deepobs.tuner.tuner_utils``: rerunning the best setting, log-uniform draws."""

from __future__ import annotations

from deepobs.pytorch.tuner.distributions import log_uniform
from deepobs.pytorch.tuner.rerun import rerun_setting

__all__ = ["log_uniform", "rerun_setting"]
