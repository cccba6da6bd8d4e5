"""Choosing the best setting from results files and rerunning it with more seeds.

The DeepOBS protocol tunes with one seed (42) per setting, picks the best setting by its
**validation** metric and reruns it with seeds 43-51 (10 seeds in all). The reader here
needs no extra packages: it reads the JSON files of ``<results>/<testproblem>/<optimizer>``
(this package's files and DeepOBS 1.2's, ``NaN`` tokens included).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

MODES = ("final", "best")
DEFAULT_RERUN_SEEDS = tuple(range(43, 52))


@dataclass
class Setting:
    """One setting folder and the parsed results files of its seeds."""

    folder: Path
    runs: list[dict]

    @property
    def hyperparams(self) -> dict:
        """The optimizer's hyperparameters of this setting."""
        return dict(self.runs[0]["optimizer_hyperparams"])

    @property
    def training_params(self) -> dict:
        """The training parameters of this setting."""
        return dict(self.runs[0].get("training_params") or {})

    def curves(self, metric: str) -> np.ndarray | None:
        """``[seeds, epochs]`` values of ``metric`` (NaN where null), ``None`` if missing."""
        if not all(run.get(metric) for run in self.runs):
            return None
        return np.array(
            [[math.nan if v is None else v for v in run[metric]] for run in self.runs], dtype=float
        )


def read_settings(optimizer_path: str | Path) -> list[Setting]:
    """Every setting folder under ``<results>/<testproblem>/<optimizer>`` with results files.

    Raises:
        FileNotFoundError: if ``optimizer_path`` is not a folder.
    """
    path = Path(optimizer_path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"No results folder {str(path)!r}. Pass <output_dir>/<testproblem>/<optimizer_name> "
            "of a finished tuning run."
        )
    settings = []
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):
        runs = [json.loads(f.read_text()) for f in sorted(folder.glob("random_seed__*.json"))]
        if runs:
            settings.append(Setting(folder, runs))
    return settings


def resolve_metric(settings: list[Setting], metric: str) -> str:
    """``metric`` if every setting has it, else ``valid_losses``, else ``test_losses``."""
    for candidate in (metric, "valid_losses", "test_losses"):
        if all(s.curves(candidate) is not None for s in settings):
            if candidate != metric:
                level = logging.WARNING if candidate.startswith("test") else logging.INFO
                logger.log(level, "%s missing, ranking settings by %s", metric, candidate)
            return candidate
    raise ValueError(f"The results hold neither {metric!r}, 'valid_losses' nor 'test_losses'.")


def score(setting: Setting, metric: str, mode: str) -> float:
    """The setting's mean over seeds of ``metric``: final value, or best over epochs.

    NaN if any seed diverged (a diverged setting ranks below every finite one).
    """
    curves = setting.curves(metric)
    if any(run.get("status") == "diverged" for run in setting.runs) or np.isnan(curves).any():
        return math.nan
    mean = curves.mean(axis=0)
    if mode == "final":
        return float(mean[-1])
    return float(mean.max() if _higher_is_better(metric) else mean.min())


def rank_settings(settings: list[Setting], metric: str, mode: str = "final") -> list[Setting]:
    """Settings sorted best first by :func:`score`; diverged settings last.

    Raises:
        ValueError: for an unknown ``mode`` or an empty list.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
    if not settings:
        raise ValueError("No settings with results files to rank.")
    sign = -1.0 if _higher_is_better(metric) else 1.0

    def key(setting: Setting) -> tuple[bool, float]:
        value = score(setting, metric, mode)
        return (math.isnan(value), sign * value if not math.isnan(value) else 0.0)

    return sorted(settings, key=key)


def rerun_setting(
    runner,
    optimizer_class,
    hyperparam_names,
    optimizer_path,
    seeds=DEFAULT_RERUN_SEEDS,
    rank: int = 1,
    mode: str = "final",
    metric: str = "valid_accuracies",
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
        metric: Selection metric (a results list name).

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
    logger.info("rerunning %s with seeds %s", chosen.folder.name, list(seeds))
    names = dict(hyperparam_names)
    hyperparams = {
        k: tuple(v) if names.get(k, {}).get("type") in (tuple, list) and isinstance(v, list) else v
        for k, v in chosen.hyperparams.items()
    }
    first = chosen.runs[0]
    setting_kwargs = {
        "batch_size": first["batch_size"],
        "num_epochs": first["num_epochs"],
        "l2_reg": first.get("weight_decay"),
        **chosen.training_params,
    }
    results = []
    for seed in seeds:
        instance = runner(optimizer_class, names, optimizer_name=optimizer_path.name)
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


def _higher_is_better(metric: str) -> bool:
    return "accurac" in metric
