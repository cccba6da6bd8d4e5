"""DeepOBS 1.1's metric rules on published files: Speed per seed, relative performance.

Speed is the mean over seeds of each seed's first epoch reaching the convergence performance
(``num_epochs + 1`` for a seed that never does), not the first epoch of the mean curve. The
expected epochs below were read off the published curves by hand (the values around each
crossing are asserted too).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pandas", reason="the analyzer extra is not installed")

from deepobs.pytorch.analyzer import read_results  # noqa: E402
from deepobs.pytorch.analyzer.metrics import (  # noqa: E402
    first_epochs,
    relative_performance,
    score_optimizer,
    speed,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference_results"
FULL = REFERENCE / "deepobs_1.1_baselines"
COMPACT = REFERENCE / "deepobs_1.1_baselines_compact"


def thresholds() -> dict[str, float]:
    return json.loads((FULL / "convergence_performance.json").read_text())


@pytest.mark.parametrize(
    ("optimizer", "epochs", "mean_curve_epoch"),
    [
        ("GradientDescentOptimizer", [43, 58, 41], 46),
        ("MomentumOptimizer", [73, 68, 69], 73),
        ("AdamOptimizer", [40, 41, 39], 40),
    ],
)
def test_speed_of_published_quadratic_deep(optimizer, epochs, mean_curve_epoch):
    results = read_results(FULL / "quadratic_deep" / optimizer)
    threshold = thresholds()["quadratic_deep"]  # 87.703 (test loss)
    runs = sorted(results.runs, key=lambda r: r.random_seed)
    assert [r.random_seed for r in runs] == [42, 43, 44]
    curves = np.stack([r.curves["test_losses"] for r in runs])
    for curve, epoch in zip(curves, epochs):  # the hand-read crossings
        assert curve[epoch] <= threshold < curve[:epoch].min()
    assert first_epochs(curves, threshold, higher_better=False).tolist() == epochs
    assert speed(curves, threshold, higher_better=False) == pytest.approx(np.mean(epochs))
    score = score_optimizer(results, "quadratic_deep", optimizer, thresholds=thresholds())
    assert score["speed"] == pytest.approx(np.mean(epochs))
    # The rule this replaces (first epoch of the mean curve) differs for SGD and Momentum.
    assert speed(curves.mean(axis=0), threshold, False) == mean_curve_epoch


def test_speed_counts_seeds_that_never_converge_as_num_epochs_plus_one():
    # fmnist_2c2d Momentum, the published best setting: seeds 48 and 51 never reach 91.98 %.
    folder = next(
        p
        for p in (COMPACT / "fmnist_2c2d" / "MomentumOptimizer").iterdir()
        if len(list(p.glob("*.json"))) == 10
    )
    results = read_results(folder)
    runs = sorted(results.runs, key=lambda r: r.random_seed)
    curves = np.stack([r.curves["test_accuracies"] for r in runs])
    threshold = thresholds()["fmnist_2c2d"]
    expected = [48, 46, 52, 41, 49, 51, 101, 50, 52, 101]
    assert first_epochs(curves, threshold, higher_better=True).tolist() == expected
    assert curves[6].max() < threshold and curves[9].max() < threshold
    assert speed(curves, threshold, higher_better=True) == pytest.approx(59.1)


def test_speed_edge_cases():
    assert speed(np.array([0.1, 0.62, np.nan]), 0.6, True) == 1  # one curve
    assert speed(np.array([[0.1, np.nan, np.nan]]), 0.6, True) == 3  # diverged: never
    assert math.isnan(speed(np.array([0.1]), None, True))


def test_relative_performance_each_optimizer_by_its_own_best():
    # Accuracy: value / best; loss: best / value; NaN (diverged) -> 0.
    assert relative_performance(np.array([0.5, 0.8, np.nan]), True) == pytest.approx(
        [0.625, 1.0, 0.0]
    )
    assert relative_performance(np.array([100.0, 87.5, np.nan, 175.0]), False) == pytest.approx(
        [0.875, 1.0, 0.0, 0.5]
    )
    assert relative_performance(np.array([np.nan, np.nan]), True).tolist() == [0.0, 0.0]


def test_relative_performance_on_the_published_quadratic_grid():
    results = read_results(COMPACT / "quadratic_deep" / "GradientDescentOptimizer")
    finals = {}
    for run in results.runs:
        if run.random_seed == 42:
            finals[run.lr] = run.curves["test_losses"][-1]
    lrs = sorted(finals)
    relative = dict(zip(lrs, relative_performance(np.array([finals[x] for x in lrs]), False)))
    best_lr = min((x for x in lrs if np.isfinite(finals[x])), key=finals.get)
    assert best_lr == pytest.approx(1.5848931925e-02)
    assert relative[best_lr] == 1.0
    smallest = lrs[0]  # 1e-5: slow, far from the best loss
    assert relative[smallest] == pytest.approx(finals[best_lr] / finals[smallest])
    assert 0 < relative[smallest] < 1
    diverged = [x for x in lrs if not np.isfinite(finals[x])]
    assert diverged and all(relative[x] == 0.0 for x in diverged)
