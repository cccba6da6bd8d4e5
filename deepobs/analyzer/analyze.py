"""The analyzer functions of DeepOBS 1.2, with its arguments, on :mod:`deepobs.pytorch.analyzer`.

Differences to DeepOBS, all in the direction of not losing work: plots are drawn into new
figures (``fig``/``ax`` of your own are refused with a clear error instead of being drawn
over), ``show=True`` calls ``matplotlib.pyplot.show()`` as before, and ``metric`` falls back
from accuracies to losses on problems without accuracy, as DeepOBS did.
"""

from __future__ import annotations

import os
from pathlib import Path

from deepobs.pytorch import analyzer as _pt

__all__ = [
    "check_output",
    "estimate_runtime",
    "get_performance_dictionary",
    "plot_hyperparameter_sensitivity",
    "plot_optimizer_performance",
    "plot_results_table",
    "plot_testset_performances",
]

#: DeepOBS' ``which`` -> the band of :func:`deepobs.pytorch.analyzer.stats.curve_band`.
_WHICH_TO_BAND = {"mean_and_std": "std", "median_and_quartiles": "quartiles"}


def _band(which: str) -> str:
    if which not in _WHICH_TO_BAND:
        raise ValueError(f"Unknown which={which!r}; valid values are {sorted(_WHICH_TO_BAND)}.")
    return _WHICH_TO_BAND[which]


def _no_axes(fig, ax) -> None:
    if fig is not None or ax is not None:
        raise ValueError(
            "Drawing into a given fig/ax is not supported; leave fig and ax out and use the "
            "returned (fig, axes)."
        )


def _finish(fig, show: bool):
    if show:
        import matplotlib.pyplot as plt

        plt.show()
    return fig, fig.axes


def plot_optimizer_performance(
    path,
    fig=None,
    ax=None,
    mode: str = "most",
    metric: str = "valid_accuracies",
    reference_path=None,
    show: bool = True,
    which: str = "mean_and_std",
):
    """Learning curves of the best setting of each optimizer under ``path``.

    Args:
        path: An optimizer folder or a test-problem folder of a results tree.
        fig: Not supported (must be ``None``).
        ax: Not supported (must be ``None``).
        mode: How the best setting is chosen: ``final``, ``best`` or ``most``.
        metric: Selection metric (accuracies fall back to losses where there are none).
        reference_path: Results drawn as reference.
        show: Call ``matplotlib.pyplot.show()``.
        which: ``mean_and_std`` or ``median_and_quartiles``.

    Returns:
        The figure and its axes.
    """
    _no_axes(fig, ax)
    figure = _pt.plot_optimizer_performance(
        path, mode=mode, metric=metric, reference_path=reference_path, band=_band(which)
    )
    return _finish(figure, show)


def plot_testset_performances(
    results_path,
    mode: str = "most",
    metric: str = "valid_accuracies",
    reference_path=None,
    show: bool = True,
    which: str = "mean_and_std",
):
    """Learning curves of every problem in ``results_path``, one column per problem.

    Returns:
        The figure and its axes.
    """
    problems = sorted(p.name for p in Path(results_path).iterdir() if p.is_dir())
    figure = _pt.plot_testset_performances(
        results_path,
        testset=problems,
        mode=mode,
        metric=metric,
        reference_path=reference_path,
        band=_band(which),
    )
    return _finish(figure, show)


def plot_hyperparameter_sensitivity(
    path,
    hyperparam: str,
    mode: str = "final",
    metric: str = "valid_accuracies",
    xscale: str = "linear",
    plot_std: bool = True,
    reference_path=None,
    show: bool = True,
):
    """Performance of every setting against one hyperparameter.

    ``plot_std`` is accepted for compatibility; the seeds' spread is always drawn.

    Returns:
        The figure and its first axes.
    """
    figure = _pt.plot_hyperparameter_sensitivity(
        path,
        hyperparam=hyperparam,
        mode=mode,
        metric=metric,
        xscale=xscale,
        reference_path=reference_path,
    )
    fig, axes = _finish(figure, show)
    return fig, axes[0]


def plot_results_table(
    results_path, mode: str = "most", metric: str = "valid_accuracies", conv_perf_file=None
):
    """The DeepOBS table (Performance, Speed, Tuneability) as a pandas data frame."""
    return _pt.plot_results_table(
        results_path, mode=mode, metric=metric, conv_perf_file=conv_perf_file
    )


def get_performance_dictionary(
    optimizer_path, mode: str = "most", metric: str = "valid_accuracies", conv_perf_file=None
) -> dict:
    """Performance, Speed, hyperparameters and training parameters of the best setting."""
    return _pt.get_performance_dictionary(
        optimizer_path, mode=mode, metric=metric, conv_perf_file=conv_perf_file
    )


def check_output(results_path: str | os.PathLike):
    """Check every results file and report empty setting folders; returns the report.

    DeepOBS printed the overview; here it is the report's ``summary()``.
    """
    return _pt.check_output(results_path)


def estimate_runtime(
    framework: str,
    runner_cls,
    optimizer_cls,
    optimizer_hp: dict,
    optimizer_hyperparams: dict,
    n_runs: int = 5,
    sgd_lr: float = 0.01,
    testproblem: str = "mnist_mlp",
    num_epochs: int = 5,
    batch_size: int = 128,
    **kwargs,
) -> str:
    """Time ``optimizer_cls`` against SGD and return the summary text, as DeepOBS did.

    The runs use :class:`~deepobs.pytorch.runners.StandardRunner`; ``runner_cls``,
    ``optimizer_hp`` and ``kwargs`` are accepted for compatibility (``data_dir`` in
    ``kwargs`` is honoured).

    Raises:
        ValueError: if ``framework`` is not ``"pytorch"``.
    """
    if framework != "pytorch":
        raise ValueError(f"framework must be 'pytorch' in this package, got {framework!r}.")
    estimate = _pt.estimate_runtime(
        optimizer_cls,
        optimizer_hyperparams,
        testproblem=testproblem,
        num_epochs=num_epochs,
        n_runs=n_runs,
        batch_size=batch_size,
        sgd_lr=sgd_lr,
        data_dir=kwargs.get("data_dir"),
    )
    return str(estimate)
