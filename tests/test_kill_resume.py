"""SIGKILL at random moments, then ``--resume``: the same curves as an uninterrupted run.

One command line (``deepobs run ... --checkpoint-every 1 --resume``) is started, killed with
SIGKILL at a random moment of its training, started again, killed again, and finally run to
the end. Whatever the kill points (drawn from a seeded generator, printed on failure), the end
state is one complete results file with the curves of an uninterrupted run, bit for bit, and no
temporary file or checkpoint left behind.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from deepobs.pytorch.runners import StandardRunner

EPOCHS = 8
SLOW_OPTIM = """
import time, torch

class SlowSGD(torch.optim.SGD):
    def step(self, closure=None):
        time.sleep(0.01)
        return super().step(closure)
"""
CURVES = ("train_losses", "valid_losses", "test_losses", "minibatch_train_losses")


@pytest.mark.slow  # three interpreter starts (~10 s); tests/test_checkpoint.py kills once, fast
def test_sigkill_at_random_points_then_resume_is_bit_for_bit(tmp_path):
    (tmp_path / "slow_optim.py").write_text(SLOW_OPTIM)
    out = tmp_path / "results"
    cmd = [
        sys.executable,
        "-m",
        "deepobs",
        "-q",
        "run",
        "quadratic_deep",
        "--optimizer",
        "slow_optim:SlowSGD",
        "--optimizer-name",
        "SGD",
        "--hp",
        "lr=0.05",
        "-N",
        str(EPOCHS),
        "--device",
        "cpu",
        "--output-dir",
        str(out),
        "--checkpoint-every",
        "1",
        "--train-log-interval",
        "2",
        "--resume",
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
    }
    rng = random.Random(2026)
    kill_points = []
    for _ in range(2):
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not any(out.rglob("checkpoint__*.pt")) and child.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint was written"
            time.sleep(0.01)
        kill_points.append(round(rng.uniform(0.0, 0.4), 3))
        time.sleep(kill_points[-1])
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (kill_points, done.stderr)

    files = sorted(p for p in out.rglob("*") if p.is_file())
    (result_file,) = [p for p in files if p.suffix == ".json"]
    assert files == [result_file], (kill_points, files)  # no temp file, no checkpoint
    result = json.loads(result_file.read_text())
    assert result["status"] == "done" and result["num_epochs"] == EPOCHS
    straight = StandardRunner(torch.optim.SGD, {"lr": {"type": float}}).run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.05},
        num_epochs=EPOCHS,
        device="cpu",
        train_log_interval=2,
        no_logs=True,
    )
    for key in CURVES:
        assert result[key] == straight[key], (kill_points, key)
