"""Gradient accumulation: ``k`` micro-batches give the gradient and loss of the whole batch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepobs.pytorch import testproblems
from deepobs.pytorch.runners._accumulate import accumulated_loss_and_backward, split_batch
from deepobs.pytorch.testproblems import TestProblem


class _TinyClassifier(TestProblem):
    """Unregistered problem: a small MLP with L2 on its weights (no data set needed)."""

    def set_up(self) -> None:
        self.model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
        self.loss_function = nn.CrossEntropyLoss
        self._finish_set_up()


class _Stateful(_TinyClassifier):
    def _on_phase_start(self, phase: str) -> None:  # stateful problems reset state here
        pass


def _grads_and_loss(tp: TestProblem, batch, k: int):
    tp.model.zero_grad()
    loss = accumulated_loss_and_backward(tp, batch, k)
    return [p.grad.clone() for p in tp.model.parameters() if p.requires_grad], loss


@pytest.mark.parametrize("k", [2, 4])
def test_micro_batches_give_the_full_batch_gradient_with_l2(k):
    torch.manual_seed(0)
    tp = _TinyClassifier(batch_size=8, l2_reg=0.1, device="cpu")
    tp.set_up()
    batch = (torch.randn(8, 6), torch.randint(0, 3, (8,)))
    grads_1, loss_1 = _grads_and_loss(tp, batch, 1)
    grads_k, loss_k = _grads_and_loss(tp, batch, k)
    for g1, gk in zip(grads_1, grads_k):
        torch.testing.assert_close(gk, g1)
    full, _ = tp.loss_and_accuracy(batch)  # mean data loss + R, computed in one go
    torch.testing.assert_close(loss_k, full.detach())
    torch.testing.assert_close(loss_1, full.detach())
    assert not loss_k.requires_grad


def test_quadratic_deep_accumulates_exactly():
    tp = testproblems.quadratic_deep(batch_size=128, device="cpu")
    tp.set_up()
    tp.train_init_op()
    batch = tp._get_next_batch()
    grads_1, loss_1 = _grads_and_loss(tp, batch, 1)
    grads_4, loss_4 = _grads_and_loss(tp, batch, 4)
    torch.testing.assert_close(grads_4[0], grads_1[0])
    torch.testing.assert_close(loss_4, loss_1)


def test_batch_size_must_be_divisible():
    batch = (torch.zeros(10, 6), torch.zeros(10, dtype=torch.long))
    with pytest.raises(ValueError, match="Batch size 10 is not divisible by grad_accumulation=4"):
        split_batch(batch, 4)
    with pytest.raises(ValueError, match="positive integer"):
        split_batch(batch, 0)
    assert [len(part[0]) for part in split_batch(batch, 5)] == [2] * 5


def test_stateful_problems_refuse_to_split():
    tp = _Stateful(batch_size=4, device="cpu")
    tp.set_up()
    batch = (torch.randn(4, 6), torch.randint(0, 3, (4,)))
    with pytest.raises(ValueError, match="carries state"):
        accumulated_loss_and_backward(tp, batch, 2)
    assert torch.isfinite(accumulated_loss_and_backward(tp, batch, 1))
