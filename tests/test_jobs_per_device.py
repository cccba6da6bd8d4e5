"""``deepobs tune --jobs-per-device K``: K worker processes share one study on one device.

The workers split ``--trials`` (the study's total), so the study holds exactly that many
trials, no setting twice, each with its results file; a bad K is one line before anything runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna

from deepobs.pytorch.cli import main
from deepobs.pytorch.tuner._jobs import split_trials, without_option

TRIALS = 3


def argv(tmp_path, jobs: str) -> list[str]:
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"lr": {"min": 1e-3, "max": 0.1, "scaling": "log"}}))
    return [
        "tune",
        "quadratic_deep",
        "--optimizer",
        "torch.optim.SGD",
        "--space",
        str(space),
        "--trials",
        str(TRIALS),
        "--sampler",
        "random",
        "--sampler-seed",
        "0",
        "-N",
        "1",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path / "out"),
        "--storage",
        f"sqlite:///{tmp_path / 'study.db'}",
        "--jobs-per-device",
        jobs,
    ]


def test_two_jobs_split_the_trials_of_one_study(tmp_path, capsys):
    assert main(argv(tmp_path, "2")) == 0
    out = capsys.readouterr().out
    assert "2 workers on device cpu: [2, 1] trials" in out
    assert out.count("best trial:") == 1  # one summary, not one per worker
    study = optuna.load_study(
        study_name="quadratic_deep__SGD", storage=f"sqlite:///{tmp_path / 'study.db'}"
    )
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == TRIALS
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert len({t.params["lr"] for t in trials}) == TRIALS  # no setting twice
    paths = {t.user_attrs["results_path"] for t in trials}
    assert len(paths) == TRIALS
    assert all(Path(p).is_file() for p in paths)


def test_zero_jobs_is_one_line_before_anything_runs(tmp_path, capsys):
    assert main(argv(tmp_path, "0")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "deepobs: error: --jobs-per-device must be a positive integer, got 0. Pass e.g. "
        "--jobs-per-device 2."
    ]
    assert not (tmp_path / "study.db").exists()
    assert not (tmp_path / "out").exists()


def test_trials_are_split_evenly_and_the_option_is_dropped_for_workers():
    assert split_trials(5, 2) == [3, 2]
    assert split_trials(2, 4) == [1, 1]  # no worker without a trial
    assert sum(split_trials(36, 5)) == 36
    assert without_option(["a", "--jobs-per-device", "3", "b"], "--jobs-per-device") == ["a", "b"]
    assert without_option(["a", "--jobs-per-device=3"], "--jobs-per-device") == ["a"]
