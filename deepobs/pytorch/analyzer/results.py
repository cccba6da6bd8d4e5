"""A results tree in memory: its runs, a tidy table of their curves and a table of settings."""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from deepobs.pytorch.analyzer._naming import KEY_TO_CURVE
from deepobs.pytorch.analyzer.load import NON_RESULT_FILES, ResultsFileError, Run, read_run

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

    Unreadable files are logged as warnings and skipped. Two files with the same seed in one
    setting keep the newer (by file name). Files of one setting folder whose parameters differ
    (e.g. a training parameter) are split into separate settings, with a warning.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"Results path {str(path)!r} does not exist. Pass the "
            "output_dir of your runs (e.g. ./results)."
        )
    files = [path] if path.is_file() else sorted(path.rglob("*.json"))
    runs, skipped = [], []
    for file in files:
        if file.name in NON_RESULT_FILES:
            logger.debug("%s: not a results file, skipped", file)
            continue
        try:
            runs.append(read_run(file))
        except ResultsFileError as err:
            logger.warning("Skipping %s: %s", file, err)
            skipped.append((file, str(err)))
    if not runs:
        logger.warning("No DeepOBS results files found under %s", path)
    return Results(_split_mixed_settings(_drop_duplicate_seeds(runs)), skipped)


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


def _drop_duplicate_seeds(runs: list[Run]) -> list[Run]:
    latest: dict[tuple, Run] = {}
    for run in sorted(runs, key=lambda r: r.path.name):
        key = (run.testproblem, run.optimizer, run.setting, run.random_seed)
        if key in latest:
            logger.warning(
                "Seed %d appears twice in %s; using the newer file %s",
                run.random_seed,
                run.path.parent,
                run.path.name,
            )
        latest[key] = run
    return list(latest.values())


def _signature(run: Run) -> str:
    """Everything that defines a setting, with floats rounded (1.1 files vary in the 11th
    significant digit of the same learning rate)."""

    def rounded(value: object) -> object:
        if isinstance(value, float) and math.isfinite(value) and value != 0:
            return float(f"{value:.8g}")
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [rounded(v) for v in value]
        return value

    keys = (
        run.batch_size,
        run.num_epochs,
        run.weight_decay,
        run.hyperparams,
        run.training_params,
        run.source,
    )
    return json.dumps(rounded(list(keys)), default=str)


def _split_mixed_settings(runs: list[Run]) -> list[Run]:
    by_folder: dict[tuple, dict[str, list[Run]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        by_folder[(run.testproblem, run.optimizer, run.setting)][_signature(run)].append(run)
    for (_, _, setting), variants in by_folder.items():
        if len(variants) < 2:
            continue
        logger.warning(
            "Runs in setting folder %r differ in their parameters (%d variants); "
            "analysing them as separate settings %r#1...",
            setting,
            len(variants),
            setting,
        )
        for index, group in enumerate(list(variants.values())[1:], start=1):
            for run in group:
                run.setting = f"{setting}#{index}"
    return runs
