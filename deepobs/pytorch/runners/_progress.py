"""A progress bar over a run's epochs: epoch time, ETA and the latest losses, on stderr.

Attach it as a runner callback (``runner.callbacks.append(ProgressBar())``); ``deepobs run``
does unless ``-q`` is given. Under ``torchrun`` only rank 0 draws it. It uses only the hooks
``on_run_start``, ``on_epoch_end``, ``on_evaluation`` and ``on_run_end`` and the run's
``epoch``, ``num_epochs`` and ``curves``.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from typing import IO


def is_rank_zero() -> bool:
    """False in every process of a distributed run but the first (``RANK`` or torch.distributed)."""
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank() == 0
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return os.environ.get("RANK", "0") == "0"


def _last_finite(values: list) -> float | None:
    for value in reversed(values or []):
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return None


class ProgressBar:
    """tqdm bar over epochs with the last epoch's time, the ETA and the latest losses.

    Args:
        file: Stream to draw on (default: stderr).
        disable: Draw nothing (default: draw only on rank 0).
        description: Text in front of the bar (default: the problem's name, if the run has one).
    """

    def __init__(
        self,
        file: IO[str] | None = None,
        disable: bool | None = None,
        description: str | None = None,
    ) -> None:
        self.file = file
        self.disable = (not is_rank_zero()) if disable is None else disable
        self.description = description
        self.bar = None
        self._redirect = None
        self.epoch_times: list[float] = []
        self._started = 0.0

    def on_run_start(self, run) -> None:
        """Open the bar at ``run.epoch`` of ``run.num_epochs`` (a resumed run starts later)."""
        if self.disable:
            return
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        problem = getattr(run, "tproblem", None)
        name = self.description or (type(problem).__name__ if problem is not None else None)
        # Log lines (the runner's per-epoch summary) go above the bar, not through it.
        self._redirect = logging_redirect_tqdm(loggers=[logging.getLogger("deepobs")])
        self._redirect.__enter__()
        self.bar = tqdm(
            total=run.num_epochs,
            initial=run.epoch,
            unit="epoch",
            desc=name or "training",
            file=self.file or sys.stderr,
            dynamic_ncols=True,
            leave=True,
        )
        self._started = time.perf_counter()

    def on_epoch_end(self, run) -> None:
        """Advance to ``run.epoch`` and show the epoch's time."""
        now = time.perf_counter()
        self.epoch_times.append(now - self._started)
        self._started = now
        if self.bar is not None:
            self.bar.update(max(0, run.epoch - self.bar.n))
            self.bar.set_postfix_str(self._postfix(run), refresh=True)

    def on_evaluation(self, run) -> None:
        """Show the latest train and validation loss."""
        if self.bar is not None:
            self.bar.set_postfix_str(self._postfix(run), refresh=True)
            self._started = time.perf_counter()  # evaluation time is not epoch time

    def on_run_end(self, run) -> None:
        """Close the bar, with the run's status if it did not finish normally."""
        if self.bar is None:
            return
        status = getattr(run, "status", None)
        if status and status != "done":
            self.bar.set_postfix_str(f"{status} at epoch {run.epoch}", refresh=True)
        self.bar.close()
        self.bar = None
        if self._redirect is not None:
            self._redirect.__exit__(None, None, None)
            self._redirect = None

    def _postfix(self, run) -> str:
        parts = []
        if self.epoch_times:
            parts.append(f"epoch {self.epoch_times[-1]:.2f}s")
        curves = getattr(run, "curves", {}) or {}
        for key, label in (("train_losses", "train"), ("valid_losses", "valid")):
            value = _last_finite(curves.get(key, []))
            if value is not None:
                parts.append(f"{label} {value:.4g}")
        return ", ".join(parts)
