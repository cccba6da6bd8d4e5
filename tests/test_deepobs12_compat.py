"""Code written for DeepOBS 1.2's PyTorch API runs unchanged (a user's data set and problem)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils import data as dat

from deepobs import pytorch as pt
from deepobs.pytorch.datasets.dataset import DataSet


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
        train = dat.DataLoader(
            self._make(256, 0), batch_size=self._batch_size, shuffle=True, drop_last=True
        )
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
    hyperparams = {
        "lr": {"type": float},
        "momentum": {"type": float, "default": 0.99},
        "nesterov": {"type": bool, "default": False},
    }
    runner = pt.runners.StandardRunner(torch.optim.SGD, hyperparams)
    output = runner.run(
        testproblem="blobs_logreg",
        hyperparams={"lr": 0.01},
        batch_size=32,
        num_epochs=2,
        output_dir=str(tmp_path),
        l2_reg=0.001,
    )
    assert output["status"] == "done" and len(output["test_accuracies"]) == 3
    assert output["weight_decay"] == 0.001
    assert runner.last_results_path.parent.name == (
        "num_epochs__2__batch_size__32__l2_reg__1.e-03__lr__1.e-02__momentum__9.9e-01"
        "__nesterov__False"
    )


class numbered(DataSet):  # noqa: N801 - a DeepOBS develop-style user data set
    """Examples 0..n-1 (the feature is the index), split with DeepOBS' helpers."""

    def __init__(self, batch_size, n=200, train_eval_size=40):
        self._name = "numbered"
        self._train_eval_size = train_eval_size
        self._n = n
        super().__init__(batch_size)

    def _data(self, offset=0):
        x = torch.arange(self._n, dtype=torch.float32)[:, None] + offset
        return dat.TensorDataset(x, torch.zeros(self._n, dtype=torch.long))

    def _make_train_and_valid_dataloader(self):
        return self._make_train_and_valid_dataloader_helper(self._data(), self._data())

    def _make_test_dataloader(self):
        return self._make_dataloader(self._data(offset=1000))


def _indices(loader):
    return sorted(int(v) for x, _ in loader for v in x[:, 0])


def test_develop_dataset_helpers_split_train_valid_and_train_eval():
    data = numbered(batch_size=10)
    train, valid, train_eval = (
        _indices(data.train_loader),
        _indices(data.valid_loader),
        _indices(data.train_eval_loader),
    )
    assert len(valid) == 40 and len(train) == 160 and len(train_eval) == 40
    assert not set(valid) & set(train)
    assert set(train_eval) <= set(train)  # evaluation on training data never sees valid data
    assert _indices(data.test_loader) == list(range(1000, 1200))
    assert data.name == "numbered"
    assert isinstance(data.train_loader, dat.DataLoader) and data.train_loader.num_workers == 0


def test_develop_dataset_validation_split_does_not_follow_the_seed():
    torch.manual_seed(1)
    first = numbered(batch_size=10)
    torch.manual_seed(2)
    second = numbered(batch_size=10)
    assert _indices(first.valid_loader) == _indices(second.valid_loader)
    order1 = [int(x[0, 0]) for x, _ in first.train_loader]
    order2 = [int(x[0, 0]) for x, _ in second.train_loader]
    assert order1 != order2  # the training order does follow it


def test_develop_dataset_errors_name_the_data_set():
    with pytest.raises(ValueError, match="_train_eval_size.*200"):
        numbered(batch_size=10, train_eval_size=200)
    with pytest.raises(ValueError, match="numbered"):
        numbered(batch_size=50, n=90, train_eval_size=45)


def test_replace_loader():
    data = numbered(batch_size=10)
    loader = [(torch.zeros(10, 1), torch.zeros(10, dtype=torch.long))]
    data.replace_loader("valid", loader)
    assert data.valid_loader is loader and data.loaders()["valid"] is loader
    with pytest.raises(ValueError, match="'validation'.*train_eval"):
        data.replace_loader("validation", loader)


def test_dataset_module_path_as_in_deepobs():
    from deepobs.pytorch.datasets import dataset

    assert dataset.DataSet is pt.datasets.DataSet
