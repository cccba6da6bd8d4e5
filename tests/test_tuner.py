"""DeepOBS 1.2 tuners (grid, random, commands script, rerun) and JSON search spaces."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
import torch

from deepobs.pytorch.cli import main
from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.runners._naming import float2str
from deepobs.pytorch.tuner import (
    TEST_SETS,
    GridSearch,
    RandomSearch,
    SearchSpace,
    deepobs_lr_grid,
    log_uniform,
    rank_settings,
    read_settings,
    rerun_setting,
)
from deepobs.pytorch.tuner._commands import importable_path

SGD = {"lr": {"type": float}, "momentum": {"type": float, "default": 0.0}}
QUICK = {"num_epochs": 1, "device": "cpu"}


def test_deepobs_lr_grid_matches_the_protocol():
    grid = deepobs_lr_grid()
    assert len(grid) == 36 and grid == list(np.logspace(-5, 2, 36))
    assert [float2str(v) for v in grid[:5]] == [
        "1.e-05",
        "1.5848931925e-05",
        "2.5118864315e-05",
        "3.9810717055e-05",
        "6.3095734448e-05",
    ]
    assert float2str(grid[-1]) == "1.e+02"
    assert (
        SearchSpace.from_dict(
            {"lr": {"min": 1e-5, "max": 100, "scaling": "log", "num": 36}}
        ).grid()["lr"]
        == grid
    )


def test_log_uniform():
    dist = log_uniform(-3, -1)
    samples = dist.rvs(size=500, random_state=0)
    assert samples.min() >= 1e-3 and samples.max() <= 1e-1
    assert np.median(np.log10(samples)) == pytest.approx(-2, abs=0.15)
    np.random.seed(1)
    first = dist.rvs()
    np.random.seed(1)
    assert isinstance(first, float) and dist.rvs() == first
    with pytest.raises(ValueError, match="a < b"):
        log_uniform(2, 1)


def test_grid_search_tunes_and_reruns_the_best(tmp_path):
    tuner = GridSearch(torch.optim.SGD, SGD, {"lr": [0.001, 0.02, 1e4]}, ressources=3)
    results = tuner.tune(
        "quadratic_deep", output_dir=tmp_path, rerun_best_setting=True, num_epochs=1, device="cpu"
    )
    assert [r["optimizer_hyperparams"]["lr"] for r in results] == [0.001, 0.02, 1e4]
    assert results[2]["status"] == "diverged"
    best = (
        tmp_path
        / "quadratic_deep"
        / "SGD"
        / "num_epochs__1__batch_size__128__lr__2.e-02__momentum__0.e+00"
    )
    assert sorted(int(p.name.split("__")[1]) for p in best.glob("*.json")) == list(range(42, 52))
    ranked = rank_settings(read_settings(best.parent), "valid_losses")
    assert ranked[0].folder == best and "lr__1.e+04" in ranked[-1].folder.name  # diverged last
    with pytest.raises(ValueError, match="The grid has 3 settings but ressources=2"):
        GridSearch(torch.optim.SGD, SGD, {"lr": [1, 2, 3]}, ressources=2)
    with pytest.raises(ValueError, match=r"\['beta'\] are not in hyperparam_names"):
        GridSearch(torch.optim.SGD, SGD, {"beta": [1]}, ressources=2)


def test_random_search_is_seeded(tmp_path):
    tuner = RandomSearch(
        torch.optim.SGD, SGD, {"lr": log_uniform(-3, -1), "momentum": [0.0, 0.9]}, ressources=3
    )
    assert tuner._sample(42) == tuner._sample(42) != tuner._sample(43)
    results = tuner.tune("quadratic_deep", output_dir=tmp_path, **QUICK)
    assert len(list(tmp_path.rglob("*.json"))) == 3
    assert all(1e-3 <= r["optimizer_hyperparams"]["lr"] <= 1e-1 for r in results)
    assert {r["optimizer_hyperparams"]["momentum"] for r in results} <= {0.0, 0.9}


def test_rerun_setting_by_rank_and_tuples(tmp_path):
    adam = {"lr": {"type": float}, "betas": {"type": tuple, "default": (0.9, 0.999)}}
    GridSearch(torch.optim.Adam, adam, {"lr": [0.3, 0.01]}, ressources=2).tune(
        "quadratic_deep", output_dir=tmp_path, **QUICK
    )
    path = tmp_path / "quadratic_deep" / "Adam"
    order = [s.hyperparams["lr"] for s in rank_settings(read_settings(path), "valid_losses")]
    reruns = rerun_setting(
        StandardRunner,
        torch.optim.Adam,
        adam,
        path,
        seeds=[7],
        rank=2,
        metric="valid_accuracies",
        device="cpu",
    )
    assert reruns[0]["optimizer_hyperparams"]["lr"] == order[1]
    assert reruns[0]["random_seed"] == 7 and reruns[0]["num_epochs"] == 1
    assert len(read_settings(path)) == 2  # the tuple came back as a tuple: same folder
    with pytest.raises(ValueError, match="rank must be between 1 and 2"):
        rerun_setting(StandardRunner, torch.optim.Adam, adam, path, rank=3)
    with pytest.raises(FileNotFoundError, match="No results folder"):
        read_settings(tmp_path / "nothing")


def test_commands_script_lines_run(tmp_path, capsys):
    tuner = GridSearch(
        torch.optim.SGD,
        SGD,
        {"lr": [0.01, 0.1], "momentum": [0.9]},
        ressources=4,
        optimizer_name="Momentum",
    )
    path = tuner.generate_commands_script(
        "quadratic_deep",
        output_dir=tmp_path / "res",
        generation_dir=tmp_path,
        num_epochs=1,
        device="cpu",
        lr_sched_epochs=[1],
        lr_sched_factors=[0.5],
    )
    assert path.name == "jobs_Momentum_grid_search_quadratic_deep.txt"
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith(
        "deepobs run quadratic_deep --optimizer torch.optim.SGD --optimizer-name Momentum "
        "--hp lr=0.01 --hp momentum=0.9 --random-seed 42"
    )
    assert "--lr-sched-epochs 1 --lr-sched-factors 0.5" in lines[0]
    assert main(shlex.split(lines[1])[1:]) == 0
    (result,) = (tmp_path / "res").rglob("*.json")
    data = json.loads(result.read_text())
    assert data["optimizer_hyperparams"] == {"lr": 0.1, "momentum": 0.9}
    assert data["training_params"] == {"lr_sched_epochs": [1], "lr_sched_factors": [0.5]}
    script = tuner.generate_commands_script(
        "quadratic_deep", "run_sgd.py", generation_dir=tmp_path, l2_reg=0.0
    )
    assert script.read_text().splitlines()[0] == (
        "python run_sgd.py quadratic_deep --lr 0.01 --momentum 0.9 --random_seed 42 "
        "--output_dir ./results --weight_decay 0.0"
    )
    with pytest.raises(ValueError, match="Cannot write clip=1"):
        tuner.generate_commands_script("quadratic_deep", generation_dir=tmp_path, clip=1)


def test_importable_path():
    assert importable_path(torch.optim.SGD) == "torch.optim.SGD"

    class Local(torch.optim.SGD):
        pass

    with pytest.raises(ValueError, match="cannot import"):
        importable_path(Local)


def test_tune_on_testset_refuses_fixed_settings():
    tuner = GridSearch(torch.optim.SGD, SGD, {"lr": [0.1]}, ressources=1)
    with pytest.raises(ValueError, match=r"remove \['num_epochs'\]"):
        tuner.tune_on_testset("small", num_epochs=1)


def test_test_sets_match_the_analyzer():
    from deepobs.pytorch.analyzer._naming import TEST_SETS as ANALYZER_SETS

    assert ANALYZER_SETS == TEST_SETS


def test_search_space_forms():
    space = SearchSpace.from_dict(
        {
            "lr": {"min": 1e-4, "max": 1.0, "scaling": "log"},
            "steps": {"min": 1, "max": 4, "type": "int", "num": 4},
            "betas": {"choices": [[0.9, 0.999], [0.5, 0.9]]},
        }
    )
    lr, steps, betas = space.dimensions.values()
    assert lr.log and not lr.integer and (lr.low, lr.high) == (1e-4, 1.0)
    assert steps.integer and steps.grid_values() == [1, 2, 3, 4]
    assert betas.choices == ((0.9, 0.999), (0.5, 0.9))
    with pytest.raises(ValueError, match="'lr' is a range without grid points"):
        space.grid()


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"min": 0, "max": 1, "scaling": "log"}, "log scaling needs min > 0"),
        ({"min": 1, "max": 0.5}, "min must be < max"),
        ({"min": 1e-3, "max": 1, "scaling": "exp"}, "scaling must be 'log' or 'linear'"),
        ({"min": 0.5, "max": 4, "type": "int"}, "an int range needs integer bounds"),
        ({"min": 1, "max": 4, "steps": 2}, "a range needs 'min' and 'max'"),
        ({"choices": []}, "non-empty list"),
        ([1e-3, 1], "must be an object"),
        ({"min": 1, "max": 4, "num": 1}, "num must be an integer >= 2"),
    ],
)
def test_bad_search_space_entries(entry, match):
    with pytest.raises(ValueError, match=match):
        SearchSpace.from_dict({"lr": entry})


def test_search_space_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        SearchSpace.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{lr: 1}")
    with pytest.raises(ValueError, match="not valid JSON"):
        SearchSpace.load(bad)
