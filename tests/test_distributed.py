"""Data-parallel runs: 2 CPU processes (gloo) give the curves of 1 process, same global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.runners._distributed import ShardedLoader, environment

SGD = {"lr": {"type": float}}
RUN = [
    "-m",
    "deepobs",
    "-q",
    "run",
    "quadratic_deep",
    "--optimizer",
    "torch.optim.SGD",
    "--hp",
    "lr=0.01",
    "-N",
    "2",
    "--device",
    "cpu",
    "--train-log-interval",
    "1",
]
CURVES = ("train_losses", "valid_losses", "test_losses", "minibatch_train_losses")


def single_process_result(tmp_path):
    runner = StandardRunner(torch.optim.SGD, SGD)
    return runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=2,
        output_dir=tmp_path,
        device="cpu",
        train_log_interval=1,
        no_logs=True,
    )


def assert_same_curves(parallel, single):
    assert parallel["meta"]["world_size"] == 2
    assert parallel["meta"]["distributed_backend"] == "gloo"
    assert parallel["batch_size"] == single["batch_size"] == 128
    for key in CURVES:
        assert parallel[key] == pytest.approx(single[key], rel=1e-5), key
    assert parallel["test_losses"][-1] < parallel["test_losses"][0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_ranks_match_one_process(tmp_path):
    """Two ranks as plain subprocesses with the variables torchrun sets."""
    env = {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port()),
        "WORLD_SIZE": "2",
        "OMP_NUM_THREADS": "1",
    }
    ranks = [
        subprocess.Popen(
            [sys.executable, *RUN, "--output-dir", str(tmp_path)],
            env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for r in range(2)
    ]
    outputs = [p.communicate(timeout=180)[0] for p in ranks]
    assert [p.returncode for p in ranks] == [0, 0], outputs
    (path,) = tmp_path.rglob("*.json")  # rank 0 only
    assert_same_curves(json.loads(path.read_text()), single_process_result(tmp_path))


@pytest.mark.slow
def test_torchrun_two_processes(tmp_path):
    """The documented launch: ``torchrun --nproc_per_node=2 -m deepobs run ...``."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        *RUN,
        "--output-dir",
        str(tmp_path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = tmp_path.rglob("*.json")
    assert_same_curves(json.loads(path.read_text()), single_process_result(tmp_path))


def test_sharded_loader_takes_each_ranks_rows():
    batches = [[torch.arange(8), torch.arange(8) * 10], [torch.arange(8, 16), torch.zeros(8)]]
    rank1 = ShardedLoader(batches, rank=1, world_size=4)
    assert len(rank1) == 2
    first, second = list(rank1)
    assert first[0].tolist() == [2, 3] and first[1].tolist() == [20, 30]
    assert second[0].tolist() == [10, 11]


def test_indivisible_batch_fails_before_training(tmp_path, monkeypatch):
    for name, value in (("WORLD_SIZE", "3"), ("RANK", "0"), ("LOCAL_RANK", "0")):
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="Batch size 128 is not divisible by the 3 processes"):
        single_process_result(tmp_path)


def test_environment_is_read_at_run_time(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert environment() == (0, 1, 0)
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="must be integers"):
        environment()
