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

from deepobs.pytorch.runners import _checkpoint, _distributed, _tensorboard
from deepobs.pytorch.runners.training_run import TrainingRun

__all__ = ["TrainingRun", "current_run", "start_run"]


def current_run(runner, tproblem) -> TrainingRun:
    """``runner.training_run`` if it trains ``tproblem``, else a new one (set on the runner)."""
    run = getattr(runner, "training_run", None)
    if run is None or run.tproblem is not tproblem:
        run = TrainingRun(runner=runner, tproblem=tproblem)
        runner.training_run = run
    return run


def start_run(
    runner,
    tproblem,
    optimizer,
    num_epochs: int,
    train_log_interval: int,
    tb_log: bool,
    tb_log_dir,
    step=None,
) -> TrainingRun:
    """Fill in the runner's :class:`TrainingRun`, build its callbacks, call ``on_run_start``.

    ``runner.training_run`` is the run ``run()`` created; ``training()`` called directly
    (without ``run()``) gets a fresh one without arguments or folder.
    """
    run = current_run(runner, tproblem)
    run.runner, run.optimizer, run.step = runner, optimizer, step
    run.num_epochs, run.train_log_interval = num_epochs, train_log_interval
    main = _distributed.is_main(tproblem)
    args, folder = run.args, run.folder
    run.callbacks = []
    if args is not None:
        if args.run_options:
            run.callbacks.append(
                _checkpoint.Checkpointer(
                    _checkpoint.checkpoint_path(folder, args.random_seed),
                    args.identity(runner._optimizer_name, runner._optimizer_class),
                    args.run_options.get("checkpoint_every"),
                    args.run_options.get("resume", False),
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
