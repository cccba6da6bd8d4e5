"""The DeepOBS 1.2 PyTorch API and the direct API of TestProblem and DataSet."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepobs.pytorch import datasets, testproblems
from deepobs.pytorch.datasets import DataSet


@pytest.fixture
def problem():
    p = testproblems.quadratic_deep(batch_size=100, device="cpu")
    p.set_up()
    return p


def test_model_and_net_are_one_object(problem):
    assert problem.net is problem.model
    replacement = nn.Linear(1, 1)
    problem.net = replacement
    assert problem.model is replacement


def test_phases_and_stop_iteration(problem):
    problem.train_init_op()
    assert problem.phase == "train" and problem.model.training
    n = 0
    while True:
        try:
            problem._get_next_batch()
        except StopIteration:
            break
        n += 1
    assert n == 10
    problem.test_init_op()
    assert problem.phase == "test" and not problem.model.training


def test_private_loader_attributes(problem):
    d = problem.data
    assert d._train_dataloader is d.train_loader
    assert d._train_eval_dataloader is d.train_eval_loader
    assert d._valid_dataloader is d.valid_loader
    assert d._test_dataloader is d.test_loader


def test_closure_reuses_its_batch_and_grad_only_in_train(problem):
    problem.train_init_op()
    closure = problem.get_batch_loss_and_accuracy_func()
    first, _ = closure()
    second, _ = closure()
    assert torch.equal(first, second) and first.requires_grad
    assert closure()[1] is None  # the closure: no accuracy on the quadratic, no sync
    problem.valid_init_op()
    loss, acc = problem.get_batch_loss_and_accuracy()
    assert not loss.requires_grad
    assert isinstance(acc, float) and acc == 0.0  # the phase API: DeepOBS' float


def test_reduction_none_gives_per_example_losses(problem):
    problem.train_init_op()
    losses, _ = problem.get_batch_loss_and_accuracy(reduction="none")
    assert losses.shape == (100,)
    batch = next(iter(problem.data.train_loader))
    per_example, _ = problem.loss_and_accuracy(batch, reduction="none")
    total, _ = problem.loss_and_accuracy(batch, reduction="sum")
    mean, _ = problem.loss_and_accuracy(batch, reduction="mean")
    assert torch.allclose(total, per_example.sum()) and torch.allclose(mean, per_example.mean())
    with pytest.raises(ValueError, match="'mean', 'sum' or 'none', got 'max'"):
        problem.loss_and_accuracy(batch, reduction="max")
    problem.train_init_op()
    with pytest.raises(ValueError, match="reduction"):
        problem.get_batch_loss_and_accuracy_func(reduction="avg")


def test_direct_api_matches_phase_api(problem):
    batch = next(iter(problem.data.test_loader))
    direct, _ = problem.loss_and_accuracy(batch)
    problem.test_init_op()
    phase, _ = problem.get_batch_loss_and_accuracy()
    assert torch.allclose(direct, phase)


def test_regularisation_on_weights_not_biases():
    class Tiny(testproblems.TestProblem):
        """A linear model on the quadratic data, for the L2 bookkeeping."""

        def set_up(self):
            self.data = datasets.quadratic(self._batch_size)
            self.model = nn.Linear(100, 3)
            self.loss_function = nn.CrossEntropyLoss
            self._finish_set_up()

    p = Tiny(10, l2_reg=0.5, device="cpu")
    p.set_up()
    groups = p.get_regularization_groups()
    assert [t is p.model.weight for t in groups[0.5]] == [True]
    expected = 0.25 * p.model.weight.square().sum()
    assert torch.allclose(p.get_regularization_loss(), expected)


def test_old_weight_decay_keyword_and_conflict():
    class Reg(testproblems.WeightRegularizedTestproblem):
        """A regularised user problem, to test the keyword."""

    assert Reg(10, weight_decay=0.1)._l2_reg == 0.1
    with pytest.raises(ValueError, match="l2_reg"):
        Reg(10, l2_reg=0.1, weight_decay=0.2)


def test_l2_on_unregularised_problem_warns():
    with pytest.warns(UserWarning, match="no regularisation"):
        p = testproblems.quadratic_deep(batch_size=10, l2_reg=0.1)
    assert p.l2_reg is None


@pytest.mark.parametrize("bad", [0, -3, 2.5, "128"])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        testproblems.quadratic_deep(batch_size=bad)


def test_batch_size_larger_than_data_set():
    p = testproblems.quadratic_deep(batch_size=5000)
    with pytest.raises(ValueError, match="at most 1000"):
        p.set_up()


def test_no_default_batch_size():
    with pytest.raises(ValueError, match="no default batch size"):
        testproblems.two_d_beale()


def test_user_data_set_subclass():
    class Ones(DataSet):
        name = "ones"

        def _make_train_and_valid_dataloader(self):
            x = torch.ones(20, 3)
            return self._tensor_loader([x, x], shuffle=True), self._tensor_loader([x, x])

        def _make_test_dataloader(self):
            x = torch.zeros(20, 3)
            return self._tensor_loader([x, x])

    data = Ones(4)
    assert len(data.train_loader) == 5 and data.train_eval_loader is data.train_loader
    assert torch.equal(next(iter(data.train_loader))[0], torch.ones(4, 3))
    assert torch.equal(next(iter(data.test_loader))[0], torch.zeros(4, 3))
    assert len(data.test_loader) == 5


def test_data_order_follows_seed_model_init_does_not_shift():
    def first_batch(seed):
        torch.manual_seed(seed)
        return next(iter(datasets.quadratic(10).train_loader))[0]

    assert torch.equal(first_batch(1), first_batch(1))
    assert not torch.equal(first_batch(1), first_batch(2))
    torch.manual_seed(3)
    before = torch.rand(1)
    torch.manual_seed(3)
    datasets.quadratic(10)
    assert torch.equal(before, torch.rand(1))  # building data consumed no random numbers
