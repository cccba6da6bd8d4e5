"""``StandardRunner``: the DeepOBS training loop.

For epoch 0..N: evaluate train_eval, valid and test; stop after the last evaluation; train one
epoch with ``optimizer.step(closure)`` (so line-search and second-order methods work). A
non-finite loss ends the run with ``status="diverged"``; the curves are padded with ``null``,
never back-filled.
"""

from __future__ import annotations

import logging
import math
import time

import torch

from deepobs.pytorch.runners import _callbacks, _performance, _step
from deepobs.pytorch.runners._accumulate import split_batch
from deepobs.pytorch.runners.runner import PTRunner

logger = logging.getLogger(__name__)

#: Training steps between two checks for a non-finite loss (each check is one device sync).
DIVERGENCE_CHECK_INTERVAL = 25


class StandardRunner(PTRunner):
    """Train with a fixed set of hyperparameters (DeepOBS' standard runner).

    Training parameters (keyword arguments of ``run``, recorded in the result):

    * ``grad_accumulation`` (int, default 1): split each batch into this many micro-batches
      and accumulate their gradients before the step (for memory; the batch size stays the
      problem's). Exact up to float rounding for models without batch norm.
    * ``data_order`` (``"reshuffle"``/``"fixed"``): the training order, see
      :mod:`deepobs.pytorch.runners._data_order` (applied by ``run()``).
    * ``amp`` (``"off"``/``"bf16"``/``"fp16"``), ``compile``, ``channels_last`` and
      ``eval_batch_size``: performance options, see
      :mod:`deepobs.pytorch.runners._performance`.
    * ``checkpoint_every`` (epochs) and ``resume``: run options, recorded under ``meta`` and
      not in the folder name; see :mod:`deepobs.pytorch.runners._checkpoint`.

    ``tb_log`` writes TensorBoard logs (:mod:`deepobs.pytorch.runners._tensorboard`); objects
    in ``self.callbacks`` get the loop's hooks (:mod:`deepobs.pytorch.runners._callbacks`).
    """

    run_options = ("checkpoint_every", "resume")

    def training(
        self,
        tproblem,
        hyperparams,
        num_epochs,
        print_train_iter,
        train_log_interval,
        tb_log,
        tb_log_dir,
        grad_accumulation=1,
        amp="off",
        compile=False,
        channels_last=False,
        eval_batch_size=None,
        data_order="reshuffle",
    ):
        """Run the DeepOBS protocol: N+1 evaluations with N epochs of training between them."""
        split_batch([torch.empty(tproblem.batch_size)], grad_accumulation)  # validate early
        options = _performance.PerformanceOptions(amp, compile, channels_last, eval_batch_size)
        opt = self._optimizer_class(tproblem.model.parameters(), **hyperparams)
        step = _performance.set_up(tproblem, opt, options, grad_accumulation)
        run = _callbacks.start_run(
            self, tproblem, opt, num_epochs, train_log_interval, tb_log, tb_log_dir, step
        )  # checkpoints, TensorBoard, callbacks; resume
        curves, minibatch_losses, epoch_times = run.curves, run.minibatch_losses, run.epoch_times
        status, diverged_at = "done", None
        step.cost.start_loop(len(epoch_times))  # a resumed run's epochs: not timed
        for epoch in range(run.start_epoch, num_epochs + 1):
            self.evaluate_all(epoch, num_epochs, tproblem, *curves.values())
            run.fire("on_evaluation", epoch)
            if not all(math.isfinite(curves[k][-1]) for k in curves if k.endswith("losses")):
                status, diverged_at = "diverged", epoch
                break
            if epoch == num_epochs:
                break
            self._before_epoch(opt, epoch)
            start = time.perf_counter()
            finite = self._train_epoch(
                tproblem,
                opt,
                minibatch_losses,
                train_log_interval,
                print_train_iter,
                step,
                grad_accumulation,
            )
            epoch_times.append(time.perf_counter() - start)
            if not finite:
                status, diverged_at = "diverged", epoch + 1
                logger.warning("non-finite training loss in epoch %d: run diverged", epoch + 1)
                break
            run.fire("on_epoch_end", epoch + 1)
        run.finish(status)
        for values in curves.values():  # lengths stay num_epochs + 1; null after divergence
            values.extend([None] * (num_epochs + 1 - len(values)))
        return {
            **curves,
            "minibatch_train_losses": minibatch_losses,
            "status": status,
            "diverged_at_epoch": diverged_at,
            "epoch_wall_times_s": epoch_times,
            "meta": {**step.meta(epoch_times), **run.meta},
        }

    def _before_epoch(self, optimizer, epoch: int) -> None:
        """Hook called before each training epoch (the LR-schedule runner sets the rate)."""

    def _train_epoch(
        self,
        tproblem,
        optimizer,
        minibatch_losses,
        log_interval,
        print_iter,
        step=None,
        grad_accumulation: int = 1,
    ) -> bool:
        """One pass over the training data; returns False if a loss became non-finite."""
        step = step if step is not None else self.training_run.step
        tproblem.train_init_op()
        logged, n_steps = [], 0
        poisoned = torch.zeros((), device=tproblem.device)  # becomes NaN after a non-finite loss
        while True:
            try:
                forward_backward = _step.forward_backward(tproblem, step, grad_accumulation)
            except StopIteration:
                break
            loss = step(forward_backward)  # closure or not, fp16 scaler, micro-batches: _step
            poisoned.add_(loss, alpha=0.0)  # 0 * loss is NaN iff loss is inf/NaN: one cheap op
            if n_steps % log_interval == 0:
                logged.append(loss)
                if print_iter:
                    logger.info("  step %d: minibatch loss %.5g", n_steps, loss.item())
            n_steps += 1
            if n_steps % DIVERGENCE_CHECK_INTERVAL == 0 and poisoned.isnan().item():  # one sync
                break
        if logged:
            minibatch_losses.extend(torch.stack(logged).tolist())  # one sync per epoch
        return not bool(poisoned.isnan())
