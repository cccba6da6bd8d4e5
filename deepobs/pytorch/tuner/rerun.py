"""Choosing the best setting from results files and rerunning it with more seeds.

The DeepOBS protocol tunes with one seed (42) per setting, picks the best setting by its
**validation** metric and reruns it with seeds 43-51 (10 seeds in all). Files are read by
:mod:`deepobs.pytorch.results.read` and ranked by :mod:`deepobs.pytorch.results.select`, the
same reader and protocol as the analyzer's (settings compared on their common seeds, the same
metric fallback and tie-break), so both pick the same setting. Needs no extra packages.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepobs.pytorch.results import select as protocol
from deepobs.pytorch.results.read import Run, read_runs
from deepobs.pytorch.results.select import SettingCurves

logger = logging.getLogger(__name__)

MODES = protocol.MODES
DEFAULT_RERUN_SEEDS = tuple(range(43, 52))


@dataclass
class Setting:
    """One setting (normally one folder) and the runs of its seeds."""

    folder: Path
    runs: list[Run]
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or self.folder.name

    @property
    def hyperparams(self) -> dict:
        """The optimizer's hyperparameters of this setting."""
        return dict(self.runs[0].hyperparams)

    @property
    def training_params(self) -> dict:
        """The training parameters of this setting."""
        return dict(self.runs[0].training_params)

    def curves(self, metric: str) -> np.ndarray | None:
        """``[seeds, epochs]`` values of ``metric`` (NaN where null), ``None`` if missing."""
        if not all(metric in run.curves for run in self.runs):
            return None
        return np.stack([run.curves[metric] for run in self.runs])


def read_settings(optimizer_path: str | Path) -> list[Setting]:
    """Every setting with results files under ``<results>/<testproblem>/<optimizer>``.

    Files that cannot be read (e.g. truncated JSON) are skipped with a warning naming them.

    Raises:
        FileNotFoundError: if ``optimizer_path`` is not a folder.
    """
    path = Path(optimizer_path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"No results folder {str(path)!r}. Pass <output_dir>/<testproblem>/<optimizer_name> "
            "of a finished tuning run."
        )
    runs, _ = read_runs(path)
    groups: dict[str, list[Run]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: (r.setting, r.random_seed)):
        groups[run.setting].append(run)
    return [Setting(runs[0].path.parent, runs, name) for name, runs in sorted(groups.items())]


def resolve_metric(settings: list[Setting], metric: str | None) -> str:
    """``metric`` if every setting has it, else the protocol's fallback.

    The fallback is the same split's loss, the test list of the same kind, the test loss (see
    :func:`deepobs.pytorch.results.select.resolve_metric`).

    Raises:
        ValueError: if ``settings`` is empty or no fallback exists.
    """
    if not settings:
        raise ValueError("No settings with results files to rank.")
    available = set.intersection(*(set(r.curves) for s in settings for r in s.runs))
    return protocol.resolve_metric(metric, available, _context(settings))


def rank_settings(settings: list[Setting], metric: str, mode: str = "final") -> list[Setting]:
    """Settings sorted best first by the shared protocol (compared on their common seeds).

    Raises:
        ValueError: for an unknown ``mode`` or an empty list.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
    if not settings:
        raise ValueError("No settings with results files to rank.")
    by_name = {s.name: s for s in settings}
    ranking = protocol.rank_settings(
        [SettingCurves.from_runs(s.name, s.runs, metric) for s in settings],
        metric,
        mode,
        _context(settings),
    )
    return [by_name[row.setting] for row in ranking]


def rerun_setting(
    runner,
    optimizer_class,
    hyperparam_names,
    optimizer_path,
    seeds=DEFAULT_RERUN_SEEDS,
    rank: int = 1,
    mode: str = "final",
    metric: str | None = "valid_accuracies",
    **run_kwargs,
) -> list[dict]:
    """Rerun the ``rank``-th best setting of ``optimizer_path`` with ``seeds`` (DeepOBS 1.2).

    The setting is chosen by the validation metric (falling back to the validation loss for
    problems without accuracy). Batch size, epochs, L2 factor and training parameters come
    from the setting's results files; ``run_kwargs`` (``device``, ``data_dir``, ...) are
    passed on to ``run()``.

    Args:
        runner: Runner class, e.g. :class:`~deepobs.pytorch.runners.StandardRunner`.
        optimizer_class: The optimizer class.
        hyperparam_names: ``{name: {"type": t, "default": d}}`` as for the runner.
        optimizer_path: ``<output_dir>/<testproblem>/<optimizer_name>``.
        seeds: Random seeds of the reruns (default 43-51).
        rank: 1 for the best setting, 2 for the second best, ...
        mode: ``"final"`` (last value) or ``"best"`` (best value over epochs).
        metric: Selection metric (a results list name; ``None``: validation accuracy, else
            validation loss).
        **run_kwargs: Passed on to ``run()`` (``device``, ``data_dir``, ...).

    Returns:
        The results dicts of the reruns.

    Raises:
        ValueError: if ``rank`` exceeds the number of settings.
    """
    optimizer_path = Path(optimizer_path)
    settings = read_settings(optimizer_path)
    ranked = rank_settings(settings, resolve_metric(settings, metric), mode)
    if not 1 <= rank <= len(ranked):
        raise ValueError(f"rank must be between 1 and {len(ranked)} (settings found), got {rank}.")
    chosen = ranked[rank - 1]
    logger.info("rerunning %s with seeds %s", chosen.name, list(seeds))
    names = dict(hyperparam_names)
    hyperparams = {
        k: tuple(v) if names.get(k, {}).get("type") in (tuple, list) and isinstance(v, list) else v
        for k, v in chosen.hyperparams.items()
    }
    first = chosen.runs[0]
    setting_kwargs = {
        "batch_size": first.batch_size,
        "num_epochs": first.num_epochs,
        "l2_reg": first.weight_decay,
        **chosen.training_params,
    }
    results = []
    for seed in seeds:
        from deepobs.pytorch.tuner.search import make_runner  # search imports this module

        instance = make_runner(runner, optimizer_class, names, optimizer_path.name)
        results.append(
            instance.run(
                testproblem=optimizer_path.parent.name,
                hyperparams=hyperparams,
                random_seed=seed,
                output_dir=optimizer_path.parent.parent,
                **{**run_kwargs, **setting_kwargs},
            )
        )
    return results


def _context(settings: list[Setting]) -> str:
    if not settings:
        return "tuning results"
    run = settings[0].runs[0]
    return f"{run.testproblem}/{run.optimizer}"
