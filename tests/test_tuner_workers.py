"""Two worker processes share one Optuna study: SQLite here, PostgreSQL when one is given.

The PostgreSQL test needs ``DEEPOBS_TEST_POSTGRES_URL`` (``.ci/postgres.sh`` starts a local
server and prints it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
import torch

POSTGRES_URL = os.environ.get("DEEPOBS_TEST_POSTGRES_URL")
TRIALS = 6


class BarrierSGD(torch.optim.SGD):
    """SGD whose first step waits until both workers hold a trial (so that both run trials)."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.barrier = Path(os.environ["DEEPOBS_TEST_BARRIER"])
        (self.barrier / str(os.getpid())).touch()

    def step(self, closure=None):
        deadline = time.monotonic() + 120
        while len(list(self.barrier.iterdir())) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the other worker never started a trial")
            time.sleep(0.02)
        return super().step(closure)


def run_two_workers(tmp_path, storage, study_name):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"lr": {"min": 1e-3, "max": 0.1, "scaling": "log"}}))
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "deepobs",
        "-q",
        "tune",
        "quadratic_deep",
        "--optimizer",
        "test_tuner_workers:BarrierSGD",
        "--space",
        str(space),
        "--trials",
        str(TRIALS),
        "-N",
        "1",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path / "results"),
        "--study-name",
        study_name,
        *(["--storage", storage] if storage else []),
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "DEEPOBS_TEST_BARRIER": str(barrier),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path]),
    }
    workers = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert all("best trial: #" in out for out, _ in outputs)
    return optuna.load_study(
        study_name=study_name, storage=storage or f"sqlite:///{tmp_path / 'results' / 'optuna.db'}"
    )


def check_shared_study(study):
    trials = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    # The budget is the study's; two workers finishing together may add one more trial.
    assert TRIALS <= len(trials) <= TRIALS + 1
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both workers ran trials
    for trial in trials:
        result = json.loads(Path(trial.user_attrs["results_path"]).read_text())
        assert result["valid_losses"][-1] == trial.value


def test_two_workers_share_a_sqlite_study(tmp_path):
    check_shared_study(run_two_workers(tmp_path, None, "shared"))


@pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="DEEPOBS_TEST_POSTGRES_URL is not set "
    '(run `eval "$(.ci/postgres.sh)"` to start a local PostgreSQL)',
)
def test_two_workers_share_a_postgresql_study(tmp_path):
    name = f"deepobs-test-{uuid.uuid4().hex[:8]}"
    try:
        check_shared_study(run_two_workers(tmp_path, POSTGRES_URL, name))
    finally:
        optuna.delete_study(study_name=name, storage=POSTGRES_URL)
