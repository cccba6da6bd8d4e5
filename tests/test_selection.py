"""The one selection protocol (``deepobs.pytorch.results.select``), shared by analyzer and tuner.

Settings are compared on the seeds they all share; the analyzer's ``rank_settings`` and the
tuner's ``rank_settings``/``rerun_setting`` must pick the same setting.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from deepobs.pytorch.results import select as protocol
from deepobs.pytorch.results.select import SettingCurves, common_seeds
from deepobs.pytorch.tuner import rank_settings as tuner_rank
from deepobs.pytorch.tuner import read_settings
from deepobs.pytorch.tuner.rerun import resolve_metric as tuner_metric

PROBLEM, OPTIMIZER = "fmnist_2c2d", "GradientDescentOptimizer"


def write_11(root: Path, lr: str, seed: int, final_acc: float | None) -> Path:
    """One DeepOBS 1.1 results file (no validation lists); ``None`` = diverged at epoch 1."""
    acc = [0.1, math.nan, math.nan] if final_acc is None else [0.1, final_acc - 0.05, final_acc]
    loss = [2.3, math.nan, math.nan] if final_acc is None else [2.3, 1.0, 1.0 - final_acc]
    data = {
        "train_losses": loss,
        "test_losses": loss,
        "train_accuracies": acc,
        "test_accuracies": acc,
        "optimizer": OPTIMIZER,
        "testproblem": PROBLEM,
        "weight_decay": None,
        "batch_size": 128,
        "num_epochs": 2,
        "learning_rate": float(lr),
        "lr_sched_epochs": None,
        "lr_sched_factors": None,
        "random_seed": seed,
        "train_log_interval": 10,
        "hyperparams": {},
    }
    folder = root / PROBLEM / OPTIMIZER / f"num_epochs__2__batch_size__128__lr__{lr}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"random_seed__{seed}__2019-02-13-00-00-00.json"
    path.write_text(json.dumps(data), encoding="utf-8")  # NaN tokens, as 1.1 wrote them
    return path


@pytest.fixture
def tuned_tree(tmp_path: Path) -> Path:
    """The DeepOBS protocol's shape: seed 42 on every lr, the winner rerun with 43-45.

    On seed 42, lr 1.e-02 is best (0.90), but its reruns are worse (0.80), so averaging all
    seeds would pick lr 1.e-01 (0.88). lr 1.e+00 diverged; lr 1.e-03 is poor.
    """
    write_11(tmp_path, "1.e-02", 42, 0.90)
    for seed in (43, 44, 45):
        write_11(tmp_path, "1.e-02", seed, 0.80)
    write_11(tmp_path, "1.e-01", 42, 0.88)
    write_11(tmp_path, "1.e+00", 42, None)
    write_11(tmp_path, "1.e-03", 42, 0.70)
    return tmp_path


def test_analyzer_and_tuner_pick_the_same_setting_on_common_seeds(tuned_tree, caplog):
    pytest.importorskip("pandas", reason="the analyzer extra is not installed")
    from deepobs.pytorch.analyzer import best_setting, rank_settings, read_results

    results = read_results(tuned_tree)
    settings = read_settings(tuned_tree / PROBLEM / OPTIMIZER)
    metric = tuner_metric(settings, "valid_accuracies")
    assert metric == "test_accuracies"  # no validation lists: the same fallback in both
    for mode in ("final", "best"):
        analyzer_order = list(rank_settings(results, PROBLEM, OPTIMIZER, mode)["setting"])
        tuner_order = [s.name for s in tuner_rank(settings, metric, mode)]
        assert analyzer_order == tuner_order
    best = best_setting(results, PROBLEM, OPTIMIZER)
    assert best.endswith("lr__1.e-02")
    ranking = rank_settings(results, PROBLEM, OPTIMIZER)
    assert ranking["compared_seeds"][0] == (42,) and ranking["n_seeds"][0] == 4
    assert ranking["setting"].iloc[-1].endswith("lr__1.e+00")  # diverged: last
    # Averaging every seed a setting has would have picked lr 1.e-01: the test can fail.
    means = {
        s.name: s.curves("test_accuracies")[:, -1].mean()
        for s in settings
        if not np.isnan(s.curves("test_accuracies")).any()
    }
    assert max(means, key=means.get).endswith("lr__1.e-01")


def test_truncated_file_is_skipped_by_the_tuner_with_its_name(tuned_tree, caplog):
    broken = write_11(tuned_tree, "1.e-01", 43, 0.99)
    broken.write_text(broken.read_text()[:100], encoding="utf-8")  # killed mid-write
    with caplog.at_level(logging.WARNING, logger="deepobs"):
        settings = read_settings(tuned_tree / PROBLEM / OPTIMIZER)
    assert str(broken) in caplog.text and "not readable as JSON" in caplog.text
    ranked = tuner_rank(settings, tuner_metric(settings, None))
    assert ranked[0].name.endswith("lr__1.e-02")
    assert sum(len(s.runs) for s in settings) == 7


def curves(name: str, seeds: list[int], finals: list[float], diverged=None) -> SettingCurves:
    values = np.array([[0.0, f / 2, f] for f in finals])
    return SettingCurves(name, tuple(seeds), values, tuple(diverged or [False] * len(seeds)))


def test_protocol_on_arrays():
    a = curves("a", [42, 43], [0.5, 0.9])
    b = curves("b", [42], [0.6])
    c = curves("c", [42, 43], [0.99, 0.99], diverged=[False, True])
    d = curves("d", [42], [0.6])
    assert common_seeds([a, b, c, d]) == {42}
    ranking = protocol.rank_settings([a, b, c, d], "test_accuracies")
    # Seed 42 only: b = d = 0.6 (tie broken by name) > a = 0.5; c diverged on seed 43 only,
    # which is not compared: c wins with 0.99.
    assert [r.setting for r in ranking] == ["c", "b", "d", "a"]
    assert ranking[0].n_diverged == 1 and ranking[0].n_compared_diverged == 0
    assert [r.rank for r in ranking] == [1, 2, 3, 4]
    # A diverged compared seed ranks last, whatever the other seeds scored.
    c42 = curves("c", [42, 43], [0.99, 0.99], diverged=[True, False])
    ranking = protocol.rank_settings([a, b, c42], "test_accuracies")
    assert ranking[-1].setting == "c" and math.isnan(ranking[-1].score)
    # Losses: lower is better; 'most' prefers more seeds, then the score.
    assert protocol.best_setting([a, b], "test_losses") == "a"
    assert protocol.best_setting([b, a], "test_accuracies", mode="most") == "a"
    with pytest.raises(ValueError, match="Valid modes"):
        protocol.rank_settings([a], "test_losses", mode="last")
    with pytest.raises(ValueError, match="No settings"):
        protocol.rank_settings([], "test_losses")


def test_no_common_seed_scores_each_on_all_its_seeds(caplog):
    a = curves("a", [1, 2], [0.5, 0.9])  # mean 0.7
    b = curves("b", [3], [0.6])
    with caplog.at_level(logging.WARNING, logger="deepobs"):
        ranking = protocol.rank_settings([a, b], "test_accuracies", context="p/o")
    assert [r.setting for r in ranking] == ["a", "b"]
    assert ranking[0].compared_seeds == (1, 2)
    assert "share no seed" in caplog.text


def test_metric_fallback_chain(caplog):
    resolve = protocol.resolve_metric
    assert resolve(None, {"valid_accuracies", "test_accuracies"}) == "valid_accuracies"
    assert resolve(None, {"valid_losses", "test_losses"}) == "valid_losses"
    with caplog.at_level(logging.WARNING, logger="deepobs"):
        assert resolve(None, {"test_losses", "test_accuracies"}) == "test_accuracies"
    assert "selecting on test data" in caplog.text
    assert resolve("valid_accuracies", {"valid_losses"}) == "valid_losses"
    with pytest.raises(ValueError, match="Valid metrics"):
        resolve("valid_acc", {"valid_losses"})
    with pytest.raises(ValueError, match="No metric to rank"):
        resolve("valid_losses", {"train_losses"})


class RecordingRunner:
    """Stands in for a runner class: records the ``run`` keywords instead of training."""

    calls: list[dict] = []

    def __init__(self, optimizer_class, hyperparam_names, optimizer_name=None):
        self.optimizer_name = optimizer_name

    def run(self, **kwargs):
        RecordingRunner.calls.append(kwargs)
        return kwargs


def test_rerun_setting_survives_a_truncated_file_and_reruns_the_common_seed_winner(tuned_tree):
    from deepobs.pytorch.tuner import rerun_setting

    broken = write_11(tuned_tree, "1.e-01", 43, 0.99)
    broken.write_text(broken.read_text()[:100], encoding="utf-8")
    RecordingRunner.calls = []
    done = rerun_setting(
        RecordingRunner,
        object,
        {"lr": {"type": float}},
        tuned_tree / PROBLEM / OPTIMIZER,
        seeds=(46, 47),
    )
    assert [c["random_seed"] for c in done] == [46, 47]
    assert done[0]["hyperparams"] == {"lr": 0.01} and done[0]["testproblem"] == PROBLEM
    assert (done[0]["batch_size"], done[0]["num_epochs"], done[0]["l2_reg"]) == (128, 2, None)
