"""``TrainingRun``: everything about one call of ``run()``, in one object.

``PTRunner.run()`` creates one per call and keeps it as ``runner.training_run`` while it
runs (also after, for inspection). It holds the resolved arguments, the results folder and
file name, and the training loop's state: the optimizer, the step (with the fp16 gradient
scaler), the learning-rate schedule's state, the curves, the epoch and the callbacks.
Checkpoints save its :meth:`TrainingRun.state_dict` and a resume loads it back; nothing of a
run lives anywhere else (no module or runner attributes, no process-global settings besides
the seeds every run sets).

Callbacks receive it in their hooks (:mod:`deepobs.pytorch.runners._callbacks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from deepobs.pytorch.runners import _rng
from deepobs.pytorch.runners._distributed import unwrap

CURVES = (
    "train_losses",
    "valid_losses",
    "test_losses",
    "train_accuracies",
    "valid_accuracies",
    "test_accuracies",
)


def _empty_curves() -> dict[str, list]:
    return {k: [] for k in CURVES}


@dataclass
class TrainingRun:
    """The state of one run, shared by ``run()``, the training loop and its callbacks.

    Attributes:
        args: The resolved arguments (:class:`~deepobs.pytorch.runners._resolve.RunArguments`);
            ``None`` when ``training()`` is called without ``run()``.
        folder: The setting folder the results go to (``runner._run_directory``).
        file_name: The results file name without ``.json`` (``runner._file_name``).
        start: When the run started.
        runner: The runner.
        tproblem: The test problem (set when it is built).
        optimizer: The optimizer (set by the training loop).
        step: The loop's :class:`~deepobs.pytorch.runners._step.TrainStep` (holds the scaler).
        num_epochs: Training epochs.
        train_log_interval: Steps between two logged mini-batch losses.
        callbacks: Objects with training-loop hooks.
        curves: Evaluated losses and accuracies so far.
        minibatch_losses: Logged mini-batch losses so far.
        epoch_times: Wall time of each training epoch.
        epoch: Training epochs done.
        start_epoch: First evaluation of this process (> 0 after a resume).
        status: ``"done"``/``"diverged"`` at the end.
        schedule_state: State of a learning-rate schedule (the LR runner's base rates).
        meta: Entries merged into the result's ``meta``.
        parallel: The data-parallel set-up (``None`` outside ``run()``).
    """

    args: object = None
    folder: Path | None = None
    file_name: str | None = None
    start: datetime | None = None
    runner: object = None
    tproblem: object = None
    optimizer: object = None
    step: object = None
    num_epochs: int = 0
    train_log_interval: int = 10
    callbacks: list = field(default_factory=list)
    curves: dict = field(default_factory=_empty_curves)
    minibatch_losses: list = field(default_factory=list)
    epoch_times: list = field(default_factory=list)
    epoch: int = 0
    start_epoch: int = 0
    status: str | None = None
    schedule_state: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    parallel: object = None

    @property
    def scaler(self):
        """The fp16 gradient scaler, or ``None``."""
        return getattr(self.step, "scaler", None)

    def fire(self, hook: str, epoch: int | None = None) -> None:
        """Call ``hook`` on every callback that has it (after setting ``self.epoch``)."""
        if epoch is not None:
            self.epoch = epoch
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is not None:
                method(self)

    def finish(self, status: str) -> None:
        """Record the final status and call ``on_run_end``."""
        self.status = status
        self.fire("on_run_end")

    def state_dict(self) -> dict:
        """Everything needed to continue the run after its current epoch.

        Tensors and plain values only, so that ``torch.load(weights_only=True)`` reads it.
        """
        return {
            "epoch": self.epoch,
            "model": unwrap(self.tproblem.model).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": dict(self.schedule_state),
            "grad_scaler": None if self.scaler is None else self.scaler.state_dict(),
            "rng": _rng.capture(self.tproblem),
            "curves": {k: list(v) for k, v in self.curves.items()},
            "minibatch_losses": list(self.minibatch_losses),
            "epoch_times": list(self.epoch_times),
        }

    def load_state_dict(self, state: dict) -> None:
        """Put :meth:`state_dict` back, in place."""
        unwrap(self.tproblem.model).load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule_state.clear()
        self.schedule_state.update(state["schedule"])
        if state["grad_scaler"] is not None and self.scaler is not None:
            self.scaler.load_state_dict(state["grad_scaler"])
        _rng.restore(self.tproblem, state["rng"])
        for key, values in state["curves"].items():
            self.curves[key][:] = values
        self.minibatch_losses[:] = state["minibatch_losses"]
        self.epoch_times[:] = state["epoch_times"]
        self.epoch = self.start_epoch = state["epoch"]
