"""``StandardRunner``: the DeepOBS training loop.

For epoch 0..N: evaluate train_eval, valid and test; stop after the last evaluation; train one
epoch with ``optimizer.step(closure)`` (so line-search and second-order methods work). A
non-finite loss ends the run with ``status="diverged"``; the curves are padded with ``null``,
never back-filled.
"""

from __future__ import annotations

import inspect
import logging
import math
import time

import torch

from deepobs.pytorch.runners._accumulate import accumulated_loss_and_backward, split_batch
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
    """

    def training(self, tproblem, hyperparams, num_epochs, print_train_iter, train_log_interval,
                 tb_log, tb_log_dir, grad_accumulation=1):
        """Run the DeepOBS protocol: N+1 evaluations with N epochs of training between them."""
        split_batch([torch.empty(tproblem.batch_size)], grad_accumulation)  # validate early
        self._grad_accumulation = grad_accumulation
        opt = self._optimizer_class(tproblem.model.parameters(), **hyperparams)
        curves = {k: [] for k in ("train_losses", "valid_losses", "test_losses",
                                  "train_accuracies", "valid_accuracies", "test_accuracies")}
        minibatch_losses, epoch_times = [], []
        status, diverged_at = "done", None
        for epoch in range(num_epochs + 1):
            self.evaluate_all(epoch, num_epochs, tproblem, *curves.values())
            if not all(math.isfinite(curves[k][-1]) for k in curves if k.endswith("losses")):
                status, diverged_at = "diverged", epoch
                break
            if epoch == num_epochs:
                break
            self._before_epoch(opt, epoch)
            start = time.perf_counter()
            finite = self._train_epoch(tproblem, opt, minibatch_losses, train_log_interval,
                                       print_train_iter)
            epoch_times.append(time.perf_counter() - start)
            if not finite:
                status, diverged_at = "diverged", epoch + 1
                logger.warning("non-finite training loss in epoch %d: run diverged", epoch + 1)
                break
        for values in curves.values():  # lengths stay num_epochs + 1; null after divergence
            values.extend([None] * (num_epochs + 1 - len(values)))
        return {**curves, "minibatch_train_losses": minibatch_losses, "status": status,
                "diverged_at_epoch": diverged_at, "epoch_wall_times_s": epoch_times}

    def _before_epoch(self, optimizer, epoch: int) -> None:
        """Hook called before each training epoch (the LR-schedule runner sets the rate)."""

    def _train_epoch(self, tproblem, optimizer, minibatch_losses, log_interval, print_iter) -> bool:
        """One pass over the training data; returns False if a loss became non-finite."""
        tproblem.train_init_op()
        use_closure = _step_takes_closure(optimizer)
        logged, nonfinite, step = [], None, 0
        while True:
            try:
                forward_backward = self._next_forward_backward(tproblem)
            except StopIteration:
                break
            loss = _optimizer_step(optimizer, forward_backward, use_closure)
            bad = ~torch.isfinite(loss)
            nonfinite = bad if nonfinite is None else nonfinite | bad
            if step % log_interval == 0:
                logged.append(loss)
                if print_iter:
                    logger.info("  step %d: minibatch loss %.5g", step, loss.item())
            step += 1
            if step % DIVERGENCE_CHECK_INTERVAL == 0 and nonfinite.item():  # one sync
                break
        if logged:
            minibatch_losses.extend(torch.stack(logged).tolist())  # one sync per epoch
        return nonfinite is None or not bool(nonfinite)

    def _next_forward_backward(self, tproblem):
        """Draw the next training batch; return a function that backpropagates its loss."""
        k = getattr(self, "_grad_accumulation", 1)
        if k == 1:
            batch_loss = tproblem.get_batch_loss_and_accuracy_func()

            def forward_backward():
                loss, _ = batch_loss()
                loss.backward()
                return loss

            return forward_backward
        batch = tproblem._get_next_batch()
        return lambda: accumulated_loss_and_backward(tproblem, batch, k)


def _step_takes_closure(optimizer) -> bool:
    try:
        return "closure" in inspect.signature(optimizer.step).parameters
    except (TypeError, ValueError):
        return False


def _optimizer_step(optimizer, forward_backward, use_closure: bool) -> torch.Tensor:
    """One optimizer step on one batch; returns the batch's loss (detached)."""
    first = []

    def closure():
        optimizer.zero_grad()
        loss = forward_backward()
        if not first:
            first.append(loss.detach())
        return loss

    if use_closure:
        optimizer.step(closure)
    else:
        closure()
        optimizer.step()
    return first[0]
