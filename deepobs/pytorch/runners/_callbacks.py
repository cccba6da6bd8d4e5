"""Callbacks of the standard training loop: checkpoints, TensorBoard and your own.

A callback is any object with some of these methods, each called with the
:class:`TrainingRun` (duck typing, as Lightning's hooks):

* ``on_run_start(run)``: before the first evaluation (a resume restores ``run`` here);
* ``on_evaluation(run)``: after the evaluation following ``run.epoch`` training epochs;
* ``on_epoch_end(run)``: after a training epoch (``run.epoch`` epochs are done);
* ``on_run_end(run)``: after the last evaluation or the divergence (``run.status`` is set).

Add your own with ``runner.callbacks.append(obj)``; an exception raised in a callback ends
the run without a results file (the tuner's pruning does this). Built-in callbacks are set up
from the run's options before training starts, so the loop itself has no branches for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deepobs.pytorch.runners import _checkpoint, _distributed, _tensorboard

_CURVES = (
    "train_losses",
    "valid_losses",
    "test_losses",
    "train_accuracies",
    "valid_accuracies",
    "test_accuracies",
)


def _empty_curves() -> dict[str, list]:
    return {k: [] for k in _CURVES}


@dataclass
class TrainingRun:
    """The state of one training run, shared by the loop and its callbacks."""

    runner: object
    tproblem: object
    optimizer: object
    num_epochs: int
    train_log_interval: int
    callbacks: list = field(default_factory=list)
    curves: dict = field(default_factory=_empty_curves)
    minibatch_losses: list = field(default_factory=list)
    epoch_times: list = field(default_factory=list)
    epoch: int = 0  # training epochs done
    start_epoch: int = 0  # first evaluation of this process (> 0 after a resume)
    status: str | None = None
    meta: dict = field(default_factory=dict)  # merged into the result's meta

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


def start_run(
    runner, tproblem, optimizer, num_epochs: int, train_log_interval: int, tb_log: bool, tb_log_dir
) -> TrainingRun:
    """Build the run's callbacks from its options, call ``on_run_start`` and return the run."""
    run = TrainingRun(runner, tproblem, optimizer, num_epochs, train_log_interval)
    context = getattr(runner, "_run_context", None)  # (RunArguments, folder), set by run()
    main = _distributed.is_main(tproblem)
    if context is not None:
        args, folder = context
        options = args.run_options
        if options:
            run.callbacks.append(
                _checkpoint.Checkpointer(
                    _checkpoint.checkpoint_path(folder, args.random_seed),
                    _checkpoint.run_identity(args, runner._optimizer_name),
                    options.get("checkpoint_every"),
                    options.get("resume", False),
                    main,
                )
            )
        if tb_log and main:
            hparams = {
                **args.hyperparams,
                **args.training_params,
                "batch_size": args.batch_size,
                "num_epochs": args.num_epochs,
                "random_seed": args.random_seed,
                "l2_reg": args.l2_reg,
                "testproblem": args.testproblem,
            }
            path = _tensorboard.log_dir(args, runner._optimizer_name, folder)
            run.callbacks.append(_tensorboard.TensorBoardLogger(path, hparams))
    elif tb_log:
        raise ValueError("tb_log needs the run's folder: call runner.run(...), not training().")
    run.callbacks.extend(getattr(runner, "callbacks", ()))
    run.fire("on_run_start")
    return run
