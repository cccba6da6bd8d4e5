"""Batched seeds: K seeds trained as one stacked model equal K separate StandardRunner runs.

Stated tolerance: curves agree with separate runs to a relative 1e-4 (absolute 1e-6);
in these short runs the observed differences are float32 rounding (<= 1e-5 relative). Names of
folders and files, statuses, divergence epochs and curve lengths agree exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from fake_image_data import allow_fake_files, write_fake
from torch import nn

from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.runners.batched import (
    BatchedSeedRunner,
    check_supported,
    is_elementwise,
    parse_seeds,
    run_batched_seeds,
)
from deepobs.pytorch.testproblems import quadratic_deep

RTOL, ATOL = 1e-4, 1e-6
CURVES = (
    "train_losses",
    "valid_losses",
    "test_losses",
    "minibatch_train_losses",
    "train_accuracies",
    "valid_accuracies",
    "test_accuracies",
)
SGD_HP = {
    "lr": {"type": float},
    "momentum": {"type": float, "default": 0.0},
    "nesterov": {"type": bool, "default": False},
}
ADAM_HP = {"lr": {"type": float}}


def _separate(optimizer, hp_names, seeds, **run):
    runner = StandardRunner(optimizer, hp_names)
    results, paths = [], []
    for seed in seeds:
        results.append(runner.run(random_seed=seed, **run))
        paths.append(runner.last_results_path)
    return results, paths


def _assert_equal_runs(batched, separate):
    assert len(batched) == len(separate)
    for a, b in zip(batched, separate, strict=True):
        assert a["random_seed"] == b["random_seed"]
        assert (a["status"], a["diverged_at_epoch"]) == (b["status"], b["diverged_at_epoch"])
        for key in CURVES:
            if key not in b:
                assert key not in a
                continue
            assert len(a[key]) == len(b[key]), key
            x = np.array(a[key], dtype=float)  # None -> nan
            y = np.array(b[key], dtype=float)
            np.testing.assert_allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=key)
        for key in (
            "testproblem",
            "batch_size",
            "num_epochs",
            "optimizer_name",
            "optimizer_hyperparams",
            "training_params",
            "l2_reg",
        ):
            assert a[key] == b[key], key
        assert a["meta"]["cost"]["train_steps"] == b["meta"]["cost"]["train_steps"]


def _compare(tmp_path, optimizer, hp_names, seeds, **run):
    batched = BatchedSeedRunner(optimizer, hp_names)
    results = batched.run_seeds(seeds=seeds, output_dir=tmp_path / "batched", **run)
    separate, paths = _separate(optimizer, hp_names, seeds, output_dir=tmp_path / "separate", **run)
    _assert_equal_runs(results, separate)
    # Same folder and file names as separate runs (start times aside), so results pool.
    for mine, theirs in zip(batched.last_results_paths, paths, strict=True):
        rel_a = mine.parent.relative_to(tmp_path / "batched")
        assert rel_a == theirs.parent.relative_to(tmp_path / "separate")
        assert mine.name.split("__")[:2] == theirs.name.split("__")[:2]
        written = json.loads(mine.read_text())
        assert written["meta"]["batched_seeds"]["seeds"] == list(seeds)
        assert set(written) == set(json.loads(theirs.read_text()))
    return results


def test_quadratic_deep_sgd_momentum_equals_separate_runs(tmp_path):
    results = _compare(
        tmp_path,
        torch.optim.SGD,
        SGD_HP,
        [3, 4, 5],
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.02, "momentum": 0.9},
        num_epochs=2,
    )
    # The seeds differ from each other (their own data order), or the test would prove little.
    assert results[0]["minibatch_train_losses"] != results[1]["minibatch_train_losses"]


def test_divergence_is_recorded_as_in_separate_runs(tmp_path):
    results = _compare(
        tmp_path,
        torch.optim.SGD,
        SGD_HP,
        [1, 2],
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.2, "momentum": 0.9},
        num_epochs=4,
    )
    assert all(r["status"] == "diverged" for r in results)


def test_mnist_mlp_adam_on_fake_data(tmp_path, monkeypatch):
    allow_fake_files(monkeypatch)
    write_fake("mnist", tmp_path / "data", 256, 64, seed=0, learnable=True)
    _compare(
        tmp_path,
        torch.optim.Adam,
        ADAM_HP,
        [7, 8],
        testproblem="mnist_mlp",
        hyperparams={"lr": 1e-3},
        batch_size=32,
        num_epochs=2,
        data_dir=tmp_path / "data",
    )


@pytest.mark.slow
def test_cifar10_3c3d_nesterov_with_l2_and_augmentation(tmp_path, monkeypatch):
    allow_fake_files(monkeypatch)
    write_fake("cifar10", tmp_path / "data", 96, 32, seed=0, learnable=True)
    _compare(
        tmp_path,
        torch.optim.SGD,
        SGD_HP,
        [42, 43],
        testproblem="cifar10_3c3d",
        hyperparams={"lr": 0.01, "momentum": 0.9, "nesterov": True},
        batch_size=16,
        num_epochs=1,
        data_dir=tmp_path / "data",
    )


def test_cli_entry_point_and_skip_if_exists(tmp_path):
    run = {
        "testproblem": "quadratic_deep",
        "hyperparams": {"lr": 0.01},
        "num_epochs": 1,
        "output_dir": tmp_path,
    }
    runner = {"optimizer_class": torch.optim.SGD, "hyperparameter_names": {"lr": {"type": float}}}
    assert len(run_batched_seeds(runner, run, "1-2")) == 2
    again = run_batched_seeds(runner, {**run, "skip_if_exists": True}, "1-3")
    assert [r["random_seed"] for r in again] == [3]
    assert len(list(tmp_path.rglob("random_seed__*.json"))) == 3


def test_command_line(tmp_path, capsys):
    from deepobs.pytorch.cli import main

    base = [
        "run",
        "quadratic_deep",
        "--optimizer",
        "torch.optim.SGD",
        "--hp",
        "lr=0.01",
        "-N",
        "1",
        "--output-dir",
        str(tmp_path),
        "--device",
        "cpu",
        "-q",
    ]
    assert main([*base, "--seeds", "5-6", "--batched"]) == 0
    out = capsys.readouterr().out
    assert "seed 5: status done" in out and "seed 6: status done" in out
    assert len(list(tmp_path.rglob("random_seed__*.json"))) == 2
    assert main([*base, "--seeds", "5-6"]) == 2
    assert "--seeds and --batched go together; add --batched" in capsys.readouterr().err


def test_parse_seeds():
    assert parse_seeds("42-45") == [42, 43, 44, 45]
    assert parse_seeds("1,3-4,3") == [1, 3, 4]
    for bad in ("", "a-b", "5-3", "1,,2x"):
        with pytest.raises(ValueError, match="seeds must look like"):
            parse_seeds(bad)


def test_elementwise_optimizers():
    for cls in (
        torch.optim.SGD,
        torch.optim.Adam,
        torch.optim.AdamW,
        torch.optim.RMSprop,
        torch.optim.Adagrad,
    ):
        assert is_elementwise(cls)
    assert not is_elementwise(torch.optim.LBFGS)

    class MySGD(torch.optim.SGD):  # a subclass may change the update: not assumed
        pass

    assert not is_elementwise(MySGD)
    MySGD.elementwise_update = True
    assert is_elementwise(MySGD)


@pytest.fixture
def quadratic():
    problem = quadratic_deep(batch_size=8)
    problem.set_up()
    return problem


def test_refuses_non_elementwise_optimizer(quadratic):
    with pytest.raises(ValueError, match="LBFGS is not known to be one.*elementwise_update"):
        check_supported(torch.optim.LBFGS, quadratic)
    with pytest.raises(ValueError, match="LBFGS"):
        BatchedSeedRunner(torch.optim.LBFGS, {"lr": {"type": float}}).run_seeds(
            "quadratic_deep", {"lr": 0.1}, [1, 2], num_epochs=1, no_logs=True
        )


@pytest.mark.parametrize(
    ("layer", "what"), [(nn.BatchNorm1d(100), "batch norm"), (nn.Dropout(0.5), "dropout")]
)
def test_refuses_batch_norm_and_dropout(quadratic, layer, what):
    quadratic.model.extra = layer
    with pytest.raises(ValueError, match=f"its model has {what}"):
        check_supported(torch.optim.SGD, quadratic)


@pytest.mark.parametrize(
    ("trait", "why"),
    [
        ("stateful", "carries state from batch to batch"),  # the char-RNN
        ("batch_independent_eval", "draws random numbers"),
    ],  # the VAEs
)
def test_refuses_state_across_batches_and_random_losses(quadratic, trait, why):
    declared = type("Declared", (type(quadratic),), {trait: trait == "stateful"})
    quadratic.__class__ = declared
    with pytest.raises(ValueError, match=f"not support Declared: .*{why}"):
        check_supported(torch.optim.SGD, quadratic)


def test_refuses_unsupported_training_params():
    runner = BatchedSeedRunner(torch.optim.SGD, {"lr": {"type": float}})
    with pytest.raises(ValueError, match=r"training parameter\(s\) \['amp'\]"):
        runner.run_seeds("quadratic_deep", {"lr": 0.1}, [1, 2], amp="bf16", no_logs=True)
    with pytest.raises(ValueError, match="distinct"):
        runner.run_seeds("quadratic_deep", {"lr": 0.1}, [1, 1], no_logs=True)
