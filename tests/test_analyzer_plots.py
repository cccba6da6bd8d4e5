"""Analyzer: plots, TikZ export, the ``deepobs analyze`` CLI, import isolation, runtime."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pandas", reason="the analyzer extra is not installed")

import matplotlib  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from test_analyzer import DATA_11, DATA_12, make_curves, write_run  # noqa: E402

from deepobs.pytorch import cli  # noqa: E402
from deepobs.pytorch.analyzer import (  # noqa: E402
    estimate_runtime,
    figure_to_tikz,
    plot_hyperparameter_sensitivity,
    plot_optimizer_performance,
    plot_results_table,
    plot_testset_performances,
    read_results,
    save_figure,
)
from deepobs.pytorch.analyzer._deps import INSTALL_HINT, require  # noqa: E402
from deepobs.pytorch.runners import StandardRunner  # noqa: E402

LRS = (1e-3, 1e-2, 1.0)  # 1.0 diverges on quadratic_deep (largest Hessian eigenvalue > 30)


class _OneThread:
    """Run torch on one thread (a loaded 2-core machine is ~10x slower with two), then restore."""

    def __enter__(self):
        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.threads)


@pytest.fixture(scope="session")
def runner_tree(tmp_path_factory) -> Path:
    """SGD and Momentum x 3 learning rates x 2 seeds on quadratic_deep, 2 epochs, via the runner."""
    root = tmp_path_factory.mktemp("results")
    sgd = StandardRunner(torch.optim.SGD, {"lr": {"type": float}})
    momentum = StandardRunner(
        torch.optim.SGD, {"lr": {"type": float}, "momentum": {"type": float, "default": 0.9}},
        optimizer_name="Momentum",
    )
    with _OneThread():
        for runner in (sgd, momentum):
            for lr in LRS:
                for seed in (42, 43):
                    runner.run(testproblem="quadratic_deep", hyperparams={"lr": lr},
                               batch_size=128, num_epochs=2, random_seed=seed, output_dir=root)
    return root


@pytest.fixture(scope="session")
def runner_results(runner_tree):
    return read_results(runner_tree)


@pytest.fixture(scope="session")
def baselines():
    return read_results(DATA_11)


def _labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines()]


def test_runner_tree_is_read(runner_results):
    settings = runner_results.settings
    assert len(runner_results) == 12 and len(settings) == 6
    diverged = settings[settings["n_diverged"] > 0]
    assert sorted(diverged["lr"]) == [1.0, 1.0] and set(diverged["n_diverged"]) == {2}


def test_performance_plot_with_baselines(runner_results, baselines):
    fig = plot_optimizer_performance(runner_results, reference_path=baselines)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    test_loss, train_loss, test_acc, train_acc = fig.axes
    expected = ["SGD", "Momentum", "GradientDescentOptimizer (baseline)",
                "MomentumOptimizer (baseline)", "AdamOptimizer (baseline)"]
    assert _labels(train_loss) == expected
    assert _labels(test_loss)[:5] == expected and len(test_loss.get_lines()) == 6  # + threshold
    assert test_loss.get_lines()[5].get_ydata()[0] == pytest.approx(87.70315464772136)
    assert not test_acc.axison and not train_acc.axison  # quadratic_deep has no accuracy
    assert test_acc.get_legend() is not None  # the free panel holds the legend
    # Best setting per optimizer (lr 1e-2), mean over the two seeds.
    sgd = runner_results.groups()
    best = [r for (_, o, s), runs in sgd.items() if o == "SGD" and "1.e-02" in s for r in runs]
    mean = np.mean([r.curves["train_losses"] for r in best], axis=0)
    np.testing.assert_allclose(train_loss.get_lines()[0].get_ydata(), mean)
    # Colours: the same optimizer keeps its colour in every panel.
    assert test_loss.get_lines()[1].get_color() == train_loss.get_lines()[1].get_color()


def test_performance_plot_needs_a_problem_when_ambiguous():
    with pytest.raises(ValueError, match="Pick a test problem"):
        plot_optimizer_performance(DATA_11)
    fig = plot_optimizer_performance(DATA_12, band="ci")  # 1.2 files with accuracies
    assert all(ax.axison for ax in fig.axes) and len(fig.axes[2].get_lines()) == 1


def test_testset_plots(runner_results, baselines):
    fig = plot_testset_performances(runner_results, testset="small", reference_path=baselines)
    assert len(fig.axes) == 16 and fig.get_suptitle() == "Benchmark Set Small"
    grid = np.array(fig.axes).reshape(4, 4)  # rows: metrics, columns: P1-P4
    assert [ax.get_title() for ax in grid[0]] == ["Quadratic Deep", "MNIST - VAE",
                                                  "F-MNIST - CNN", "CIFAR-10 - CNN"]
    assert len(grid[1, 0].get_lines()) == 5  # 2 optimizers + 3 baselines
    assert not grid[2, 1].axison and not grid[3, 1].axison  # mnist_vae: loss only
    assert _labels(grid[1, 2]) == ["GradientDescentOptimizer (baseline)"]  # fmnist baseline
    assert len(grid[2, 2].get_lines()) == 2  # test accuracy + convergence threshold
    assert not grid[0, 3].get_lines()  # cifar10_3c3d: no results ...
    assert [line.get_ydata()[0] for line in grid[2, 3].get_lines()] == [  # ... but a threshold
        pytest.approx(0.8283307079578206)
    ]
    large = plot_testset_performances(runner_results, testset="large")
    assert len(large.axes) == 16  # no results there: only the four threshold lines
    assert sum(len(ax.get_lines()) for ax in large.axes) == 4
    assert not any(label[0] != "_" for ax in large.axes for label in _labels(ax))
    with pytest.raises(ValueError, match="Unknown test set"):
        plot_testset_performances(runner_results, testset="medium")


def test_sensitivity_plot(runner_results, baselines):
    fig = plot_hyperparameter_sensitivity(runner_results, reference_path=baselines)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "final validation loss"
    lines = {line.get_label(): line for line in ax.get_lines()}
    sgd = lines["SGD"]
    np.testing.assert_allclose(sgd.get_xdata(), LRS)
    assert np.isfinite(sgd.get_ydata()[:2]).all() and np.isnan(sgd.get_ydata()[2])
    # Diverged settings: one 'x' marker per optimizer at lr 1.0, plus the legend entry.
    assert [line.get_xdata().tolist() for line in ax.get_lines()
            if line.get_label() == "_diverged"] == [[1.0], [1.0]]
    assert "diverged" in lines
    assert lines["AdamOptimizer (baseline) [test loss]"].get_linestyle() == "--"
    assert len(ax.get_lines()) == 2 + 3 + 2 + 1
    relative = plot_hyperparameter_sensitivity(runner_results, relative=True, mode="best")
    ys = np.concatenate([line.get_ydata() for line in relative.axes[0].get_lines()
                         if line.get_label() in ("SGD", "Momentum")])
    ys = ys[np.isfinite(ys)]
    assert ys.max() == 1.0 and (ys >= 0).all() and (ys <= 1).all()
    assert ys.tolist().count(0.0) == 2  # lr 1.0 diverged: relative performance 0, as in 1.1


def test_results_table(runner_results):
    table = plot_results_table(runner_results)
    assert list(table.columns) == ["SGD", "Momentum"]
    assert table.index.tolist() == [("quadratic_deep", q)
                                    for q in ("Performance", "Speed", "Tuneability")]
    assert table.loc[("quadratic_deep", "Tuneability"), "SGD"] == "lr=1.00e-02"
    assert table.loc[("quadratic_deep", "Tuneability"), "Momentum"] == \
        "lr=1.00e-02, momentum=0.9"
    assert table.loc[("quadratic_deep", "Speed"), "SGD"] in ("2", "3 (not reached)")


def test_tikz_and_saving(runner_results, tmp_path):
    rc_before = dict(matplotlib.rcParams)
    fig = plot_hyperparameter_sensitivity(runner_results)
    code = figure_to_tikz(fig)
    assert "\\begin{tikzpicture}" in code and "\\end{tikzpicture}" in code
    assert "xmode=log" in code
    paths = save_figure(fig, tmp_path / "sub" / "sensitivity", "png,pdf,tex")
    assert [p.suffix for p in paths] == [".png", ".pdf", ".tex"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:4] == b"%PDF" and "tikzpicture" in paths[2].read_text()
    grid = plot_optimizer_performance(runner_results)
    assert "\\begin{groupplot}" in figure_to_tikz(grid)
    assert dict(matplotlib.rcParams) == rc_before  # plotting changed no global style
    with pytest.raises(ValueError, match="Valid formats"):
        save_figure(fig, tmp_path / "x", "png,jpeg")


def test_cli_end_to_end(runner_tree, tmp_path, capsys):
    out = tmp_path / "analysis"
    argv = ["analyze", str(runner_tree), "--out", str(out), "--format", "png,tex",
            "--baselines", str(DATA_11 / "quadratic_deep")]
    assert cli.main(argv) == 0
    expected = ["quadratic_deep_performance.png", "quadratic_deep_performance.tex",
                "quadratic_deep_lr_sensitivity.png", "quadratic_deep_lr_sensitivity.tex",
                "benchmark_small.png", "benchmark_small.tex", "results_table.md",
                "results_table.tex", "results_summary.csv"]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    assert all((out / name).stat().st_size > 0 for name in expected)
    printed = capsys.readouterr().out
    assert f"to {out}" in printed and str(out / "results_table.md") in printed
    assert "| Quadratic Deep | Performance |" in (out / "results_table.md").read_text()


@pytest.mark.parametrize(("argv", "message"), [
    (["analyze", "no/such/dir"], "not found"),
    (["analyze", ".", "--format", "gif"], "Valid formats"),
])
def test_cli_user_errors(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_cli_empty_tree_is_an_error(tmp_path, capsys):
    write_run(tmp_path, make_curves([0.1, 0.2]), hyperparams={"lr": 0.1})
    next(tmp_path.rglob("*.json")).write_text("{")
    assert cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "No DeepOBS results files" in capsys.readouterr().err


_ISOLATION = """
import sys
import deepobs.pytorch
from deepobs.pytorch import cli
cli.build_parser()
heavy = [m for m in ("pandas", "matplotlib") if m in sys.modules]
assert not heavy, heavy
sys.modules["pandas"] = None  # as if the analyzer extra were missing
try:
    import deepobs.pytorch.analyzer
except ImportError as err:
    assert 'pip install "deepobs[analyzer]"' in str(err), err
else:
    raise AssertionError("no ImportError without pandas")
del sys.modules["pandas"]
from deepobs.pytorch.analyzer import plot_optimizer_performance, save_figure
save_figure(plot_optimizer_performance(sys.argv[1]), sys.argv[2], "png")
assert "matplotlib.pyplot" not in sys.modules
print("isolated")
"""


def test_import_isolation_and_missing_extra(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _ISOLATION, str(DATA_12), str(tmp_path / "fig")],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "isolated" and (tmp_path / "fig.png").is_file()


def test_require_names_the_install_command():
    with pytest.raises(ImportError, match=re.escape(f"Install the analyzer extra: {INSTALL_HINT}")):
        require("deepobs_module_that_does_not_exist")


def test_estimate_runtime():
    with _OneThread():
        estimate = estimate_runtime(torch.optim.Adam, {"lr": 1e-3}, testproblem="quadratic_deep",
                                    num_epochs=1, n_runs=2)
    assert len(estimate.sgd_times_s) == len(estimate.optimizer_times_s) == 2
    ratios = np.array(estimate.optimizer_times_s) / np.array(estimate.sgd_times_s)
    assert estimate.ratio_mean == pytest.approx(ratios.mean())
    assert estimate.ratio_std == pytest.approx(ratios.std(ddof=1))
    assert "times the run time of SGD" in str(estimate)
    with pytest.raises(ValueError, match="n_runs"):
        estimate_runtime(torch.optim.Adam, {"lr": 1e-3}, n_runs=0)
