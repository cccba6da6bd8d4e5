"""Checkpoint and resume: a killed run continues to the same curves, bit for bit on CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from deepobs.pytorch.runners import LearningRateScheduleRunner, StandardRunner
from deepobs.pytorch.runners._checkpoint import checkpoint_path

SGD = {"lr": {"type": float}, "momentum": {"type": float, "default": 0.9}}
CURVES = ("train_losses", "valid_losses", "test_losses", "minibatch_train_losses")
SETTING = "num_epochs__{n}__batch_size__128__lr__5.e-02__momentum__9.e-01"

# A real run in a child process (killed, then resumed in this one). SlowSGD (SGD plus a pause
# per step) makes the run long enough to be killed between two checkpoints; it is named "SGD"
# so that it shares the folder of a plain SGD run. It lives in an importable module so that
# the resumed run uses the same optimizer class (a checkpoint records its class).
SLOW_OPTIM = """
import time, torch

class SlowSGD(torch.optim.SGD):
    def step(self, closure=None):
        time.sleep(0.01)
        return super().step(closure)
"""
CHILD = """
import sys, torch
from deepobs.pytorch.runners import StandardRunner
sys.path.insert(0, sys.argv[2])
from slow_optim import SlowSGD

torch.set_num_threads({threads})
runner = StandardRunner(SlowSGD, {{"lr": {{"type": float}}, "momentum": {{"type": float}}}},
                        optimizer_name="SGD")
runner.run(testproblem="quadratic_deep", hyperparams={{"lr": 0.05, "momentum": 0.9}},
           num_epochs={epochs}, output_dir=sys.argv[1], device="cpu", checkpoint_every=2,
           train_log_interval=3)
"""


class Interrupt(Exception):
    """Stands in for a crash after a given epoch."""


class InterruptAfter:
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, run):
        if run.epoch == self.epoch:
            raise Interrupt


def run(tmp_path, runner=None, epochs=6, lr=0.05, **kwargs):
    runner = runner or StandardRunner(torch.optim.SGD, SGD)
    result = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": lr},
        num_epochs=epochs,
        output_dir=tmp_path,
        device="cpu",
        train_log_interval=3,
        **kwargs,
    )
    return runner, result


def test_killed_subprocess_resumes_bit_for_bit(tmp_path, monkeypatch):
    epochs = 12
    script = CHILD.format(threads=torch.get_num_threads(), epochs=epochs)
    out = tmp_path / "interrupted"
    folder = out / "quadratic_deep" / "SGD" / SETTING.format(n=epochs)
    (tmp_path / "slow_optim.py").write_text(SLOW_OPTIM)
    monkeypatch.syspath_prepend(str(tmp_path))
    from slow_optim import SlowSGD

    child = subprocess.Popen([sys.executable, "-c", script, str(out), str(tmp_path)])
    deadline = time.monotonic() + 60
    while not checkpoint_path(folder, 42).exists():
        assert child.poll() is None and time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert not list(folder.glob("*.json")), "the run finished before it was killed"
    saved = torch.load(checkpoint_path(folder, 42), weights_only=True)
    assert 2 <= saved["epoch"] < epochs

    runner = StandardRunner(SlowSGD, SGD, optimizer_name="SGD")
    _, result = run(out, runner, epochs=epochs, lr=0.05, checkpoint_every=2, resume=True)
    (path,) = folder.glob("random_seed__42__*.json")
    assert json.loads(path.read_text()) == result
    assert result["meta"]["resumed_from_epoch"] == saved["epoch"]
    assert result["meta"]["checkpoint_every"] == 2 and result["training_params"] == {}
    assert not checkpoint_path(folder, 42).exists()  # removed once the results exist

    _, uninterrupted = run(
        tmp_path / "straight", StandardRunner(torch.optim.SGD, SGD), epochs=epochs, no_logs=True
    )
    for key in CURVES:
        assert result[key] == uninterrupted[key], key  # bit for bit


@pytest.mark.parametrize("schedule", [False, True])
def test_resume_in_process_matches_and_keeps_folder(tmp_path, schedule):
    kwargs = {"lr_sched_epochs": [2, 4], "lr_sched_factors": [0.5, 0.1]} if schedule else {}
    runner_class = LearningRateScheduleRunner if schedule else StandardRunner
    _, straight = run(tmp_path / "a", runner_class(torch.optim.SGD, SGD), **kwargs)

    runner = runner_class(torch.optim.SGD, SGD)
    runner.callbacks.append(InterruptAfter(3))
    with pytest.raises(Interrupt):
        run(tmp_path / "b", runner, checkpoint_every=2, **kwargs)
    (ckpt,) = (tmp_path / "b").rglob("checkpoint__random_seed__42.pt")
    assert torch.load(ckpt, weights_only=True)["epoch"] == 2
    runner.callbacks.clear()
    runner, resumed = run(tmp_path / "b", runner, resume=True, **kwargs)
    for key in CURVES:
        assert resumed[key] == straight[key], key
    assert resumed["meta"]["resumed_from_epoch"] == 2
    assert runner.last_results_path.parent == ckpt.parent  # options are not in the folder name
    assert not ckpt.exists()


def test_resume_without_checkpoint_starts_from_scratch(tmp_path):
    _, result = run(tmp_path, epochs=2, resume=True)
    assert "resumed_from_epoch" not in result["meta"] and result["meta"]["resume"] is True


def test_checkpoint_of_another_run_is_refused(tmp_path):
    runner = StandardRunner(torch.optim.SGD, SGD)
    runner.callbacks.append(InterruptAfter(2))
    with pytest.raises(Interrupt):
        run(tmp_path, runner, checkpoint_every=1)
    (ckpt,) = tmp_path.rglob("checkpoint__*.pt")
    state = torch.load(ckpt, weights_only=True)
    state["identity"]["testproblem"] = "mnist_mlp"
    torch.save(state, ckpt)
    with pytest.raises(
        ValueError,
        match="belongs to another run.*testproblem: checkpoint "
        "'mnist_mlp', this run 'quadratic_deep'",
    ):
        run(tmp_path, resume=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"checkpoint_every": 0}, "checkpoint_every must be a positive number"),
        ({"checkpoint_every": 1.5}, "checkpoint_every must be a positive number"),
        ({"resume": "yes"}, "resume must be True or False"),
        ({"checkpoint_every": 2, "no_logs": True}, "Drop no_logs"),
    ],
)
def test_bad_run_options(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(tmp_path, **kwargs)


def test_cli_flags(tmp_path, capsys):
    from deepobs.pytorch.cli import main

    code = main(
        [
            "run",
            "quadratic_deep",
            "--optimizer",
            "torch.optim.SGD",
            "--hp",
            "lr=0.01",
            "-N",
            "2",
            "--checkpoint-every",
            "1",
            "--resume",
            "--device",
            "cpu",
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    path = capsys.readouterr().out.split("results: ")[1].strip()
    meta = json.loads(Path(path).read_text())["meta"]
    assert meta["checkpoint_every"] == 1 and meta["resume"] is True
    assert not list(tmp_path.rglob("*.pt"))


class Marker:
    """Not a tensor or plain value: a safe load refuses it."""


def test_unloadable_optimizer_state_fails_at_the_first_save(tmp_path):
    class OddSGD(torch.optim.SGD):
        def step(self, closure=None):
            self.param_groups[0]["marker"] = Marker()
            return super().step(closure)

    runner = StandardRunner(OddSGD, SGD)
    with pytest.raises(ValueError, match="safe load"):
        run(tmp_path, runner, checkpoint_every=1)
