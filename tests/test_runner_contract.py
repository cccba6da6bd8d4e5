"""What a run promises, checked through the public API (``StandardRunner.run`` and its files).

Each test targets one promise that a plausible bug would break without any other test
noticing: divergence found at an evaluation, optimizers without a closure argument, results
of the same second, the recorded L2 factor, ``N + 1`` evaluations, ``weight_decay=`` and
DeepOBS 1.1's list form of hyperparameter specs.
"""

from __future__ import annotations

import json
import math
import re

import pytest
import torch
from fake_image_data import allow_fake_files, write_cifar10

from deepobs.pytorch.runners import StandardRunner

SGD = {"lr": {"type": float}}
STEPS_PER_EPOCH = 7  # quadratic_deep: 1,000 training examples at batch size 128
CURVES = ("train_losses", "valid_losses", "test_losses")


def run(tmp_path, optimizer=torch.optim.SGD, spec=None, hyperparams=None, **kwargs):
    runner = StandardRunner(optimizer, SGD if spec is None else spec)
    kwargs = {
        "testproblem": "quadratic_deep",
        "num_epochs": 1,
        "output_dir": tmp_path,
        "device": "cpu",
        **kwargs,
    }
    result = runner.run(hyperparams={"lr": 0.01} if hyperparams is None else hyperparams, **kwargs)
    return runner, result


class PoisonAtEpochEnd(torch.optim.SGD):
    """SGD whose last step of epoch 1 turns every weight into NaN.

    Every training loss of the run is finite: only the evaluation after epoch 1 can see
    that the run diverged.
    """

    steps = 0

    @torch.no_grad()
    def step(self, closure=None):
        loss = super().step(closure)
        PoisonAtEpochEnd.steps += 1
        if PoisonAtEpochEnd.steps == STEPS_PER_EPOCH:
            for group in self.param_groups:
                for p in group["params"]:
                    p.fill_(math.nan)
        return loss


def test_divergence_found_at_an_evaluation_ends_the_run_as_diverged(tmp_path):
    PoisonAtEpochEnd.steps = 0
    runner, result = run(tmp_path, PoisonAtEpochEnd, num_epochs=3, train_log_interval=1)
    assert result["status"] == "diverged" and result["diverged_at_epoch"] == 1
    assert PoisonAtEpochEnd.steps == STEPS_PER_EPOCH  # no training after the evaluation
    losses = result["minibatch_train_losses"]
    assert len(losses) == STEPS_PER_EPOCH and all(math.isfinite(v) for v in losses)
    for key in CURVES:
        assert len(result[key]) == 4 and math.isfinite(result[key][0])
        assert all(v is None or not math.isfinite(v) for v in result[key][1:])
    on_disk = json.loads(runner.last_results_path.read_text())
    assert on_disk["status"] == "diverged" and on_disk["diverged_at_epoch"] == 1


class NoClosureSGD(torch.optim.Optimizer):
    """Plain SGD whose ``step()`` takes no argument at all (allowed for an optimizer)."""

    def __init__(self, params, lr: float = 0.01) -> None:
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self):  # noqa: D102 - no closure parameter on purpose
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])


def test_optimizer_whose_step_takes_no_closure_trains(tmp_path):
    runner, result = run(tmp_path, NoClosureSGD, num_epochs=2)
    _, reference = run(tmp_path / "sgd", num_epochs=2, no_logs=True)
    assert result["status"] == "done" and runner.last_results_path.is_file()
    assert result["test_losses"][-1] < result["test_losses"][0]
    assert result["test_losses"] == pytest.approx(reference["test_losses"], rel=1e-5)


def test_results_of_one_seed_in_the_same_second_are_all_kept(tmp_path):
    run(tmp_path / "warm-up", num_epochs=0, no_logs=True)  # imports and caches: later runs ~0.2 s
    paths = []
    for _ in range(12):
        runner, _ = run(tmp_path, num_epochs=0)
        paths.append(runner.last_results_path)
        stamps = [re.sub(r"_\d+$", "", p.stem) for p in paths]
        if len(set(stamps)) < len(stamps):
            break
    assert len(set(stamps)) < len(stamps), "no two runs started in the same second"
    files = sorted(p.name for p in tmp_path.rglob("random_seed__42__*.json"))
    assert len(files) == len(paths) == len(set(paths))
    assert sorted(p.name for p in paths) == files
    assert all(json.loads(p.read_text())["random_seed"] == 42 for p in paths)


@pytest.fixture
def cifar_dir(tmp_path, monkeypatch):
    allow_fake_files(monkeypatch)
    write_cifar10(tmp_path / "data", 16, 8, seed=0)
    return tmp_path / "data"


def first_loss(tmp_path, cifar_dir, **kwargs):
    torch.manual_seed(0)
    runner, result = run(
        tmp_path,
        testproblem="cifar10_3c3d",
        batch_size=4,
        num_epochs=0,
        data_dir=cifar_dir,
        hyperparams={"lr": 0.0},
        **kwargs,
    )
    on_disk = json.loads(runner.last_results_path.read_text())
    return result, on_disk


def test_effective_l2_reg_is_recorded_and_applied(tmp_path, cifar_dir):
    # cifar10_3c3d's default L2 factor is 0.002 (DeepOBS); None: the default was used.
    default, default_file = first_loss(tmp_path / "a", cifar_dir)
    assert (default["l2_reg"], default["effective_l2_reg"]) == (None, 0.002)
    assert (default_file["l2_reg"], default_file["effective_l2_reg"]) == (None, 0.002)
    none, none_file = first_loss(tmp_path / "b", cifar_dir, l2_reg=0.0)
    assert none["effective_l2_reg"] == none_file["effective_l2_reg"] == 0.0
    big, big_file = first_loss(tmp_path / "c", cifar_dir, l2_reg=0.5)
    assert big["effective_l2_reg"] == big_file["effective_l2_reg"] == 0.5
    # applied as recorded: the training loss (which includes the L2 term) grows with it
    losses = [r["train_losses"][0] for r in (none, default, big)]
    assert losses[0] < losses[1] < losses[2]
    assert (losses[2] - losses[0]) == pytest.approx((losses[1] - losses[0]) * 250, rel=1e-3)


def test_weight_decay_is_the_l2_factor(tmp_path, cifar_dir):
    by_l2, _ = first_loss(tmp_path / "a", cifar_dir, l2_reg=0.01)
    by_wd, wd_file = first_loss(tmp_path / "b", cifar_dir, weight_decay=0.01)
    assert by_wd["effective_l2_reg"] == wd_file["effective_l2_reg"] == 0.01
    assert by_wd["train_losses"] == by_l2["train_losses"]
    with pytest.raises(ValueError, match="weight_decay"):
        first_loss(tmp_path / "c", cifar_dir, l2_reg=0.01, weight_decay=0.02)


@pytest.mark.parametrize("num_epochs", [0, 1, 3])
def test_every_curve_has_one_evaluation_per_epoch_plus_the_initial_one(tmp_path, num_epochs):
    _, result = run(tmp_path, num_epochs=num_epochs, train_log_interval=1)
    for key in CURVES:
        assert len(result[key]) == num_epochs + 1, key
        assert all(math.isfinite(v) for v in result[key])
    assert len(result["minibatch_train_losses"]) == STEPS_PER_EPOCH * num_epochs


def test_deepobs_11_list_form_of_hyperparameter_specs(tmp_path):
    as_list = [
        {"name": "lr", "type": float},
        {"name": "momentum", "type": float, "default": 0.9},
        {"name": "nesterov", "type": bool, "default": False},
    ]
    as_dict = {
        "lr": {"type": float},
        "momentum": {"type": float, "default": 0.9},
        "nesterov": {"type": bool, "default": False},
    }
    runner, listed = run(tmp_path / "a", spec=as_list, num_epochs=2)
    dict_runner, mapped = run(tmp_path / "b", spec=as_dict, num_epochs=2)
    expected = {"lr": 0.01, "momentum": 0.9, "nesterov": False}
    assert listed["optimizer_hyperparams"] == mapped["optimizer_hyperparams"] == expected
    for key in (*CURVES, "minibatch_train_losses"):
        assert listed[key] == mapped[key]
    folder = "num_epochs__2__batch_size__128__lr__1.e-02__momentum__9.e-01__nesterov__False"
    assert runner.last_results_path.parent.name == dict_runner.last_results_path.parent.name
    assert runner.last_results_path.parent.name == folder


class _HalfWriter:
    """A file handle that writes half of what it is given, then fails with ``error``."""

    def __init__(self, handle, error: BaseException) -> None:
        self._handle, self._error = handle, error

    def write(self, data):
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        raise self._error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._handle, name)


@pytest.mark.parametrize(
    "error",
    [KeyboardInterrupt(), OSError(28, "No space left on device")],
    ids=["interrupt", "disk-full"],
)
def test_a_write_interrupted_midway_leaves_no_partial_file(tmp_path, monkeypatch, error):
    import builtins

    real_open = builtins.open

    def failing_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        is_result = str(file).startswith(str(tmp_path)) and ".json" in str(file)
        return _HalfWriter(handle, error) if is_result and "r" not in mode else handle

    monkeypatch.setattr(builtins, "open", failing_open)
    with pytest.raises(type(error)):
        run(tmp_path, num_epochs=1)
    monkeypatch.setattr(builtins, "open", real_open)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []  # no partial, no temp
    runner, _ = run(tmp_path, num_epochs=1)  # the next run writes a complete file
    assert json.loads(runner.last_results_path.read_text())["status"] == "done"
