"""TensorBoard logging: curves, mini-batch losses, learning rate and hyperparameters."""

from __future__ import annotations

import sys

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from deepobs.pytorch.runners import LearningRateScheduleRunner, StandardRunner

SGD = {"lr": {"type": float}}


def run(tmp_path, runner=None, **kwargs):
    runner = runner or StandardRunner(torch.optim.SGD, SGD)
    result = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.02},
        num_epochs=2,
        output_dir=tmp_path,
        device="cpu",
        tb_log=True,
        train_log_interval=2,
        **kwargs,
    )
    return runner, result


def scalars(log_dir):
    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {
        tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]
    }


def test_logs_curves_minibatches_and_learning_rate(tmp_path):
    runner = LearningRateScheduleRunner(torch.optim.SGD, SGD)
    runner, result = run(tmp_path, runner, lr_sched_epochs=[1], lr_sched_factors=[0.5])
    log_dir = runner.last_results_path.parent / "tb__random_seed__42"
    assert result["meta"]["tensorboard_dir"] == str(log_dir)
    logged = scalars(log_dir)
    assert [step for step, _ in logged["test/loss"]] == [0, 1, 2]
    assert [v for _, v in logged["valid/loss"]] == pytest.approx(result["valid_losses"])
    assert [v for _, v in logged["train_eval/loss"]] == pytest.approx(result["train_losses"])
    # 7 steps per epoch, every 2nd logged: steps 0, 2, 4, 6, then 7, 9, 11, 13
    assert [s for s, _ in logged["train/minibatch_loss"]] == [0, 2, 4, 6, 7, 9, 11, 13]
    assert [v for _, v in logged["train/minibatch_loss"]] == pytest.approx(
        result["minibatch_train_losses"]
    )
    assert logged["train/learning_rate"] == [(0, pytest.approx(0.02)), (1, pytest.approx(0.01))]
    text = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    text.Reload()
    assert "hyperparameters/text_summary" in text.Tags()["tensors"]


def test_explicit_log_dir_mirrors_the_results_tree(tmp_path):
    runner, _ = run(tmp_path / "results", tb_log_dir=str(tmp_path / "tb"))
    setting = runner.last_results_path.parent.name
    log_dir = tmp_path / "tb" / "quadratic_deep" / "SGD" / setting / "tb__random_seed__42"
    assert scalars(log_dir)["test/loss"]
    assert not (runner.last_results_path.parent / "tb__random_seed__42").exists()


def test_off_by_default(tmp_path):
    runner = StandardRunner(torch.optim.SGD, SGD)
    runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.02},
        num_epochs=1,
        output_dir=tmp_path,
        device="cpu",
    )
    assert not list(tmp_path.rglob("events.out.tfevents.*"))


def test_missing_extra_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match=r'pip install "deepobs\[tensorboard\]"'):
        run(tmp_path)
    assert not list(tmp_path.rglob("*.json"))
