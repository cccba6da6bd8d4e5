"""A results tree in memory: its runs, a tidy table of their curves and a table of settings."""

from __future__ import annotations

import logging
from collections import defaultdict
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from deepobs.pytorch.analyzer._naming import KEY_TO_CURVE
from deepobs.pytorch.results.read import Run, read_runs

logger = logging.getLogger(__name__)

#: Columns of the tidy table: one row per run x epoch x split x metric.
FRAME_COLUMNS = (
    "testproblem",
    "optimizer",
    "setting",
    "seed",
    "epoch",
    "split",
    "metric",
    "value",
    "status",
    "source",
    "lr",
)


class Results:
    """The runs of a results tree, with derived tables.

    Args:
        runs: The runs (see :func:`read_results`).
        skipped: ``(path, reason)`` of the files that could not be read.

    Attributes:
        runs: The runs, sorted by problem, optimizer, setting and seed.
        skipped: Files that were skipped, with the reason.
    """

    def __init__(self, runs: list[Run], skipped: list[tuple[Path, str]] | None = None) -> None:
        self.runs = sorted(
            runs, key=lambda r: (r.testproblem, r.optimizer, r.setting, r.random_seed)
        )
        self.skipped = list(skipped or [])
        #: Memo of derived tables (e.g. rankings), keyed by their arguments.
        self.cache: dict[tuple, object] = {}

    def __len__(self) -> int:
        return len(self.runs)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """Tidy table with the columns :data:`FRAME_COLUMNS` (NaN for missing/diverged)."""
        parts = [_run_frame(run) for run in self.runs]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in FRAME_COLUMNS})
        return pd.concat(parts, ignore_index=True)

    @cached_property
    def settings(self) -> pd.DataFrame:
        """One row per (testproblem, optimizer, setting): parameters, seeds and divergences."""
        rows = []
        for (problem, optimizer, setting), runs in self.groups().items():
            first = runs[0]
            rows.append(
                {
                    "testproblem": problem,
                    "optimizer": optimizer,
                    "setting": setting,
                    "lr": first.lr,
                    "hyperparams": first.hyperparams,
                    "training_params": first.training_params,
                    "data_order": first.data_order,
                    "batch_size": first.batch_size,
                    "num_epochs": first.num_epochs,
                    "weight_decay": first.weight_decay,
                    "seeds": tuple(r.random_seed for r in runs),
                    "n_seeds": len(runs),
                    "n_diverged": sum(r.status == "diverged" for r in runs),
                    "source": first.source,
                    "has_valid": "valid_losses" in first.curves,
                    "has_accuracy": first.has_accuracy,
                }
            )
        return pd.DataFrame(rows)

    def groups(self) -> dict[tuple[str, str, str], list[Run]]:
        """Runs grouped by ``(testproblem, optimizer, setting)``."""
        return self._groups

    @cached_property
    def _groups(self) -> dict[tuple[str, str, str], list[Run]]:
        groups: dict[tuple[str, str, str], list[Run]] = defaultdict(list)
        for run in self.runs:
            groups[(run.testproblem, run.optimizer, run.setting)].append(run)
        return dict(groups)

    def problems(self) -> list[str]:
        """Sorted test problem names."""
        return sorted({r.testproblem for r in self.runs})

    def optimizers(self, testproblem: str | None = None) -> list[str]:
        """Sorted optimizer names (of one test problem if given)."""
        return sorted({r.optimizer for r in self.runs if testproblem in (None, r.testproblem)})

    def subset(self, testproblem: str | None = None, optimizer: str | None = None) -> Results:
        """The runs of one test problem and/or optimizer."""
        return Results(
            [
                r
                for r in self.runs
                if testproblem in (None, r.testproblem) and optimizer in (None, r.optimizer)
            ]
        )


def read_results(path: str | Path) -> Results:
    """Read every results file under ``path`` (a tree, a sub-folder of one, or one file).

    See :func:`deepobs.pytorch.results.read.read_runs`: unreadable files are logged as
    warnings and skipped, duplicate seeds keep the newer file, folders mixing parameters are
    split into settings ``<folder>#1``, ...

    Raises:
        FileNotFoundError: if ``path`` does not exist.
    """
    runs, skipped = read_runs(path)
    return Results(runs, skipped)


def load_results(path: str | Path) -> pd.DataFrame:
    """Read a results tree into a tidy DataFrame (see :attr:`Results.frame`)."""
    return read_results(path).frame


def _run_frame(run: Run) -> pd.DataFrame:
    blocks = []
    for key, values in run.curves.items():
        split, metric = KEY_TO_CURVE[key]
        blocks.append(
            pd.DataFrame(
                {
                    "epoch": np.arange(len(values)),
                    "split": split,
                    "metric": metric,
                    "value": values,
                }
            )
        )
    frame = pd.concat(blocks, ignore_index=True)
    for column, value in (
        ("testproblem", run.testproblem),
        ("optimizer", run.optimizer),
        ("setting", run.setting),
        ("seed", run.random_seed),
        ("status", run.status),
        ("source", run.source),
        ("lr", run.lr),
    ):
        frame[column] = value
    return frame[list(FRAME_COLUMNS)]
