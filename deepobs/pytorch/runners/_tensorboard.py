"""TensorBoard logging for the standard training loop (``tb_log=True``, CLI ``--tb-log``).

Needs the ``tensorboard`` extra (``pip install "deepobs[tensorboard]"``). Written through
:class:`torch.utils.tensorboard.SummaryWriter`:

* ``<split>/loss`` and ``<split>/accuracy`` for ``train_eval``, ``valid`` and ``test`` at
  every evaluation (x-axis: epoch);
* ``train/minibatch_loss`` every ``train_log_interval`` steps (x-axis: training step);
* ``train/learning_rate`` of every training epoch (the first parameter group's rate);
* the hyperparameters as text at the start and, with the final metrics, in the HParams tab.

Log folder: ``<tb_log_dir or output_dir>/<testproblem>/<optimizer>/<setting>/tb__random_seed__<S>``;
with ``tb_log_dir`` ``None`` or ``"none"`` that is inside the run's results folder. Logs are
flushed after every evaluation. Only rank 0 of a data-parallel run writes.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

logger = logging.getLogger(__name__)

_CURVE_TAGS = {
    "train_losses": "train_eval/loss",
    "valid_losses": "valid/loss",
    "test_losses": "test/loss",
    "train_accuracies": "train_eval/accuracy",
    "valid_accuracies": "valid/accuracy",
    "test_accuracies": "test/accuracy",
}


def summary_writer_class():
    """Return ``SummaryWriter``, or raise ``ImportError`` naming the extra to install."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise ImportError(
            f"TensorBoard logging (tb_log / --tb-log) needs the tensorboard package ({err}). "
            'Install it with: pip install "deepobs[tensorboard]"'
        ) from err
    return SummaryWriter


def log_dir(args, optimizer_name: str, folder: Path) -> Path:
    """Where one run's TensorBoard events go (see the module docstring)."""
    name = f"tb__random_seed__{args.random_seed}"
    if args.tb_log_dir is None or str(args.tb_log_dir).lower() == "none":
        return Path(folder) / name
    return (
        Path(args.tb_log_dir).expanduser()
        / args.testproblem
        / optimizer_name
        / args.setting_name
        / name
    )


class TensorBoardLogger:
    """Training-loop callback writing curves, losses, learning rate and hyperparameters.

    Args:
        path: Log folder of this run.
        hparams: Hyperparameters and settings to record (values: numbers, strings, bools).
    """

    def __init__(self, path: Path, hparams: dict) -> None:
        self.path = Path(path)
        self.hparams = {
            k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in hparams.items()
        }
        self._writer_class = summary_writer_class()  # fail before training starts
        self._writer = None
        self._logged_minibatches = 0

    def on_run_start(self, run) -> None:
        """Open the writer and record the hyperparameters."""
        self._writer = self._writer_class(log_dir=str(self.path), flush_secs=30)
        self._writer.add_text("hyperparameters", json.dumps(self.hparams, indent=2), 0)
        self._logged_minibatches = len(run.minibatch_losses)  # after a resume: already logged
        run.meta["tensorboard_dir"] = str(self.path)

    def on_evaluation(self, run) -> None:
        """Write the metrics of the evaluation after ``run.epoch`` epochs."""
        for key, values in run.curves.items():
            if values and values[-1] is not None and key in _CURVE_TAGS:
                self._writer.add_scalar(_CURVE_TAGS[key], values[-1], run.epoch)
        self._writer.flush()

    def on_epoch_end(self, run) -> None:
        """Write the epoch's mini-batch losses and learning rate."""
        epoch = run.epoch - 1  # the epoch just trained (0-based)
        new = run.minibatch_losses[self._logged_minibatches :]
        steps = _steps_per_epoch(run.tproblem, len(new) * run.train_log_interval)
        for i, loss in enumerate(new):
            self._writer.add_scalar(
                "train/minibatch_loss", loss, epoch * steps + i * run.train_log_interval
            )
        self._logged_minibatches = len(run.minibatch_losses)
        self._writer.add_scalar("train/learning_rate", run.optimizer.param_groups[0]["lr"], epoch)

    def on_run_end(self, run) -> None:
        """Record hyperparameters with the final metrics, then close."""
        final = {
            f"final/{_CURVE_TAGS[k]}": v[run.epoch]
            for k, v in run.curves.items()
            if k in _CURVE_TAGS and len(v) > run.epoch and _finite(v[run.epoch])
        }
        self._writer.add_hparams(self.hparams, final, run_name=".")
        self._writer.close()


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def _steps_per_epoch(tproblem, fallback: int) -> int:
    try:
        return len(tproblem.data.train_loader)
    except TypeError:  # an iterable without a length
        return fallback
