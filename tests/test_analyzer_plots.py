"""Analyzer: plots, TikZ export, the ``deepobs analyze`` CLI, import isolation, runtime."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pandas", reason="the analyzer extra is not installed")

import matplotlib  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from paper_tree import write_paper_tree  # noqa: E402
from test_analyzer import DATA_11, DATA_12, make_curves, write_run  # noqa: E402

from deepobs.pytorch import cli  # noqa: E402
from deepobs.pytorch.analyzer import (  # noqa: E402
    estimate_runtime,
    plot_hyperparameter_sensitivity,
    plot_optimizer_performance,
    plot_results_table,
    plot_testset_performances,
    read_results,
    save_figure,
)
from deepobs.pytorch.analyzer._deps import INSTALL_HINT, require  # noqa: E402
from deepobs.pytorch.analyzer.plots import (  # noqa: E402
    CLIPPED_LABEL,
    THRESHOLD_LABEL,
    SensitivityLine,
    sensitivity_figure,
)
from deepobs.pytorch.analyzer.tikz import figure_to_pgf, tex_escape  # noqa: E402
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
        torch.optim.SGD,
        {"lr": {"type": float}, "momentum": {"type": float, "default": 0.9}},
        optimizer_name="Momentum",
    )
    with _OneThread():
        for runner in (sgd, momentum):
            for lr in LRS:
                for seed in (42, 43):
                    runner.run(
                        testproblem="quadratic_deep",
                        hyperparams={"lr": lr},
                        batch_size=128,
                        num_epochs=2,
                        random_seed=seed,
                        output_dir=root,
                    )
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


PUBLISHED = " (published, TF DeepOBS 1.1)"


def test_performance_plot_with_baselines(runner_results, baselines):
    fig = plot_optimizer_performance(runner_results, reference_path=baselines)
    # quadratic_deep has no accuracy: two panels (test loss, train loss), no empty ones.
    assert isinstance(fig, Figure) and len(fig.axes) == 2 and all(a.axison for a in fig.axes)
    test_loss, train_loss = fig.axes
    expected = [
        "SGD",
        "Momentum",
        "GradientDescentOptimizer" + PUBLISHED,
        "MomentumOptimizer" + PUBLISHED,
        "AdamOptimizer" + PUBLISHED,
    ]
    assert [x for x in _labels(train_loss) if x[0] != "_"] == expected
    threshold = [line for line in test_loss.get_lines() if line.get_label() == THRESHOLD_LABEL]
    assert threshold[0].get_ydata()[0] == pytest.approx(87.70315464772136)
    # One legend below the figure: every line once, the threshold, and what the band means.
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[:5] == expected and THRESHOLD_LABEL in texts
    assert legend.get_title().get_text() == "line: mean, band: ±1 std over 2 to 3 seeds"
    # Best setting per optimizer (lr 1e-2), mean over the two seeds.
    sgd = runner_results.groups()
    best = [r for (_, o, s), runs in sgd.items() if o == "SGD" and "1.e-02" in s for r in runs]
    mean = np.mean([r.curves["train_losses"] for r in best], axis=0)
    np.testing.assert_allclose(train_loss.get_lines()[0].get_ydata(), mean)
    # Colour and marker: the same per optimizer in every panel, different between them;
    # published runs are grey and dashed.
    lines = {line.get_label(): line for line in train_loss.get_lines()}
    assert lines["SGD"].get_color() == test_loss.get_lines()[0].get_color()
    assert lines["SGD"].get_marker() != lines["Momentum"].get_marker()
    assert lines["SGD"].get_color() != lines["Momentum"].get_color()
    published = lines["AdamOptimizer" + PUBLISHED]
    assert published.get_linestyle() != "-" and published.get_color().startswith("#")
    assert len(set(published.get_color()[1:3] + published.get_color()[3:5])) <= 2  # a grey


def test_performance_plot_needs_a_problem_when_ambiguous():
    with pytest.raises(ValueError, match="Pick a test problem"):
        plot_optimizer_performance(DATA_11)
    fig = plot_optimizer_performance(DATA_12, band="ci")  # 1.2 files with accuracies
    assert len(fig.axes) == 4 and all(ax.axison for ax in fig.axes)  # a 2 x 2 grid
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "test loss",
        "train loss",
        "test accuracy",
        "train accuracy",
    ]
    assert "95 pct. confidence interval" in fig.legends[0].get_title().get_text()


def test_testset_plots(runner_results, baselines):
    fig = plot_testset_performances(runner_results, testset="small", reference_path=baselines)
    # Only problems with results: quadratic_deep (ours + published) and fmnist_2c2d (published).
    assert len(fig.axes) == 8 and fig.get_suptitle() == "Benchmark Set Small"
    grid = np.array(fig.axes).reshape(4, 2)  # rows: metrics, columns: problems
    assert [ax.get_title() for ax in grid[0]] == ["Quadratic Deep", "F-MNIST - CNN"]
    assert len([x for x in _labels(grid[1, 0]) if x[0] != "_"]) == 5  # 2 optimizers + 3 published
    assert not grid[2, 0].axison and not grid[3, 0].axison  # quadratic_deep: loss only
    assert _labels(grid[1, 1])[0] == "GradientDescentOptimizer" + PUBLISHED  # fmnist baseline
    assert THRESHOLD_LABEL in _labels(grid[2, 1])  # test accuracy + convergence threshold
    with pytest.raises(ValueError, match="No problem of the test set 'large' has results"):
        plot_testset_performances(runner_results, testset="large")
    with pytest.raises(ValueError, match="Unknown test set"):
        plot_testset_performances(runner_results, testset="medium")


def test_clipped_epoch_zero_is_marked(tmp_path):
    """A zoomed-in y-range that cuts off epoch 0 draws a triangle at the edge and says so."""
    root = write_paper_tree(tmp_path)
    fig = plot_optimizer_performance(root, testproblem="quadratic_deep")
    test_loss = fig.axes[0]
    clipped = [line for line in test_loss.get_lines() if line.get_label() == "_clipped"]
    assert len(clipped) == 3 and all(line.get_xdata()[0] == 0 for line in clipped)
    assert all(line.get_marker() == "^" for line in clipped)  # loss starts above the range
    assert CLIPPED_LABEL in [t.get_text() for t in fig.legends[0].get_texts()]


def test_sensitivity_plot(runner_results, baselines):
    fig = plot_hyperparameter_sensitivity(runner_results, reference_path=baselines)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "final validation loss"
    assert ax.get_yscale() == "linear"  # the values span less than a decade
    lines = {line.get_label(): line for line in ax.get_lines()}
    sgd = lines["SGD"]
    np.testing.assert_allclose(sgd.get_xdata(), LRS)
    assert np.isfinite(sgd.get_ydata()[:2]).all() and np.isnan(sgd.get_ydata()[2])
    # Diverged settings: one 'x' marker per optimizer at lr 1.0, plus the legend entry.
    assert [
        line.get_xdata().tolist() for line in ax.get_lines() if line.get_label() == "_diverged"
    ] == [[1.0], [1.0]]
    assert "diverged" in lines
    assert lines["AdamOptimizer" + PUBLISHED + " [test loss]"].get_linestyle() != "-"
    assert len(ax.get_lines()) == 2 + 3 + 2 + 1
    relative = plot_hyperparameter_sensitivity(runner_results, relative=True, mode="best")
    assert relative.axes[0].get_yscale() == "linear"
    for name in ("SGD", "Momentum"):  # each optimizer scaled by its own best setting
        (line,) = [x for x in relative.axes[0].get_lines() if x.get_label() == name]
        ys = line.get_ydata()
        assert np.nanmax(ys) == 1.0 and (ys >= 0).all() and (ys <= 1).all()
        assert ys[-1] == 0.0  # lr 1.0 diverged: relative performance 0, as in 1.1


def test_sensitivity_log_axis_when_values_span_decades():
    x = np.array([1e-3, 1e-2, 1e-1])
    wide = SensitivityLine("A", x, np.array([[1.0, 1.2], [5.0, 5.5], [1e8, 2e8]]))
    narrow = SensitivityLine("B", x, np.array([[1.0], [2.0], [3.0]]))
    assert sensitivity_figure([wide], "lr", "loss").axes[0].get_yscale() == "log"
    assert sensitivity_figure([narrow], "lr", "loss").axes[0].get_yscale() == "linear"
    assert (
        sensitivity_figure([wide], "lr", "loss", yscale="linear").axes[0].get_yscale() == "linear"
    )


@pytest.mark.parametrize("style", ["default", "neurips", "icml", "iclr", "jmlr"])
def test_styles_size_figures_for_a_column(runner_results, baselines, style):
    fig = plot_hyperparameter_sensitivity(runner_results, style=style)
    width = {"default": 345 / 72.27, "neurips": 5.5, "icml": 3.25, "iclr": 5.5, "jmlr": 6.0}
    assert fig.get_figwidth() == pytest.approx(width[style])
    grid = plot_testset_performances(runner_results, style=style, reference_path=baselines)
    full = {**width, "icml": 6.75}
    assert grid.get_figwidth() == pytest.approx(full[style])
    assert grid.get_figheight() < 9.0  # fits a page with its caption


def test_unknown_style_is_an_error(runner_results):
    with pytest.raises(ValueError, match="Valid styles: default, neurips"):
        plot_optimizer_performance(runner_results, style="nature")


def test_results_table(runner_results):
    table = plot_results_table(runner_results)
    assert list(table.columns) == ["SGD", "Momentum"]
    assert table.index.tolist() == [
        ("quadratic_deep", q) for q in ("Performance", "Speed", "Tuneability")
    ]
    assert table.loc[("quadratic_deep", "Tuneability"), "SGD"] == "lr=1.00e-02"
    assert table.loc[("quadratic_deep", "Tuneability"), "Momentum"] == "lr=1.00e-02, momentum=0.9"
    assert table.loc[("quadratic_deep", "Speed"), "SGD"] in ("2", "3 (not reached)")


def test_pgf_export_and_saving(runner_results, tmp_path):
    rc_before = dict(matplotlib.rcParams)
    fig = plot_hyperparameter_sensitivity(runner_results)
    paths = save_figure(fig, tmp_path / "sub" / "sensitivity", "png,pdf")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = paths[1].read_bytes()
    assert pdf[:4] == b"%PDF" and b"/FontFile2" in pdf and b"/Type3" not in pdf  # Type 42
    assert not list(tmp_path.rglob("*.partial"))
    if shutil.which("pdflatex"):  # compiled for real by tests/test_latex.py
        code = figure_to_pgf(fig)
        assert "\\begin{pgfpicture}" in code and "\\mathdefault{" not in code
        assert "\\label" not in code and "diverged" in code
    else:
        with pytest.raises(FileNotFoundError, match="needs 'pdflatex'"):
            figure_to_pgf(fig)
    assert dict(matplotlib.rcParams) == rc_before  # plotting changed no global style
    with pytest.raises(ValueError, match="Valid formats"):
        save_figure(fig, tmp_path / "x", "png,jpeg")


def test_tex_escape():
    assert tex_escape("my_opt 50% & #1") == r"my\_opt 50\% \& \#1"
    assert tex_escape("$10^{-3}$ a_b") == r"$10^{-3}$ a\_b"  # math is kept


def test_cli_end_to_end(runner_tree, tmp_path, capsys):
    out = tmp_path / "analysis"
    argv = [
        "analyze",
        str(runner_tree),
        "--out",
        str(out),
        "--format",
        "png,pdf",
        "--baselines",
        str(DATA_11 / "quadratic_deep"),
        "--style",
        "icml",
        "--relative",
        "--band",
        "ci",
    ]
    assert cli.main(argv) == 0
    figures = [
        "quadratic_deep_performance",
        "quadratic_deep_lr_sensitivity",
        "quadratic_deep_tuning_budget",
        "performance_profile",
    ]  # no grid: one problem
    expected = [f"{name}.{ext}" for name in figures for ext in ("png", "pdf")] + [
        "results_table.md",
        "results_table.tex",
        "results_summary.csv",
        "statistics.csv",
        "pairwise_tests.csv",
        "steps_to_target.csv",
        "tuning_budget.csv",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    assert all((out / name).stat().st_size > 0 for name in expected)
    printed = capsys.readouterr().out
    assert f"to {out}" in printed and str(out / "results_table.md") in printed
    table = (out / "results_table.md").read_text()
    assert "| Quadratic Deep | Performance |" in table and "95 % confidence interval" in table


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["analyze", "no/such/dir"], "not found"),
        (["analyze", ".", "--format", "gif"], "Valid formats"),
    ],
)
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
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "isolated" and (tmp_path / "fig.png").is_file()


def test_require_names_the_install_command():
    with pytest.raises(ImportError, match=re.escape(f"Install the analyzer extra: {INSTALL_HINT}")):
        require("deepobs_module_that_does_not_exist")


def test_estimate_runtime():
    with _OneThread():
        estimate = estimate_runtime(
            torch.optim.Adam, {"lr": 1e-3}, testproblem="quadratic_deep", num_epochs=1, n_runs=2
        )
    assert len(estimate.sgd_times_s) == len(estimate.optimizer_times_s) == 2
    ratios = np.array(estimate.optimizer_times_s) / np.array(estimate.sgd_times_s)
    assert estimate.ratio_mean == pytest.approx(ratios.mean())
    assert estimate.ratio_std == pytest.approx(ratios.std(ddof=1))
    assert "times the run time of SGD" in str(estimate)
    with pytest.raises(ValueError, match="n_runs"):
        estimate_runtime(torch.optim.Adam, {"lr": 1e-3}, n_runs=0)
