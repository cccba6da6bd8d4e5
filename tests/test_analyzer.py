"""Analyzer: reading the three results formats, checking trees, statistics, selection, scores.

The plots, TikZ and the CLI are tested in ``test_analyzer_plots.py``, which reuses the results
writer below.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pandas", reason="the analyzer extra is not installed")

from deepobs.pytorch.analyzer import (  # noqa: E402
    aggregate,
    best_setting,
    check_output,
    rank_settings,
    read_results,
    t_quantile,
)
from deepobs.pytorch.analyzer.metrics import (  # noqa: E402
    load_convergence_thresholds,
    score_optimizer,
    speed,
)
from deepobs.pytorch.analyzer.stats import curve_band  # noqa: E402
from deepobs.pytorch.analyzer.tables import results_table, to_latex, to_markdown  # noqa: E402

DATA = Path(__file__).parent / "data"
DATA_11 = DATA / "deepobs_1.1_baselines"
DATA_12 = DATA / "deepobs_1.2"


# ---------------------------------------------------------------- writing this package's format
def float2str(value: object) -> str:
    """DeepOBS folder number format: 0.01 -> 1.e-02."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    mantissa, exponent = f"{value:.10e}".split("e")
    return f"{mantissa.rstrip('0')}e{exponent}"


def make_curves(valid_acc: list, test_acc: list | None = None, accuracy: bool = True) -> dict:
    """The six lists from accuracies (losses are 1 - accuracy); None marks divergence."""
    test_acc = valid_acc if test_acc is None else test_acc
    loss = [None if a is None else 1.0 - a for a in valid_acc]
    test_loss = [None if a is None else 1.0 - a for a in test_acc]
    curves = {"train_losses": loss, "valid_losses": loss, "test_losses": test_loss}
    if accuracy:
        curves |= {
            "train_accuracies": valid_acc,
            "valid_accuracies": valid_acc,
            "test_accuracies": test_acc,
        }
    return curves


def write_run(
    root: Path,
    curves: dict,
    *,
    hyperparams: dict,
    seed: int = 42,
    problem: str = "mnist_logreg",
    optimizer: str = "SGD",
    training_params: dict | None = None,
    stamp: str = "2026-01-01-00-00-00",
) -> Path:
    """Write one results file exactly as this package's runner lays it out (schema 1)."""
    training_params = training_params or {}
    num_epochs = len(curves["train_losses"]) - 1
    parts = [f"num_epochs__{num_epochs}", "batch_size__128"]
    parts += [f"{k}__{float2str(hyperparams[k])}" for k in sorted(hyperparams)]
    parts += [f"{k}__{float2str(training_params[k])}" for k in sorted(training_params)]
    bad = [i for i, v in enumerate(curves["train_losses"]) if v is None]
    data = {
        "schema_version": 1,
        "testproblem": problem,
        "batch_size": 128,
        "num_epochs": num_epochs,
        "random_seed": seed,
        "weight_decay": None,
        "l2_reg": None,
        "effective_l2_reg": None,
        "optimizer_name": optimizer,
        "optimizer_hyperparams": hyperparams,
        "training_params": training_params,
        **{k: curves[k] for k in ("train_losses", "valid_losses", "test_losses")},
        "minibatch_train_losses": [v for v in curves["train_losses"][1:] if v is not None],
        **{k: v for k, v in curves.items() if k.endswith("accuracies")},
        "status": "diverged" if bad else "done",
        "diverged_at_epoch": bad[0] if bad else None,
        "meta": {"deepobs_version": "test", "wall_time_s": 1.0},
    }
    path = root / problem / optimizer / "__".join(parts) / f"random_seed__{seed}__{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4, allow_nan=False), encoding="utf-8")
    return path


@pytest.fixture
def known_tree(tmp_path: Path) -> Path:
    """Four SGD settings on mnist_logreg whose ranking under each mode is known.

    A (lr 0.01): valid acc ends highest (final picks it); test acc ends low.
    B (lr 0.1): valid acc peaks highest at epoch 1 (best picks it); test acc ends highest.
    C (lr 1.0): one seed superb, the other diverged -> worst in every mode.
    D (lr 0.001): three seeds, poor (most picks it).
    """
    for seed, va, ta in (
        (42, [0.1, 0.6, 0.9], [0.1, 0.6, 0.86]),
        (43, [0.1, 0.62, 0.88], [0.1, 0.64, 0.84]),
    ):
        write_run(tmp_path, make_curves(va, ta), hyperparams={"lr": 0.01}, seed=seed)
    for seed, peak in ((42, 0.95), (43, 0.93)):
        write_run(
            tmp_path,
            make_curves([0.1, peak, peak - 0.1], [0.1, 0.9, 0.99]),
            hyperparams={"lr": 0.1},
            seed=seed,
        )
    write_run(tmp_path, make_curves([0.1, 0.99, 0.99]), hyperparams={"lr": 1.0}, seed=42)
    write_run(tmp_path, make_curves([0.1, None, None]), hyperparams={"lr": 1.0}, seed=43)
    for seed in (42, 43, 44):
        write_run(tmp_path, make_curves([0.1, 0.3, 0.5]), hyperparams={"lr": 0.001}, seed=seed)
    return tmp_path


@pytest.fixture
def analyzer_log(caplog):
    """caplog that also sees records when the CLI switched off propagation of 'deepobs'."""
    logger = logging.getLogger("deepobs")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="deepobs")
    yield caplog
    logger.removeHandler(caplog.handler)


# ---------------------------------------------------------------- loading
def test_reads_deepobs_11_baselines():
    results = read_results(DATA_11 / "quadratic_deep")
    assert len(results) == 9 and {r.source for r in results.runs} == {"deepobs-1.1"}
    adam = [r for r in results.runs if r.optimizer == "AdamOptimizer"]
    assert adam[0].hyperparams == pytest.approx(
        {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "lr": 0.0398107170553497}
    )
    # One setting per optimizer although the stored learning rates differ in the 12th digit.
    assert results.settings["n_seeds"].tolist() == [3, 3, 3]
    frame = results.frame
    assert len(frame) == 9 * 101 * 2  # runs x epochs x (train, test) x loss
    assert set(frame["split"]) == {"train", "test"} and set(frame["metric"]) == {"loss"}
    final = frame.query("split == 'test' and epoch == 100 and seed == 42")
    assert final.set_index("optimizer")["value"]["GradientDescentOptimizer"] == pytest.approx(
        87.28, abs=0.01
    )


def test_reads_deepobs_12_files(analyzer_log):
    results = read_results(DATA_12)
    assert {r.source for r in results.runs} == {"deepobs-1.2"}
    runs = {(r.lr, r.random_seed, bool(r.training_params)): r for r in results.runs}
    assert runs[(0.1, 42, False)].curves["test_accuracies"][-1] == pytest.approx(0.9201)
    # Back-filled first-epoch divergence: epoch-0 copies become NaN, status diverged.
    backfilled = runs[(100.0, 42, False)]
    assert backfilled.status == "diverged" and backfilled.diverged_at_epoch == 1
    assert np.isnan(backfilled.curves["valid_accuracies"][1:]).all()
    assert "back-fill" in analyzer_log.text
    # NaN and Infinity tokens.
    tokens = runs[(10.0, 42, False)]
    assert tokens.status == "diverged" and tokens.diverged_at_epoch == 2
    assert np.isnan(tokens.curves["test_losses"][2]) and np.isnan(tokens.minibatch_train_losses[-1])
    # The accuracies after the divergence (0.0991 in the file) are not results either.
    assert np.isnan(tokens.curves["valid_accuracies"][2])
    assert tokens.curves["valid_accuracies"][1] == pytest.approx(0.8602)
    # A learning-rate schedule is its own setting, never mixed with the constant rate.
    assert runs[(0.1, 42, True)].training_params == {
        "lr_sched_epochs": [1],
        "lr_sched_factors": [0.1],
    }
    assert len(results.settings) == 4


def test_reads_this_packages_format(known_tree):
    results = read_results(known_tree)
    assert len(results) == 9 and {r.source for r in results.runs} == {"deepobs-pytorch"}
    diverged = [r for r in results.runs if r.status == "diverged"]
    assert [(r.lr, r.random_seed, r.diverged_at_epoch) for r in diverged] == [(1.0, 43, 1)]
    assert np.isnan(diverged[0].curves["valid_accuracies"][1:]).all()
    frame = results.frame
    assert len(frame) == 9 * 3 * 6
    assert frame.query("lr == 1.0 and seed == 43 and epoch > 0")["value"].isna().all()


def _write_garbage(root: Path, good: Path) -> list[Path]:
    folder = good.parent
    text = good.read_text()
    files = {
        "random_seed__1__truncated.json": text[: len(text) // 2],
        "random_seed__2__garbage.json": "this is not json {",
        "random_seed__3__list.json": "[1, 2, 3]",
        "notes.json": json.dumps({"comment": "not a results file"}),
        "random_seed__4__short.json": text.replace('"num_epochs": 2', '"num_epochs": 5'),
        "random_seed__5__future.json": text.replace('"schema_version": 1', '"schema_version": 9'),
    }
    for name, content in files.items():
        (folder / name).write_text(content)
    return [folder / name for name in files]


def test_garbage_and_truncated_files_are_skipped_with_a_warning(tmp_path, analyzer_log):
    good = write_run(tmp_path, make_curves([0.1, 0.5, 0.7]), hyperparams={"lr": 0.1})
    bad = _write_garbage(tmp_path, good)
    results = read_results(tmp_path)
    assert [r.path for r in results.runs] == [good]
    assert sorted(p for p, _ in results.skipped) == sorted(bad)
    warnings = [r.getMessage() for r in analyzer_log.records if r.levelno == logging.WARNING]
    for path in bad:
        assert any(str(path) in message for message in warnings), path
    reasons = dict(results.skipped)
    assert "expected num_epochs + 1 = 6" in reasons[bad[4]]
    assert "upgrade deepobs" in reasons[bad[5]]


def test_duplicate_seed_keeps_newer_and_mixed_folder_is_split(tmp_path, analyzer_log):
    write_run(tmp_path, make_curves([0.1, 0.5, 0.6]), hyperparams={"lr": 0.1}, stamp="2026-01-01")
    newer = write_run(
        tmp_path, make_curves([0.1, 0.5, 0.7]), hyperparams={"lr": 0.1}, stamp="2026-02-01"
    )
    mixed = write_run(tmp_path, make_curves([0.1, 0.5, 0.8]), hyperparams={"lr": 0.1}, seed=43)
    data = json.loads(mixed.read_text())
    data["training_params"] = {"amp": "bf16"}  # wrong folder for it: must not be mixed in
    mixed.write_text(json.dumps(data, indent=4))
    results = read_results(tmp_path)
    assert [r.path for r in results.runs] == [newer, mixed]
    assert results.settings["setting"].str.endswith("#1").sum() == 1
    assert "appears twice" in analyzer_log.text
    assert "differ in their parameters" in analyzer_log.text


def test_missing_path_raises():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_results(DATA / "no_such_folder")


def test_check_output_reports_tree(known_tree, tmp_path, analyzer_log):
    (known_tree / "mnist_logreg" / "Adam").mkdir()
    first = next(known_tree.rglob("*lr__1.e-02/random_seed__42__*.json"))
    text = first.read_text().replace('"random_seed": 42', '"random_seed": 8')
    first.with_name("random_seed__7__2026-01-01-00-00-00.json").write_text(text)
    (known_tree / "broken.json").write_text("{")
    report = check_output(known_tree)
    assert report.n_files == 10 and not report.ok
    assert report.settings == {"mnist_logreg": {"SGD": {2: 2, 3: 2}}}
    assert report.empty_folders == [known_tree / "mnist_logreg" / "Adam"]
    assert [p.name for p, _ in report.invalid] == ["broken.json"]
    assert any("file name says seed 7" in why for _, why in report.issues)
    assert len(report.diverged) == 1 and report.diverged[0][1] == 1
    summary = report.summary()
    assert "setting(s) with 3 seed(s)" in summary and "empty folder" in summary
    assert "broken.json" in analyzer_log.text


def test_check_output_clean_tree_is_ok():
    report = check_output(DATA_11)
    assert report.ok and report.n_files == 10 and report.sources == {"deepobs-1.1": 10}
    assert report.settings["quadratic_deep"]["AdamOptimizer"] == {3: 1}


# ---------------------------------------------------------------- statistics
def test_t_quantile_matches_scipy():
    scipy_t = pytest.importorskip("scipy.stats").t
    for df in (1, 2, 3, 4, 9, 29, 200, 2.5):
        for p in (0.6, 0.9, 0.975, 0.995, 0.025):
            expected = scipy_t.ppf(p, df)
            assert t_quantile(p, df) == pytest.approx(expected, rel=1e-9, abs=1e-12), (p, df)


def test_t_quantile_rejects_bad_input():
    with pytest.raises(ValueError, match="0 < p < 1"):
        t_quantile(1.0, 3)


def test_aggregate_ci_matches_scipy(known_tree):
    scipy_t = pytest.importorskip("scipy.stats").t
    results = read_results(known_tree)
    stats = aggregate(results.frame).set_index(["setting", "split", "metric", "epoch"]).sort_index()
    setting = [s for s in results.settings["setting"] if "lr__1.e-03" in s][0]
    row = stats.loc[(setting, "valid", "accuracy", 2)]
    assert row["n"] == 3 and row["mean"] == pytest.approx(0.5) and row["std"] == 0
    values = np.array([0.86, 0.84])  # test accuracy, setting A, last epoch
    setting_a = [s for s in results.settings["setting"] if "lr__1.e-02" in s][0]
    row = stats.loc[(setting_a, "test", "accuracy", 2)]
    low, high = scipy_t.interval(
        0.95, df=1, loc=values.mean(), scale=values.std(ddof=1) / math.sqrt(2)
    )
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    assert (row["min"], row["max"], row["median"]) == pytest.approx((0.84, 0.86, 0.85))
    # The diverged seed is left out and counted.
    setting_c = [s for s in results.settings["setting"] if "lr__1.e+00" in s][0]
    row = stats.loc[(setting_c, "valid", "accuracy", 2)]
    assert (row["n"], row["n_runs"], row["mean"]) == (1, 2, pytest.approx(0.99))
    assert np.isnan(row["ci_low"])


def test_curve_band_variants():
    curves = np.array([[1.0, 2.0, np.nan], [3.0, 6.0, np.nan], [5.0, 4.0, np.nan]])
    centre, low, high = curve_band(curves, "minmax")
    assert centre[:2].tolist() == [3.0, 4.0] and low[0] == 1 and high[1] == 6
    assert np.isnan(centre[2])
    centre, low, high = curve_band(curves, "quartiles")
    assert centre[0] == 3.0 and (low[0], high[0]) == (2.0, 4.0)
    with pytest.raises(ValueError, match="Valid bands"):
        curve_band(curves, "iqr")


# ---------------------------------------------------------------- selection and scores
@pytest.mark.parametrize(
    ("mode", "metric", "winner"),
    [
        ("final", None, "1.e-02"),
        ("best", None, "1.e-01"),
        ("most", None, "1.e-03"),
        ("final", "test_accuracies", "1.e-01"),
    ],
)
def test_best_setting_known_answer(known_tree, mode, metric, winner):
    results = read_results(known_tree)
    ranking = rank_settings(results, "mnist_logreg", "SGD", mode, metric)
    assert ranking["setting"][0].endswith(f"lr__{winner}")
    assert best_setting(results, "mnist_logreg", "SGD", mode, metric) == ranking["setting"][0]
    # The setting with a diverged seed ranks last although its other seed is the best run.
    assert ranking["setting"].iloc[-1].endswith("lr__1.e+00")
    assert ranking["n_diverged"].iloc[-1] == 1 and np.isnan(ranking["score"].iloc[-1])
    assert ranking["metric"][0] == (metric or "valid_accuracies")


def test_selection_defaults_and_errors(tmp_path):
    for lr, final in ((0.1, 90.0), (0.01, 95.0)):
        curves = {k: [300.0, 120.0, final] for k in ("train_losses", "valid_losses", "test_losses")}
        write_run(tmp_path, curves, hyperparams={"lr": lr}, problem="quadratic_deep")
    results = read_results(tmp_path)
    ranking = rank_settings(results, "quadratic_deep", "SGD")
    assert ranking["metric"][0] == "valid_losses" and ranking["lr"][0] == 0.1
    with pytest.raises(ValueError, match="Valid modes"):
        rank_settings(results, "quadratic_deep", "SGD", mode="last")
    with pytest.raises(ValueError, match="Valid metrics"):
        rank_settings(results, "quadratic_deep", "SGD", metric="valid_acc")
    with pytest.raises(ValueError, match="No results for optimizer 'Adam'"):
        rank_settings(results, "quadratic_deep", "Adam")


def test_11_selection_falls_back_to_test_with_warning(analyzer_log):
    results = read_results(DATA_11 / "fmnist_2c2d")
    ranking = rank_settings(results, "fmnist_2c2d", "GradientDescentOptimizer")
    assert ranking["metric"][0] == "test_accuracies"
    assert "selecting on test data" in analyzer_log.text


def test_speed():
    curve = np.array([0.1, 0.62, 0.85, np.nan])
    assert speed(curve, 0.6, higher_better=True) == 1
    assert speed(curve, 0.9, higher_better=True) == 4  # never: num_epochs + 1
    assert speed(np.array([300.0, 100.0, 87.0]), 87.703, higher_better=False) == 2
    assert math.isnan(speed(curve, None, higher_better=True))


def test_score_optimizer_performance_and_speed(known_tree):
    results = read_results(known_tree)
    score = score_optimizer(results, "mnist_logreg", "SGD", thresholds={"mnist_logreg": 0.8})
    assert score["setting"].endswith("lr__1.e-02")  # selected on validation, not on test
    assert score["performance_metric"] == "test_accuracies"
    assert score["performance"] == pytest.approx(0.85)
    assert score["performance_std"] == pytest.approx(np.std([0.86, 0.84], ddof=1))
    assert score["speed"] == 2 and score["speed_reached"]
    assert score["hyperparams"] == "lr=1.00e-02"
    assert math.isnan(score_optimizer(results, "mnist_logreg", "SGD", thresholds={})["speed"])


def test_performance_dictionary_of_an_optimizer_folder(known_tree):
    from deepobs.pytorch.analyzer import get_performance_dictionary

    perf = get_performance_dictionary(known_tree / "mnist_logreg" / "SGD", mode="best")
    assert perf["Hyperparameters"] == {"lr": 0.1} and perf["Training Parameters"] == {}
    assert perf["Performance"] == pytest.approx(0.99)  # B's final test accuracy
    assert math.isnan(perf["Speed"])  # mnist_logreg has no published threshold
    assert len(read_results(known_tree).subset(optimizer="SGD", testproblem="x")) == 0


def test_convergence_thresholds_are_the_published_values(tmp_path):
    thresholds = load_convergence_thresholds()
    assert len(thresholds) == 8
    assert thresholds["quadratic_deep"] == pytest.approx(87.70315464772136)
    assert thresholds["cifar10_3c3d"] == pytest.approx(0.8283307079578206)
    own = tmp_path / "conv.json"
    own.write_text(json.dumps({"mnist_logreg": 0.9}))
    assert load_convergence_thresholds(own) == {"mnist_logreg": 0.9}
    with pytest.raises(FileNotFoundError):
        load_convergence_thresholds(tmp_path / "missing.json")


def test_tables_render(known_tree, tmp_path):
    write_run(known_tree, make_curves([0.1, None, None]), hyperparams={"lr": 5.0}, optimizer="Adam")
    results = read_results(known_tree)
    from deepobs.pytorch.analyzer.metrics import performance_summary

    summary = performance_summary(results, thresholds={"mnist_logreg": 0.8})
    table = results_table(summary)
    assert list(table.columns) == ["SGD", "Adam"]
    assert table.loc[("mnist_logreg", "Performance"), "SGD"] == "85.00 ± 1.41 %"
    assert table.loc[("mnist_logreg", "Performance"), "Adam"].startswith("diverged")
    assert table.loc[("mnist_logreg", "Speed"), "SGD"] == "2"
    markdown = to_markdown(table)
    assert markdown.splitlines()[0] == "| Problem |  | SGD | Adam |"
    assert "| MNIST Log. Reg. | Performance | 85.00 ± 1.41 % |" in markdown
    latex = to_latex(table, summary)
    assert "\\begin{tabular}{llcc}" in latex and "MNIST Log. Reg." in latex
    assert "$\\pm$" in latex and "\\cellcolor{green!100!red!35}85.00" in latex
