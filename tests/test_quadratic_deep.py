"""quadratic_deep against the reference's check values (§2.2) and the 1.1 baselines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepobs.pytorch import datasets, testproblems
from deepobs.pytorch.testproblems.quadratic_deep import deep_hessian


def test_two_instances_share_the_hessian():
    a = testproblems.quadratic_deep(batch_size=128, device="cpu")
    b = testproblems.quadratic_deep(batch_size=128, device="cpu")
    torch.manual_seed(1)
    a.set_up()
    torch.manual_seed(2)
    b.set_up()
    assert torch.equal(a.model.hessian, b.model.hessian)


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
        assert acc is None
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
