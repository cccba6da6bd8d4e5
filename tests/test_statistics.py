"""Statistics between optimizers, checked against values computed by hand.

Confidence intervals, Welch and Mann-Whitney tests, Holm's correction, the table marks,
epochs to target and performance profiles, and expected-best tuning-budget curves.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pandas", reason="the analyzer extra is not installed")

from paper_tree import write_paper_tree  # noqa: E402

from deepobs.pytorch.analyzer import read_results  # noqa: E402
from deepobs.pytorch.analyzer.budget import budget_table, expected_best  # noqa: E402
from deepobs.pytorch.analyzer.profiles import (  # noqa: E402
    epochs_to_target,
    performance_profile,
    steps_to_target,
)
from deepobs.pytorch.analyzer.significance import (  # noqa: E402
    compare_to_best,
    confidence_interval,
    holm,
    pairwise_tests,
    significance_tables,
)
from deepobs.pytorch.analyzer.stats import t_cdf  # noqa: E402
from deepobs.pytorch.analyzer.tables import latex_escape, results_table  # noqa: E402


def test_confidence_interval_by_hand():
    # mean 2.5, sd sqrt(5/3), sem 0.6454972; t(0.975, 3) = 3.1824463
    mean, low, high = confidence_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5
    assert low == pytest.approx(2.5 - 3.1824463 * 0.6454972, abs=1e-6)
    assert high == pytest.approx(2.5 + 3.1824463 * 0.6454972, abs=1e-6)
    assert (
        confidence_interval(np.array([5.0, np.nan]))[1:]
        == (pytest.approx(math.nan, nan_ok=True),) * 2
    )
    assert confidence_interval(np.array([2.0, 2.0, 2.0])) == (2.0, 2.0, 2.0)


def test_holm_by_hand():
    # sorted 0.01 x3 = 0.03; 0.03 x2 = 0.06; 0.04 x1 = 0.04 -> monotone 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([np.nan, 0.2, 0.5]), [np.nan, 0.4, 0.5])
    np.testing.assert_allclose(holm([0.6, 0.7]), [1.0, 1.0])  # capped at 1


def test_pairwise_tests_by_hand():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0, 7.0])
    row = pairwise_tests({"A": a, "B": b}).iloc[0]
    # Welch: se = sqrt(1/3 + (5/3)/4) = sqrt(0.75); t = -3.5 / se; Welch-Satterthwaite df.
    t = -3.5 / math.sqrt(0.75)
    df = 0.75**2 / ((1 / 3) ** 2 / 2 + (5 / 12) ** 2 / 3)
    assert row["welch_t"] == pytest.approx(t) and df == pytest.approx(4.959184, abs=1e-6)
    assert row["welch_p"] == pytest.approx(2 * (1 - t_cdf(-t, df)), rel=1e-8)  # our own t CDF
    # Mann-Whitney, exact: every b above every a, U = 0, p = 2 / C(7, 3) = 2 / 35.
    assert row["mannwhitney_u"] == 0 and row["mannwhitney_p"] == pytest.approx(2 / 35)
    assert row["welch_p_holm"] == row["welch_p"]  # one pair: nothing to correct
    three = pairwise_tests({"A": a, "B": b, "C": np.array([2.5, 3.5, 4.5])})
    np.testing.assert_allclose(three["welch_p_holm"], holm(three["welch_p"]))
    # The same numbers as scikit-posthocs 0.17.1 (posthoc_ttest(equal_var=False) and
    # posthoc_mannwhitney, both p_adjust="holm"), checked once by hand.
    np.testing.assert_allclose(three["welch_p_holm"], [0.030231, 0.140066, 0.138777], atol=1e-6)
    np.testing.assert_allclose(three["mannwhitney_p_holm"], [6 / 35, 8 / 35, 8 / 35])


def test_compare_to_best_marks_best_and_ties():
    scores = {
        "A": np.array([0.900, 0.910, 0.920]),
        "B": np.array([0.905, 0.915, 0.925]),
        "C": np.array([0.500, 0.510, 0.520, np.nan]),  # one seed diverged
    }
    frame = compare_to_best(scores, higher_better=True).set_index("optimizer")
    assert frame["is_best"].tolist() == [False, True, False]
    assert frame["tied_with_best"].tolist() == [True, True, False]
    assert frame.loc["C", "n"] == 3 and frame.loc["C", "n_diverged"] == 1
    assert frame.loc["C", "welch_p_holm"] < 0.05 <= frame.loc["A", "welch_p_holm"]
    lower = compare_to_best(scores, higher_better=False).set_index("optimizer")
    assert lower["is_best"].tolist() == [False, False, True]


def test_expected_best_by_hand():
    mean, std = expected_best(np.array([1.0, 2.0, 3.0]), [1, 2, 3])
    # k = 2: P(max = 1, 2, 3) = 1/9, 3/9, 5/9 -> 22/9; E[max^2] = 58/9
    np.testing.assert_allclose(mean, [2.0, 22 / 9, (1 + 2 * 7 + 3 * 19) / 27])
    assert std[1] == pytest.approx(math.sqrt(58 / 9 - (22 / 9) ** 2))
    low, _ = expected_best(np.array([1.0, 2.0, 3.0]), 2, higher_better=False)
    assert low[0] == pytest.approx(14 / 9)  # min of two: P(3)=1/9, P(2)=3/9, P(1)=5/9
    diverged, _ = expected_best(np.array([1.0, np.nan, 3.0]), 1)
    assert diverged[0] == pytest.approx(5 / 3)  # a diverged trial counts as the worst (1)
    with pytest.raises(ValueError, match="k must be >= 1"):
        expected_best(np.array([1.0]), 0)


def test_epochs_to_target_and_profile_by_hand():
    assert epochs_to_target(np.array([5.0, 4.0, 3.0, 2.0]), 3.0, higher_better=False) == 2
    assert epochs_to_target(np.array([0.1, 0.5, np.nan]), 0.9, higher_better=True) == math.inf
    frame = pd.DataFrame(
        {
            "testproblem": ["p1", "p1", "p2", "p2"],
            "optimizer": ["A", "B", "A", "B"],
            "ratio": [1.0, 2.0, 1.0, math.inf],
        }
    )
    profile = performance_profile(frame, np.array([1.0, 2.0, 5.0]))
    np.testing.assert_allclose(profile["A"], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(profile["B"], [0.0, 0.5, 0.5])


@pytest.fixture(scope="module")
def paper_results(tmp_path_factory):
    return read_results(write_paper_tree(tmp_path_factory.mktemp("paper")))


def test_statistics_of_a_results_tree(paper_results):
    summary, pairs = significance_tables(paper_results)
    assert len(pairs) == 2 * 3 and set(summary["testproblem"]) == {"quadratic_deep", "fmnist_2c2d"}
    for problem, metric in (("quadratic_deep", "test_losses"), ("fmnist_2c2d", "test_accuracies")):
        rows = summary[summary["testproblem"] == problem].set_index("optimizer")
        assert rows["metric"].iloc[0] == metric
        assert rows["is_best"].to_dict() == {"SGD": False, "Adam": True, "my_opt": False}
        assert rows["tied_with_best"].to_dict() == {"SGD": False, "Adam": True, "my_opt": True}
    table = results_table(pd.DataFrame(_performance_rows(summary)), summary)
    adam = table.loc[("fmnist_2c2d", "Performance"), "Adam"]
    assert adam.startswith("**") and adam.endswith(" %**")
    assert table.loc[("fmnist_2c2d", "Performance"), "my_opt"].endswith(" †")
    assert "†" not in table.loc[("fmnist_2c2d", "Performance"), "SGD"]
    assert latex_escape(adam).startswith("\\textbf{") and "$\\pm$" in latex_escape(adam)
    assert latex_escape("0.9 †") == "0.9 $^\\dagger$"


def _performance_rows(summary: pd.DataFrame) -> list[dict]:
    """Minimal performance-summary rows for the table layout."""
    return [
        {
            "testproblem": r.testproblem,
            "optimizer": r.optimizer,
            "performance": r.mean,
            "performance_std": 0.0,
            "performance_metric": r.metric,
            "n_diverged": 0,
            "n_seeds": 3,
            "speed": 3.0,
            "speed_reached": True,
            "hyperparams": "lr=0.01",
            "training_params": "{}",
        }
        for r in summary.itertuples()
    ]


def test_steps_and_budget_of_a_results_tree(paper_results):
    steps = steps_to_target(paper_results, thresholds={})
    quad = steps[steps["testproblem"] == "quadratic_deep"].set_index("optimizer")
    # No threshold: the target is SGD's (weakest) final loss, which SGD reaches at the end.
    assert set(quad["target_source"]) == {"weakest final"}
    assert quad.loc["SGD", "epochs"] == 12 and quad.loc["Adam", "ratio"] == 1.0
    assert quad.loc["SGD", "ratio"] == quad.loc["SGD", "epochs"] / quad.loc["Adam", "epochs"]
    budget = budget_table(paper_results)
    sgd = budget[(budget["testproblem"] == "fmnist_2c2d") & (budget["optimizer"] == "SGD")]
    assert sgd["k"].tolist() == [1, 2, 3] and sgd["metric"].iloc[0] == "valid_accuracies"
    assert sgd["expected_best"].is_monotonic_increasing  # more trials never hurt
