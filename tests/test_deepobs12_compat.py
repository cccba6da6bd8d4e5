"""Code written for DeepOBS 1.2's PyTorch API runs unchanged (a user's data set and problem)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils import data as dat

from deepobs import pytorch as pt


class blobs(pt.datasets.DataSet):  # noqa: N801 - DeepOBS names data sets in lowercase
    """Two Gaussian blobs served by ordinary torch DataLoaders, as DeepOBS 1.2 data sets do."""

    def __init__(self, batch_size, train_eval_size=64):
        self._train_eval_size = train_eval_size
        super().__init__(batch_size)

    def _make(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, 2, (n,), generator=g)
        x = torch.randn(n, 2, generator=g) + 3.0 * labels[:, None].float()
        return dat.TensorDataset(x, labels)

    def _make_train_and_valid_dataloader(self):
        train = dat.DataLoader(self._make(256, 0), batch_size=self._batch_size, shuffle=True,
                               drop_last=True)
        valid = dat.DataLoader(self._make(64, 1), batch_size=self._batch_size, drop_last=True)
        return train, valid

    def _make_test_dataloader(self):
        return dat.DataLoader(self._make(64, 2), batch_size=self._batch_size, drop_last=True)


class blobs_logreg(pt.testproblems.TestProblem):  # noqa: N801
    """Logistic regression on the blobs, written against the DeepOBS 1.2 API."""

    def __init__(self, batch_size, l2_reg=None):
        super().__init__(batch_size, l2_reg)

    def set_up(self):
        self.data = blobs(self._batch_size)
        self.loss_function = torch.nn.CrossEntropyLoss
        self.net = nn.Sequential(nn.Linear(2, 2))
        self.net.to(self._device)
        self.regularization_groups = self.get_regularization_groups()


def test_user_problem_through_the_phase_api():
    tproblem = blobs_logreg(batch_size=32, l2_reg=0.01)
    tproblem.set_up()
    opt = torch.optim.SGD(tproblem.net.parameters(), lr=0.5)
    for _ in range(3):
        tproblem.train_init_op()
        while True:
            try:
                opt.zero_grad()
                loss, acc = tproblem.get_batch_loss_and_accuracy()
            except StopIteration:
                break
            loss.backward()
            opt.step()
    tproblem.test_init_op()
    _, acc = tproblem.get_batch_loss_and_accuracy()
    assert float(acc) > 0.8
    assert tproblem.get_regularization_loss() > 0


def test_user_problem_through_the_standard_runner(tmp_path, monkeypatch):
    monkeypatch.setattr(pt.testproblems, "blobs_logreg", blobs_logreg, raising=False)
    hyperparams = {"lr": {"type": float}, "momentum": {"type": float, "default": 0.99},
                   "nesterov": {"type": bool, "default": False}}
    runner = pt.runners.StandardRunner(torch.optim.SGD, hyperparams)
    output = runner.run(testproblem="blobs_logreg", hyperparams={"lr": 0.01}, batch_size=32,
                        num_epochs=2, output_dir=str(tmp_path), l2_reg=0.001)
    assert output["status"] == "done" and len(output["test_accuracies"]) == 3
    assert output["weight_decay"] == 0.001
    assert runner.last_results_path.parent.name == (
        "num_epochs__2__batch_size__32__weight_decay__1.e-03__lr__1.e-02__momentum__9.9e-01"
        "__nesterov__False")
