"""quadratic_deep against the reference's check values (§2.2) and the 1.1 baselines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepobs.pytorch import datasets, testproblems
from deepobs.pytorch.testproblems.quadratic_deep import QuadraticDeepNet, deep_hessian


def test_two_instances_share_the_hessian():
    a = testproblems.quadratic_deep(batch_size=128, device="cpu")
    b = testproblems.quadratic_deep(batch_size=128, device="cpu")
    torch.manual_seed(1)
    a.set_up()
    torch.manual_seed(2)
    b.set_up()
    assert torch.equal(a.model.scale.weight, b.model.scale.weight)


def test_model_is_a_sequential_of_linear_layers_with_only_theta_trainable():
    problem = testproblems.quadratic_deep(batch_size=8, device="cpu")
    problem.set_up()
    model = problem.model
    assert isinstance(model, torch.nn.Sequential)
    assert [type(m) for m in model] == [torch.nn.Linear, torch.nn.Linear]
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(trainable) == 1 and trainable[0] is model.theta and model.theta.shape == (100,)
    assert torch.equal(model.theta, torch.ones(100))
    assert problem.num_parameters() == 100
    assert problem.loss_function is torch.nn.MSELoss


def test_network_gives_the_quadratic_form_in_float64():
    q = deep_hessian()
    net = QuadraticDeepNet(q).double()
    x = torch.randn(5, 100, dtype=torch.float64)
    with torch.no_grad():
        net.theta.normal_()
        unreduced = torch.nn.MSELoss(reduction="none")(net(x), torch.zeros_like(x))
    assert unreduced.shape == (5, 100)
    diff = (net.theta - x).detach().numpy()
    expected = 0.5 * np.einsum("ni,ij,nj->n", diff, q, diff)
    np.testing.assert_allclose(unreduced.mean(dim=1).numpy(), expected, rtol=1e-6)  # f32 W


def test_batch_targets_are_zeros_and_reductions_follow_mse():
    problem = testproblems.quadratic_deep(batch_size=8, device="cpu")
    problem.set_up()
    problem.train_init_op()
    inputs, targets = problem._get_next_batch()
    assert inputs.shape == targets.shape == (8, 100) and not targets.any()
    outputs = problem.net(inputs)
    per_entry = problem.loss_function(reduction="none")(outputs, targets)
    assert per_entry.shape == (8, 100)
    mean = problem.loss_function(reduction="mean")(outputs, targets)
    assert torch.allclose(mean, per_entry.mean())
    total = problem.loss_function(reduction="sum")(outputs, targets)
    assert torch.allclose(total, per_entry.sum())
    per_example, _ = problem.loss_and_accuracy((inputs, inputs), reduction="none")
    assert torch.allclose(per_example, per_entry.mean(dim=1))


def test_hessian_check_values():
    q = deep_hessian()
    eig = np.linalg.eigvalsh(q)
    assert np.trace(q) == pytest.approx(477.6123, abs=1e-4)
    assert eig.min() == pytest.approx(0.005522, abs=1e-6)
    assert eig.max() == pytest.approx(53.1290, abs=1e-4)
    assert q[0, 0] == pytest.approx(6.22143, abs=1e-5)
    assert q[0, 1] == pytest.approx(1.12702, abs=1e-5)
    np.testing.assert_allclose(q, q.T, atol=1e-12)


def _mean_test_loss(problem):
    problem.test_init_op()
    losses = []
    while True:
        try:
            loss, acc = problem.get_batch_loss_and_accuracy()
        except StopIteration:
            return float(np.mean(losses)), len(losses)
        assert acc == 0.0 and isinstance(acc, float)  # DeepOBS: 0.0 without an accuracy
        losses.append(loss.item())


def test_epoch0_test_loss_matches_published_baselines():
    problem = testproblems.quadratic_deep(batch_size=128, device="cpu")
    problem.set_up()
    loss, n_batches = _mean_test_loss(problem)
    assert n_batches == 7  # 896 of 1000 test points (drop_last)
    assert loss == pytest.approx(353.4468, abs=1e-3)


def test_loss_at_zero_over_all_test_points():
    problem = testproblems.quadratic_deep(batch_size=1000, device="cpu")
    problem.set_up()
    with torch.no_grad():
        problem.model.theta.zero_()
    assert _mean_test_loss(problem)[0] == pytest.approx(86.995, abs=1e-2)


def test_data_splits_are_fixed_numpy_draws():
    data = datasets.quadratic(batch_size=1000)
    train = next(iter(data.train_eval_loader))[0].numpy()
    expected = np.random.RandomState(42).normal(0.0, 0.6, (1000, 100)).astype(np.float32)
    np.testing.assert_array_equal(train, expected)
    test = next(iter(data.test_loader))[0].numpy()
    np.testing.assert_array_equal(
        test, np.random.RandomState(43).normal(0.0, 0.6, (1000, 100)).astype(np.float32)
    )
