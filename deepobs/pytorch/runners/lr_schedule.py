"""``LearningRateScheduleRunner``: the standard loop with a piecewise-constant learning rate.

Training epoch ``e`` (0-based) uses ``base_lr`` if ``e < lr_sched_epochs[0]``, else
``lr_sched_factors[i] * base_lr`` for the largest ``i`` with ``lr_sched_epochs[i] <= e``
(factors relative to the base rate, not cumulative; reference §5.2).
"""

from __future__ import annotations

import logging
import math

from deepobs.pytorch.runners._callbacks import current_run
from deepobs.pytorch.runners.standard import StandardRunner

logger = logging.getLogger(__name__)


def schedule_factor(epoch: int, lr_sched_epochs, lr_sched_factors) -> float:
    """Factor of the base learning rate for training epoch ``epoch``."""
    factor = 1.0
    for start, f in zip(lr_sched_epochs, lr_sched_factors, strict=True):
        if epoch >= start:
            factor = f
    return factor


def check_schedule(lr_sched_epochs, lr_sched_factors) -> tuple[list[int], list[float]]:
    """Validate a schedule; both lists must have one entry per change of the rate."""
    if lr_sched_epochs is None and lr_sched_factors is None:
        return [], []
    if lr_sched_epochs is None or lr_sched_factors is None:
        raise ValueError("Give both lr_sched_epochs and lr_sched_factors, or neither.")
    epochs = list(lr_sched_epochs)
    try:
        factors = [float(f) for f in lr_sched_factors]
    except (TypeError, ValueError) as err:
        raise ValueError(f"lr_sched_factors must be numbers, got {lr_sched_factors!r}.") from err
    if len(epochs) != len(factors):
        raise ValueError(
            f"lr_sched_epochs {epochs} and lr_sched_factors {factors} must have equal length."
        )
    if any(not isinstance(e, int) or e < 0 for e in epochs) or epochs != sorted(set(epochs)):
        raise ValueError(f"lr_sched_epochs must be increasing non-negative integers, got {epochs}.")
    if any(not math.isfinite(f) or f < 0 for f in factors):
        raise ValueError(
            f"lr_sched_factors must be finite and >= 0 (factors of the base learning rate), "
            f"got {factors}. A negative factor would ascend the loss."
        )
    return epochs, factors


class LearningRateScheduleRunner(StandardRunner):
    """Standard runner plus the training parameters ``lr_sched_epochs``/``lr_sched_factors``.

    The schedule and the base learning rates live in the run's ``schedule_state`` (saved in
    checkpoints). A non-empty schedule goes into the setting folder name.
    """

    def training(
        self,
        tproblem,
        hyperparams,
        num_epochs,
        print_train_iter,
        train_log_interval,
        tb_log,
        tb_log_dir,
        lr_sched_epochs=None,
        lr_sched_factors=None,
        **options,
    ):
        """Standard training with the learning rate set before each epoch.

        ``options`` are the standard runner's training parameters (``grad_accumulation``,
        ``amp``, ...), passed through.
        """
        epochs, factors = check_schedule(lr_sched_epochs, lr_sched_factors)
        state = current_run(self, tproblem).schedule_state
        state.update({"lr_sched_epochs": epochs, "lr_sched_factors": factors})
        state.pop("base_lrs", None)
        return super().training(
            tproblem,
            hyperparams,
            num_epochs,
            print_train_iter,
            train_log_interval,
            tb_log,
            tb_log_dir,
            **options,
        )

    def _before_epoch(self, optimizer, epoch: int) -> None:
        state = self.training_run.schedule_state
        if state.get("base_lrs") is None:
            state["base_lrs"] = [group["lr"] for group in optimizer.param_groups]
        factor = schedule_factor(epoch, state["lr_sched_epochs"], state["lr_sched_factors"])
        for group, base in zip(optimizer.param_groups, state["base_lrs"], strict=True):
            group["lr"] = base * factor
        logger.debug("epoch %d: learning rate factor %g", epoch, factor)
