"""Performance options and cost figures must never change what a run measures unnoticed.

* ``amp="off"`` is bitwise the default; other options are recorded and get their own folder.
* bf16 and fp16 autocast run (on the CPU too) and stay finite; fp16's limits fail early.
* Evaluation in larger chunks and gradient accumulation change results only by rounding.
* Cost figures are present and plausible. No timing assertions.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch
from fake_image_data import allow_fake_files, write_cifar10, write_mnist

from deepobs.pytorch import config, testproblems
from deepobs.pytorch.cli import main
from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.runners._options import batch_independent_eval, eval_chunk_size

SGD = {"lr": {"type": float}, "momentum": {"type": float, "default": 0.0}}
CURVES = ("train_losses", "valid_losses", "test_losses", "minibatch_train_losses")


def run(tmp_path, problem="quadratic_deep", epochs=1, optimizer=torch.optim.SGD, lr=0.01, **kwargs):
    runner = StandardRunner(
        optimizer, SGD if optimizer is torch.optim.SGD else {"lr": {"type": float}}
    )
    result = runner.run(
        testproblem=problem,
        hyperparams={"lr": lr},
        num_epochs=epochs,
        output_dir=tmp_path,
        device="cpu",
        **kwargs,
    )
    return runner, result


@pytest.fixture
def mnist_dir(tmp_path, monkeypatch):
    """Fake MNIST: 320 training examples (160 train, 160 valid), 96 test examples."""
    allow_fake_files(monkeypatch)
    write_mnist(tmp_path / "data", 320, 96, seed=4, learnable=True)
    return tmp_path / "data"


def finite(result) -> bool:
    return all(v is not None and math.isfinite(v) for k in CURVES for v in result[k])


def test_amp_off_is_bitwise_the_default_and_keeps_the_folder(tmp_path):
    runner_a, default = run(tmp_path / "a", epochs=2)
    runner_b, off = run(tmp_path / "b", epochs=2, amp="off", compile=False, channels_last=False)
    for key in CURVES:
        assert default[key] == off[key]
    assert off["training_params"] == {}  # defaults are the default run
    assert runner_a.last_results_path.parent.name == runner_b.last_results_path.parent.name
    options = off["meta"]["performance_options"]
    assert options["amp"] == "off" and options["compile"] is False


def trained(result, by: float) -> bool:
    """The test loss fell by more than the fraction ``by`` (the effect the checks must see)."""
    return result["test_losses"][-1] < (1 - by) * result["test_losses"][0]


# Measured on mnist_mlp, 1 epoch, lr 0.05: training lowers the test loss by 0.62 %; bf16
# autocast moves it by 1.5e-5 (relative), fp16 with its scaler by 1.4e-6, and gradient
# accumulation under bf16 by 1.5e-6. Each bound is a few times the measured error and far
# below the training effect, so a run that does not train (or trains differently) fails.
BF16_REL, FP16_REL, ACCUMULATION_REL, TRAINING_EFFECT = 1e-4, 2e-5, 2e-5, 3e-3


def test_bf16_is_finite_recorded_and_gets_its_own_folder(tmp_path, mnist_dir):
    kwargs = dict(problem="mnist_mlp", batch_size=32, data_dir=mnist_dir, lr=0.05)
    _, full = run(tmp_path, **kwargs, no_logs=True)
    runner, half = run(tmp_path, **kwargs, amp="bf16")
    assert finite(half) and half["training_params"] == {"amp": "bf16"}
    assert runner.last_results_path.parent.name.endswith("__amp__bf16")
    data = json.loads(runner.last_results_path.read_text())
    assert data["meta"]["performance_options"]["amp"] == "bf16"
    assert trained(full, TRAINING_EFFECT) and trained(half, TRAINING_EFFECT)
    assert half["test_losses"] == pytest.approx(full["test_losses"], rel=BF16_REL)
    assert half["test_losses"] != full["test_losses"]  # autocast really ran


class SpyScaler(torch.amp.GradScaler):
    """torch's GradScaler, counting what the training step asks of it."""

    instances: list[SpyScaler] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = {"scale": 0, "step": 0, "update": 0}
        SpyScaler.instances.append(self)

    def scale(self, outputs):
        self.calls["scale"] += 1
        return super().scale(outputs)

    def step(self, optimizer, *args, **kwargs):
        self.calls["step"] += 1
        return super().step(optimizer, *args, **kwargs)

    def update(self, new_scale=None):
        self.calls["update"] += 1
        return super().update(new_scale)


def test_fp16_steps_through_a_grad_scaler_and_its_limits_fail_early(
    tmp_path, mnist_dir, monkeypatch
):
    SpyScaler.instances = []
    monkeypatch.setattr(torch.amp, "GradScaler", SpyScaler)
    kwargs = dict(problem="mnist_mlp", batch_size=32, data_dir=mnist_dir, lr=0.05, no_logs=True)
    _, full = run(tmp_path, **kwargs)
    assert SpyScaler.instances == []  # fp32 needs no scaler
    _, result = run(tmp_path, **kwargs, amp="fp16")
    assert finite(result) and result["meta"]["performance_options"]["amp"] == "fp16"
    steps = result["meta"]["cost"]["train_steps"]  # 160 training examples / 32 = 5
    assert steps == 5 and len(SpyScaler.instances) == 1
    # every step scales the loss, steps through the scaler (which unscales) and updates it
    assert SpyScaler.instances[0].calls == {"scale": steps, "step": steps, "update": steps}
    assert trained(result, TRAINING_EFFECT)  # unscaled gradients: the same training as fp32
    assert result["test_losses"] == pytest.approx(full["test_losses"], rel=FP16_REL)
    with pytest.raises(ValueError, match="LBFGS needs a closure"):
        run(tmp_path, optimizer=torch.optim.LBFGS, amp="fp16", no_logs=True)
    with pytest.raises(ValueError, match="grad_accumulation=2"):
        run(tmp_path, amp="fp16", grad_accumulation=2, no_logs=True)
    _, lbfgs = run(tmp_path, optimizer=torch.optim.LBFGS, lr=0.1, amp="bf16", no_logs=True)
    assert finite(lbfgs)  # closure optimizers work with bf16


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"amp": "fp32"}, r"amp must be one of \['bf16', 'fp16', 'off'\], got 'fp32'"),
        ({"compile": "yes"}, "compile must be True or False"),
        ({"eval_batch_size": 0}, "eval_batch_size must be a positive integer"),
    ],
)
def test_bad_option_values_fail_before_training(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(tmp_path, **kwargs)
    assert not list(tmp_path.rglob("*.json"))


def test_eval_chunks_change_results_only_by_rounding(tmp_path, mnist_dir):
    kwargs = dict(problem="mnist_mlp", batch_size=16, data_dir=mnist_dir, epochs=2, no_logs=True)
    _, exact = run(tmp_path, **kwargs, eval_batch_size=16)  # DeepOBS' batch-by-batch order
    _, default = run(tmp_path, **kwargs)
    _, large = run(tmp_path, **kwargs, eval_batch_size=10_000)
    assert exact["minibatch_train_losses"] == default["minibatch_train_losses"]  # same training
    for result in (default, large):
        for key in ("train_losses", "valid_losses", "test_losses", "test_accuracies"):
            assert result[key] == pytest.approx(exact[key], rel=1e-5, abs=1e-7)
    chunks = default["meta"]["performance_options"]["eval_chunk_sizes"]
    assert chunks == {"train_eval": 40, "valid": 40, "test": 48}  # at most 4 * 16, divisors
    assert large["meta"]["performance_options"]["eval_chunk_sizes"]["test"] == 96


def test_only_batch_independent_problems_are_chunked():
    assert batch_independent_eval(testproblems.mnist_mlp)
    for name in ("mnist_vae", "tolstoi_char_rnn", "quadratic_deep"):  # noise, state, own loss
        assert not batch_independent_eval(getattr(testproblems, name))
    assert eval_chunk_size(9984, 512) == 416  # CIFAR test at batch size 128: 78 batches
    assert eval_chunk_size(896, 512) == 448 and eval_chunk_size(7, 4) == 1


def test_grad_accumulation_with_bf16_matches_whole_batches(tmp_path, mnist_dir):
    kwargs = dict(
        problem="mnist_mlp",
        batch_size=32,
        data_dir=mnist_dir,
        no_logs=True,
        amp="bf16",
        eval_batch_size=32,
    )
    _, whole = run(tmp_path, **kwargs, lr=0.05)
    _, split = run(tmp_path, **kwargs, lr=0.05, grad_accumulation=2)
    assert trained(whole, TRAINING_EFFECT)
    assert split["test_losses"] == pytest.approx(whole["test_losses"], rel=ACCUMULATION_REL)


def test_channels_last_matches_the_default_layout(tmp_path, monkeypatch):
    allow_fake_files(monkeypatch)
    write_cifar10(tmp_path / "data", 96, 16, seed=2, learnable=True)
    kwargs = dict(problem="cifar10_3c3d", batch_size=8, data_dir=tmp_path / "data", no_logs=True)
    _, default = run(tmp_path, **kwargs)
    _, channels_last = run(tmp_path, **kwargs, channels_last=True)
    assert channels_last["training_params"] == {"channels_last": True}
    for key in CURVES:
        assert channels_last[key] == pytest.approx(default[key], rel=1e-4)


def test_cost_figures(tmp_path):
    _, result = run(tmp_path, epochs=2, optimizer=torch.optim.Adam, no_logs=True)
    cost = result["meta"]["cost"]
    assert cost["train_steps"] == 14  # 7 steps per epoch at batch size 128
    assert cost["optimizer_state_bytes"] == 2 * 100 * 4 + 4  # two moments and the step count
    assert cost["timed_steps"] == 1 and 0.0 <= cost["optimizer_step_share"] <= 1.0
    assert cost["train_time_s"] > 0 and cost["eval_time_s"] > 0 and cost["steps_per_second"] > 0
    assert cost["peak_device_memory_bytes"] is None  # CPU: peak RSS instead
    assert cost["peak_rss_bytes"] > 10_000_000


def test_command_line_flags(tmp_path, capsys, monkeypatch):
    code = main(
        [
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
            "--amp",
            "bf16",
            "--eval-batch-size",
            "256",
        ]
    )
    assert code == 0
    path = capsys.readouterr().out.split("results: ")[1].strip()
    data = json.loads(Path(path).read_text())
    assert data["training_params"] == {"amp": "bf16", "eval_batch_size": 256}
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "script",
            "quadratic_deep",
            "--lr",
            "0.01",
            "-N",
            "1",
            "--no_logs",
            "--amp",
            "bf16",
            "--channels-last",
        ],
    )
    result = StandardRunner(torch.optim.SGD, SGD).run(device="cpu")
    assert result["training_params"] == {"amp": "bf16", "channels_last": True}


def test_num_workers_default_per_platform(monkeypatch):
    config.set_num_workers(None)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert config.get_num_workers() == 0
    monkeypatch.setattr(sys, "platform", "linux")
    assert 1 <= config.get_num_workers() <= 8
    config.set_num_workers(3)  # an explicit setting wins everywhere
    assert config.get_num_workers() == 3


@pytest.mark.slow
def test_compile_matches_eager(tmp_path, mnist_dir):
    kwargs = dict(problem="mnist_mlp", batch_size=32, data_dir=mnist_dir, no_logs=True)
    _, eager = run(tmp_path, **kwargs)
    _, compiled = run(tmp_path, **kwargs, compile=True)
    assert compiled["training_params"] == {"compile": True}
    for key in CURVES:
        assert compiled[key] == pytest.approx(eager[key], rel=1e-4)
