"""``data_order``: reshuffle every epoch, or replay one order per run (the published baselines)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from deepobs.pytorch.datasets import TensorBatchLoader
from deepobs.pytorch.runners import StandardRunner, _data_order

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference_results"
PUBLISHED = REFERENCE / "deepobs_1.1_baselines" / "quadratic_deep"
#: The published best settings of DeepOBS 1.1 on quadratic_deep (batch 128, 100 epochs).
SETTINGS = {
    "GradientDescentOptimizer": (torch.optim.SGD, {"lr": 1.5848931925e-02}),
    "MomentumOptimizer": (torch.optim.SGD, {"lr": 2.5118864315e-03, "momentum": 0.99}),
    "AdamOptimizer": (torch.optim.Adam, {"lr": 3.9810717055e-02}),
}


def _orders(loader, passes=3):
    return [torch.cat([b[0] for b in loader]).tolist() for _ in range(passes)]


def test_fixed_order_replays_the_first_reshuffled_pass():
    data = [torch.arange(20.0), torch.arange(20)]
    reshuffled = _orders(TensorBatchLoader(data, 5, shuffle=True, seed=3))
    fixed = _orders(TensorBatchLoader(data, 5, shuffle=True, seed=3, data_order="fixed"))
    assert reshuffled[0] != reshuffled[1] != reshuffled[2]
    assert fixed == [reshuffled[0]] * 3
    other_seed = _orders(TensorBatchLoader(data, 5, shuffle=True, seed=4, data_order="fixed"))
    assert other_seed[0] != fixed[0]
    with pytest.raises(ValueError, match="data_order must be one of"):
        TensorBatchLoader(data, 5, data_order="sorted")


def test_fixed_order_keeps_augmentation_draws_per_step():
    seen = []

    def transform(batch, generator):
        seen.append(torch.rand(1, generator=generator).item())
        return batch

    loader = TensorBatchLoader(
        [torch.arange(8.0)], 4, shuffle=True, data_order="fixed", transform=transform
    )
    _orders(loader, passes=2)
    assert len(set(seen)) == 4  # fresh random numbers in every step of every pass


class _Data:
    def __init__(self, train):
        self.train = train

    def loaders(self):
        return {"train": self.train}

    def replace_loader(self, split, loader):
        self.train = loader


class _Problem:
    def __init__(self, train):
        self.data = _Data(train)


def test_dataloader_backed_sets_replay_one_sampled_order():
    dataset = TensorDataset(torch.arange(12.0))
    problem = _Problem(DataLoader(dataset, batch_size=4, shuffle=True, drop_last=True))
    _data_order.apply(problem, "fixed", seed=42)
    loader = problem.data.train
    assert isinstance(loader.sampler, _data_order.FixedOrderSampler)
    passes = _orders(loader)
    assert passes[0] == passes[1] == passes[2] and sorted(passes[0]) == list(range(12))
    again = _Problem(DataLoader(dataset, batch_size=4, shuffle=True, drop_last=True))
    _data_order.apply(again, "fixed", seed=42)
    assert _orders(again.data.train, 1)[0] == passes[0]  # drawn from the run's seed
    with pytest.raises(ValueError, match="cannot be applied"):
        _data_order.apply(_Problem(iter([])), "fixed", seed=1)


def test_recorded_and_named_only_when_not_the_default(tmp_path):
    runner = StandardRunner(torch.optim.SGD, {"lr": {"type": float}})
    fixed = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=2,
        output_dir=tmp_path,
        device="cpu",
        data_order="fixed",
    )
    assert fixed["training_params"] == {"data_order": "fixed"}
    assert runner.last_results_path.parent.name.endswith("__data_order__fixed")
    default = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=2,
        output_dir=tmp_path,
        device="cpu",
        data_order="reshuffle",
    )
    assert default["training_params"] == {}
    assert "data_order" not in runner.last_results_path.parent.name
    assert fixed["test_losses"][0] == default["test_losses"][0]  # evaluation is untouched
    assert fixed["test_losses"][1] == default["test_losses"][1]  # fixed = the first pass ...
    assert fixed["test_losses"][2] != default["test_losses"][2]  # ... replayed
    with pytest.raises(ValueError, match="data_order must be one of"):
        runner.run(
            testproblem="quadratic_deep",
            hyperparams={"lr": 0.01},
            num_epochs=1,
            no_logs=True,
            data_order="sorted",
        )


class _TestCurveOnly(StandardRunner):
    """Evaluates only the test split (the one compared here): a third of the evaluation time."""

    def evaluate_all(
        self,
        epoch,
        num_epochs,
        tproblem,
        train_losses,
        valid_losses,
        test_losses,
        train_accuracies,
        valid_accuracies,
        test_accuracies,
    ):
        loss, _ = self.evaluate(tproblem, "TEST")
        for losses in (train_losses, valid_losses, test_losses):
            losses.append(loss)
        for accuracies in (train_accuracies, valid_accuracies, test_accuracies):
            accuracies.append(None)


def _published_mean_curve(optimizer: str) -> np.ndarray:
    files = sorted((PUBLISHED / optimizer).glob("*/random_seed__*.json"))
    assert len(files) == 3, files
    return np.mean([json.loads(f.read_text())["test_losses"] for f in files], axis=0)


@pytest.mark.parametrize(
    "optimizer",
    [
        pytest.param("GradientDescentOptimizer", marks=pytest.mark.slow),
        "MomentumOptimizer",  # the one reshuffling put 1.4 % off (the fast suite's check)
        pytest.param("AdamOptimizer", marks=pytest.mark.slow),
    ],
)
def test_fixed_order_reproduces_the_published_quadratic_deep_baselines(optimizer):
    optimizer_class, hyperparams = SETTINGS[optimizer]
    runner = _TestCurveOnly(optimizer_class, {k: {"type": float} for k in hyperparams})
    curves = [
        runner.run(
            testproblem="quadratic_deep",
            hyperparams=hyperparams,
            batch_size=128,
            num_epochs=100,
            random_seed=seed,
            no_logs=True,
            device="cpu",
            data_order="fixed",
        )["test_losses"]
        for seed in (42, 43, 44)
    ]
    ours, published = np.mean(curves, axis=0), _published_mean_curve(optimizer)
    assert abs(ours[-1] / published[-1] - 1) < 0.002, (ours[-1], published[-1])
    assert np.max(np.abs(ours / published - 1)) < 0.015
