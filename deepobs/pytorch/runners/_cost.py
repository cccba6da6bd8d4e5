"""Cost figures of one run: time split, throughput, peak memory, optimizer-step share.

The figures go into the ``meta["cost"]`` block of the result file:

* ``setup_time_s``: set-up of the performance options (``torch.compile`` wrapping, layouts);
  compilation itself happens lazily in the first steps and counts as training time.
* ``train_time_s`` / ``eval_time_s``: the training loop split into training epochs and the
  ``num_epochs + 1`` evaluations (each ends in a device sync, so GPU work is included). A
  resumed run counts only what this process ran.
* ``train_steps``, ``steps_per_second`` (training steps over ``train_time_s``).
* ``peak_device_memory_bytes``: CUDA's peak allocated memory during the run; on MPS the
  largest allocation seen at the sampled steps (MPS keeps no peak); ``None`` on the CPU.
* ``peak_rss_bytes``: the process's peak resident set size (``resource.getrusage``; a
  high-water mark of the whole process, so later runs in one process report at least the
  earlier runs' peak); ``None`` where ``resource`` is missing (Windows).
* ``optimizer_state_bytes``: bytes of the tensors in the optimizer's state after training.
* ``optimizer_step_share``: the share of a training step spent in the optimizer (everything
  but the forward and backward passes), measured on every ``SAMPLE_EVERY``-th step with a
  device sync before and after the timed parts; ``None`` if no step was sampled. Only the
  sampled steps are synchronised; all other steps run without a sync.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import torch

#: Every this many training steps one step is timed (with device syncs); the first sampled
#: step is the second step of the run, so that one-off warm-up work is not counted.
SAMPLE_EVERY = 50


def synchronize(device: torch.device) -> None:
    """Wait for the queued work of ``device`` (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def peak_rss_bytes() -> int | None:
    """Peak resident set size of this process in bytes (``None`` without ``resource``)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # Linux: KiB


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes held by the tensors in ``optimizer.state`` (momentum buffers, moments, steps)."""
    total = 0
    for state in optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor):
                total += value.numel() * value.element_size()
    return total


class CostMeter:
    """Collects the cost figures of one run (see the module docstring).

    Args:
        device: The device the run trains on.
        sample_every: Time one training step in this many (with device syncs).
    """

    def __init__(self, device: torch.device, sample_every: int = SAMPLE_EVERY) -> None:
        self.device = torch.device(device)
        self.sample_every = sample_every
        self.steps = 0
        self.setup_time = 0.0
        self._sampled_total = 0.0
        self._sampled_forward_backward = 0.0
        self._sampled_steps = 0
        self._mps_peak = 0
        self._loop_start: float | None = None
        self._first_epoch = 0
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)

    def start_loop(self, epochs_done: int = 0) -> None:
        """Mark the start of the training loop; ``epochs_done`` were trained before (resume)."""
        self._loop_start = time.perf_counter()
        self._first_epoch = epochs_done

    def step(self, step: Callable, forward_backward: Callable) -> torch.Tensor:
        """Run ``step(forward_backward)``; time it if this step is sampled."""
        self.steps += 1
        if self.steps % self.sample_every != 2 % self.sample_every:
            return step(forward_backward)
        return self._timed_step(step, forward_backward)

    def _timed_step(self, step: Callable, forward_backward: Callable) -> torch.Tensor:
        spent = [0.0]

        def timed_forward_backward():
            synchronize(self.device)  # e.g. a line search's own work before this call
            start = time.perf_counter()
            loss = forward_backward()
            synchronize(self.device)
            spent[0] += time.perf_counter() - start
            return loss

        synchronize(self.device)
        start = time.perf_counter()
        loss = step(timed_forward_backward)
        synchronize(self.device)
        self._sampled_total += time.perf_counter() - start
        self._sampled_forward_backward += spent[0]
        self._sampled_steps += 1
        if self.device.type == "mps":
            self._mps_peak = max(self._mps_peak, torch.mps.current_allocated_memory())
        return loss

    def peak_device_memory(self) -> int | None:
        """Peak device memory in bytes (see the module docstring), ``None`` on the CPU."""
        if self.device.type == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device))
        if self.device.type == "mps":
            return max(self._mps_peak, int(torch.mps.current_allocated_memory()))
        return None

    def figures(self, epoch_times: list[float], optimizer: torch.optim.Optimizer) -> dict:
        """The ``meta["cost"]`` block, given the training epochs' wall times."""
        loop_time = 0.0 if self._loop_start is None else time.perf_counter() - self._loop_start
        train_time = float(sum(epoch_times[self._first_epoch :]))  # this process's epochs
        share = None
        if self._sampled_steps and self._sampled_total > 0:
            share = max(0.0, 1.0 - self._sampled_forward_backward / self._sampled_total)
        return {
            "setup_time_s": self.setup_time,
            "train_time_s": train_time,
            "eval_time_s": max(0.0, loop_time - train_time),
            "train_steps": self.steps,
            "steps_per_second": self.steps / train_time if train_time > 0 else None,
            "peak_device_memory_bytes": self.peak_device_memory(),
            "peak_rss_bytes": peak_rss_bytes(),
            "optimizer_state_bytes": optimizer_state_bytes(optimizer),
            "optimizer_step_share": share,
            "timed_steps": self._sampled_steps,
        }
