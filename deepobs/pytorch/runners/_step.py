"""One optimizer step on one training batch: closure or not, fp16 scaler, micro-batches.

The training loop calls ``step(forward_backward)`` with a function that computes the batch's
loss and backpropagates it (:func:`forward_backward`); :class:`TrainStep` zeroes the
gradients, runs it (inside ``optimizer.step(closure)`` when the optimizer takes a closure,
so line searches and L-BFGS re-evaluate the same batch) and steps, through a
``torch.amp.GradScaler`` for ``amp="fp16"``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import asdict

import torch

from deepobs.pytorch.runners._accumulate import accumulated_loss_and_backward
from deepobs.pytorch.runners._cost import CostMeter


def step_takes_closure(optimizer) -> bool:
    """Whether ``optimizer.step`` accepts a ``closure`` argument."""
    try:
        return "closure" in inspect.signature(optimizer.step).parameters
    except (TypeError, ValueError):
        return False


def closure_required(optimizer) -> bool:
    """Whether ``optimizer.step`` needs a closure (no default)."""
    try:
        param = inspect.signature(optimizer.step).parameters.get("closure")
    except (TypeError, ValueError):
        return False
    return param is not None and param.default is inspect.Parameter.empty


def optimizer_step(optimizer, forward_backward, use_closure: bool) -> torch.Tensor:
    """One optimizer step on one batch without a scaler; returns the batch's loss (detached)."""
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


class TrainStep:
    """One optimizer step on one batch; the loop calls ``step(forward_backward)``.

    Args:
        optimizer: The run's optimizer.
        options: The run's performance options (``amp`` picks the scaler).
        device: The run's device.
        eval_chunks: Evaluation chunk sizes per split (recorded in ``meta``).
    """

    def __init__(
        self, optimizer, options, device: torch.device, eval_chunks: dict[str, int | None]
    ) -> None:
        self.optimizer, self.options, self.eval_chunks = optimizer, options, eval_chunks
        self.scaler = torch.amp.GradScaler(device.type) if options.amp == "fp16" else None
        self.cost = CostMeter(device)
        self.use_closure = step_takes_closure(optimizer)

    def __call__(self, forward_backward: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Zero the gradients, run ``forward_backward``, step; return the (detached) loss."""
        return self.cost.step(self._step, forward_backward)

    def backward(self, loss: torch.Tensor) -> None:
        """Backpropagate ``loss`` (scaled for ``amp="fp16"``)."""
        if self.scaler is None:
            loss.backward()
        else:
            self.scaler.scale(loss).backward()

    def _step(self, forward_backward: Callable[[], torch.Tensor]) -> torch.Tensor:
        if self.scaler is None:
            return optimizer_step(self.optimizer, forward_backward, self.use_closure)
        self.optimizer.zero_grad()
        loss = forward_backward().detach()
        self.scaler.step(self.optimizer)  # one sync: skips the step if a gradient is inf/NaN
        self.scaler.update()
        return loss

    def state_dict(self) -> dict | None:
        """The scaler's state (``None`` without one)."""
        return None if self.scaler is None else self.scaler.state_dict()

    def load_state_dict(self, state: dict | None) -> None:
        """Restore :meth:`state_dict`."""
        if state is not None and self.scaler is not None:
            self.scaler.load_state_dict(state)

    def meta(self, epoch_times: list[float]) -> dict:
        """The ``meta`` entries of the run: effective options and cost figures."""
        options = {**asdict(self.options), "eval_chunk_sizes": self.eval_chunks}
        return {
            "performance_options": options,
            "cost": self.cost.figures(epoch_times, self.optimizer),
        }


def next_batch(tproblem) -> tuple[torch.Tensor, ...]:
    """The problem's next batch of the current phase (``next_batch()``, else DeepOBS' name)."""
    method = getattr(tproblem, "next_batch", None) or tproblem._get_next_batch
    return method()


def forward_backward(tproblem, step: TrainStep, grad_accumulation: int = 1):
    """Draw the next training batch; return a function that backpropagates its loss.

    Raises:
        StopIteration: at the end of the epoch.
    """
    if grad_accumulation == 1:
        batch_loss = tproblem.get_batch_loss_and_accuracy_func()

        def run():
            loss, _ = batch_loss()
            step.backward(loss)
            return loss

        return run
    batch = next_batch(tproblem)
    return lambda: accumulated_loss_and_backward(tproblem, batch, grad_accumulation)
