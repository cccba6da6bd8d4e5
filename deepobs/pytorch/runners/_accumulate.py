"""Gradient accumulation: one optimizer step on a batch processed as ``k`` micro-batches.

Large models at their default batch size (VGG at 224×224, Inception-v3) may not fit in GPU
memory. Splitting each batch into ``k`` equal micro-batches, backpropagating
``loss_i / k`` for each and the L2 term once, leaves ``.grad`` equal to the full batch's
gradient of ``mean(per-example losses) + R`` up to float rounding, with activation memory
of one micro-batch.

Exact only for models whose per-example outputs do not depend on the rest of the batch and
draw no random numbers:

* **Batch norm** normalises with micro-batch statistics and updates its running statistics
  ``k`` times (with micro-batch estimates) instead of once, so Wide ResNets and
  Inception-v3 train slightly differently than with the whole batch (as on ``k`` devices
  without synchronised batch norm). VGG has no batch norm: accumulation is exact there.
* **Dropout and the VAE's sampling** draw other random numbers per micro-batch: the same
  distribution, different values.
* **Problems that carry state from batch to batch** (``tolstoi_char_rnn``: its LSTM state
  has one row per stream) cannot be split; they raise ``ValueError`` for ``k > 1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from deepobs.pytorch.testproblems.testproblem import TestProblem


def _is_stateful(tproblem: TestProblem) -> bool:
    """The registry's declared ``spec.stateful`` (a user class may set ``stateful`` itself)."""
    declared = getattr(type(tproblem), "stateful", None)
    if declared is None:
        declared = getattr(getattr(tproblem, "spec", None), "stateful", None)
    if declared is not None:
        return bool(declared)
    # A problem outside the registry: state is reset in this hook (as the char-RNN does).
    return type(tproblem)._on_phase_start is not TestProblem._on_phase_start


def split_batch(batch: Sequence[torch.Tensor], k: int) -> list[tuple[torch.Tensor, ...]]:
    """Split every tensor of ``batch`` along dim 0 into ``k`` equal micro-batches.

    Raises:
        ValueError: if ``k`` is not a positive integer or does not divide the batch size.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"grad_accumulation must be a positive integer, got {k!r}.")
    batch_size = len(batch[0])
    if batch_size % k:
        raise ValueError(
            f"Batch size {batch_size} is not divisible by grad_accumulation={k}. Choose a "
            f"number of micro-batches that divides the batch size, or another batch size."
        )
    return list(zip(*(t.chunk(k) for t in batch)))


def accumulated_loss_and_backward(
    tproblem: TestProblem, batch: Sequence[torch.Tensor], k: int
) -> torch.Tensor:
    """Backpropagate the loss of ``batch`` in ``k`` micro-batches; return the batch loss.

    Gradients are added to ``.grad`` (zero them before, as for ``loss.backward()``). The
    model must be in training mode and ``batch`` on the problem's device, as the runner's
    training loop has it.

    Args:
        tproblem: A set-up test problem.
        batch: The full batch as a tuple of tensors (inputs, labels, ...).
        k: Number of micro-batches; 1 is an ordinary forward and backward pass.

    Returns:
        The full-batch loss ``mean(per-example losses) + R`` (detached, 0-d).

    Raises:
        ValueError: if ``k`` does not divide the batch size, or the problem carries state
            from batch to batch and ``k > 1``.
    """
    micro_batches = split_batch(batch, k)
    if k > 1 and _is_stateful(tproblem):
        raise ValueError(
            f"Test problem {type(tproblem).__name__!r} carries state from batch to batch, so "
            f"its batches cannot be split (grad_accumulation={k}). Use grad_accumulation=1 "
            "or a smaller batch size."
        )
    data_loss = torch.zeros((), device=batch[0].device)
    for micro_batch in micro_batches:
        loss, _ = tproblem.loss_and_accuracy(micro_batch, "mean", add_regularization=False)
        (loss / k).backward()
        data_loss += loss.detach()
    total = data_loss / k
    if tproblem.l2_reg:
        reg = tproblem.get_regularization_loss()
        reg.backward()
        total = total + reg.detach()
    return total
