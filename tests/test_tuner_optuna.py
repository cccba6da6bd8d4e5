"""Optuna studies in one process: ``deepobs tune``, diverged trials, grid, pruning, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import optuna
import pytest
import torch

from deepobs.pytorch.cli import main
from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.tuner import OptunaSearch, StudyOptions, best_setting, deepobs_lr_grid
from deepobs.pytorch.tuner.optuna_search import _Pruning, require_optuna


def tune(tmp_path, space, *extra):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(space))
    return main(
        [
            "tune",
            "quadratic_deep",
            "--optimizer",
            "torch.optim.SGD",
            "--space",
            str(path),
            "-N",
            "1",
            "--device",
            "cpu",
            "--output-dir",
            str(tmp_path),
            "--quiet",
            *extra,
        ]
    )


def load(tmp_path, name="quadratic_deep__SGD"):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path / 'optuna.db'}")


def test_tune_reports_the_best_setting_and_records_results(tmp_path, capsys):
    space = {"lr": {"min": 1e-3, "max": 0.1, "scaling": "log"}}
    assert tune(tmp_path, space, "--trials", "5", "--sampler-seed", "0", "--pruner", "median") == 0
    out = capsys.readouterr().out
    study = load(tmp_path)
    trials = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert len(trials) == 5
    for trial in trials:  # every trial wrote its results file; the value is its final valid loss
        result = json.loads(Path(trial.user_attrs["results_path"]).read_text())
        assert result["valid_losses"][-1] == trial.value
        assert result["optimizer_hyperparams"] == {"lr": trial.params["lr"]}
    best = min(trials, key=lambda t: t.value)
    assert f"best trial: #{best.number}, valid_losses = {best.value:.6g}" in out
    assert f"lr={best.params['lr']!r}" in out and "5 complete" in out
    config = study.user_attrs["deepobs"]
    assert config["metric"] == "valid_losses" and config["pruner"] == "median"
    assert config["setting"] == {"num_epochs": 1} and config["random_seed"] == 42
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    # the budget is the study's: asking again for 5 trials runs none
    assert tune(tmp_path, space, "--trials", "5") == 0
    assert len(load(tmp_path).trials) == 5


def test_diverged_runs_are_pruned_trials_not_values(tmp_path, capsys):
    assert tune(tmp_path, {"lr": {"min": 1e4, "max": 1e5, "scaling": "log"}}, "--trials", "2") == 2
    assert "no completed trial (all diverged" in capsys.readouterr().err
    trials = load(tmp_path).trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.PRUNED] * 2
    assert all(t.value is None and t.user_attrs["status"] == "diverged" for t in trials)
    assert all(Path(t.user_attrs["results_path"]).exists() for t in trials)


def test_grid_sampler_runs_every_point_and_workers_must_agree(tmp_path, capsys):
    space = {"lr": {"choices": [0.01, 0.02, 0.05]}}
    assert tune(tmp_path, space, "--sampler", "grid", "--study-name", "grid") == 0
    trials = load(tmp_path, "grid").trials
    assert sorted(t.params["lr"] for t in trials) == [0.01, 0.02, 0.05]
    assert tune(tmp_path, space, "--sampler", "grid", "--study-name", "grid", "-N", "2") == 2
    err = capsys.readouterr().err
    assert (
        "was created for other settings (setting: study {'num_epochs': 1}, this worker "
        "{'num_epochs': 2})" in err
    )


def test_python_api_fixed_and_tuple_choices(tmp_path):
    search = OptunaSearch(
        torch.optim.Adam,
        {"betas": {"choices": [[0.9, 0.999], [0.5, 0.9]]}},
        fixed_hyperparams={"lr": 0.01},
    )
    study = search.tune(
        "quadratic_deep",
        2,
        tmp_path,
        options=StudyOptions(sampler="grid", metric="train_losses"),
        num_epochs=1,
        device="cpu",
    )
    best = best_setting(study)
    assert best["metric"] == "train_losses" and best["hyperparams"]["lr"] == 0.01
    result = json.loads(Path(best["results_path"]).read_text())
    assert result["optimizer_hyperparams"]["betas"] == best["hyperparams"]["betas"]
    assert sorted(tuple(t.user_attrs["hyperparams"]["betas"]) for t in study.trials) == [
        (0.5, 0.9),
        (0.9, 0.999),
    ]
    with pytest.raises(ValueError, match="metric must be one of"):
        search.tune("quadratic_deep", 1, tmp_path, options=StudyOptions(metric="valid_accuracies"))
    with pytest.raises(ValueError, match="both fixed and searched"):
        OptunaSearch(torch.optim.Adam, {"lr": {"choices": [1]}}, fixed_hyperparams={"lr": 1})


class FakeTrial:
    def __init__(self):
        self.reported, self.user_attrs = [], {}

    def report(self, value, step):
        self.reported.append((step, value))

    def should_prune(self):
        return len(self.reported) == 2

    def set_user_attr(self, key, value):
        self.user_attrs[key] = value


def test_pruning_stops_the_run_without_a_results_file(tmp_path):
    trial = FakeTrial()
    runner = StandardRunner(torch.optim.SGD, {"lr": {"type": float}})
    runner.callbacks.append(_Pruning(trial, "valid_losses"))
    with pytest.raises(optuna.TrialPruned, match="at epoch 1"):
        runner.run(
            testproblem="quadratic_deep",
            hyperparams={"lr": 0.01},
            num_epochs=3,
            output_dir=tmp_path,
            device="cpu",
        )
    assert [step for step, _ in trial.reported] == [0, 1]
    assert trial.user_attrs == {"pruned_at_epoch": 1}
    assert not list(tmp_path.rglob("*.json"))


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r'pip install "deepobs\[tuner\]"'):
        require_optuna()


def test_deepobs_grid_and_rerun_of_the_best(tmp_path, capsys):
    args = ["tune", "quadratic_deep", "--optimizer", "torch.optim.SGD", "--grid", "lr"]
    args += ["-N", "1", "--device", "cpu", "--output-dir", str(tmp_path), "-q"]
    assert main([*args, "--trials", "3", "--sampler-seed", "0", "--rerun-best"]) == 0
    assert "reran the best setting with 9 more seed(s)" in capsys.readouterr().out
    study = load(tmp_path)
    assert {t.params["lr"] for t in study.trials} <= set(deepobs_lr_grid())
    best = Path(study.best_trial.user_attrs["results_path"]).parent
    assert sorted(int(p.name.split("__")[1]) for p in best.glob("*.json")) == list(range(42, 52))
    assert sum(1 for _ in tmp_path.rglob("*.json")) == 3 + 9
    assert main([*args[:4], "-N", "1", "--output-dir", str(tmp_path)]) == 2
    assert "Give either --space FILE" in capsys.readouterr().err


def test_seeds_sets_how_many_seeds_the_best_setting_gets(tmp_path, capsys):
    args = [
        "tune",
        "quadratic_deep",
        "--optimizer",
        "torch.optim.SGD",
        "--grid",
        "lr",
        "-N",
        "1",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path),
        "-q",
        "--trials",
        "2",
        "--sampler-seed",
        "0",
        "--rerun-best",
    ]
    assert main([*args, "--seeds", "3"]) == 0
    assert "reran the best setting with 2 more seed(s)" in capsys.readouterr().out
    best = Path(load(tmp_path).best_trial.user_attrs["results_path"]).parent
    assert sorted(int(p.name.split("__")[1]) for p in best.glob("*.json")) == [42, 43, 44]
    assert main([*args, "--seeds", "0"]) == 2
    assert "--seeds must be a positive integer, got 0" in capsys.readouterr().err
