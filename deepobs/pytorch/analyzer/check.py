"""Validating a results tree before analysing it (``check_output``)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepobs.pytorch.analyzer.results import read_results
from deepobs.pytorch.results.read import Run

logger = logging.getLogger(__name__)

_SEED_IN_NAME = re.compile(r"^random_seed__(-?\d+)__")


@dataclass
class OutputReport:
    """What :func:`check_output` found.

    Attributes:
        root: The checked folder.
        n_files: Results files read successfully.
        invalid: ``(path, reason)`` of files that are not valid results files.
        issues: ``(path, reason)`` of valid files with an inconsistency (kept in the analysis).
        empty_folders: Folders without any results file below them.
        settings: ``{testproblem: {optimizer: {n_seeds: n_settings}}}``.
        diverged: ``(path, diverged_at_epoch)`` of diverged runs.
        sources: Number of files per format.
        data_orders: Number of files per training data order (``reshuffle``, ``fixed``).
    """

    root: Path
    n_files: int = 0
    invalid: list[tuple[Path, str]] = field(default_factory=list)
    issues: list[tuple[Path, str]] = field(default_factory=list)
    empty_folders: list[Path] = field(default_factory=list)
    settings: dict[str, dict[str, dict[int, int]]] = field(default_factory=dict)
    diverged: list[tuple[Path, int | None]] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)
    data_orders: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True if every file is valid and consistent and no folder is empty."""
        return not (self.invalid or self.issues or self.empty_folders)

    def summary(self) -> str:
        """A readable multi-line summary."""
        formats = ", ".join(f"{n} {s}" for s, n in sorted(self.sources.items())) or "none"
        lines = [f"{self.root}: {self.n_files} results file(s) ({formats})"]
        if len(self.data_orders) > 1:
            orders = ", ".join(f"{n} {o}" for o, n in sorted(self.data_orders.items()))
            lines.append(f"  data orders: {orders} (runs of different orders compare badly)")
        for problem, optimizers in sorted(self.settings.items()):
            for optimizer, counts in sorted(optimizers.items()):
                text = ", ".join(
                    f"{n} setting(s) with {seeds} seed(s)" for seeds, n in sorted(counts.items())
                )
                lines.append(f"  {problem} / {optimizer}: {text}")
        lines += [f"  diverged: {p} (epoch {e})" for p, e in self.diverged]
        lines += [f"  invalid: {p}: {why}" for p, why in self.invalid]
        lines += [f"  inconsistent: {p}: {why}" for p, why in self.issues]
        lines += [f"  empty folder: {p}" for p in self.empty_folders]
        return "\n".join(lines)


def _run_issues(run: Run) -> list[str]:
    issues = []
    match = _SEED_IN_NAME.match(run.path.name)
    if match and int(match.group(1)) != run.random_seed:
        issues.append(f"file name says seed {match.group(1)}, file says {run.random_seed}")
    if not run.setting.split("#")[0].startswith(f"num_epochs__{run.num_epochs}__"):
        issues.append(f"setting folder does not start with num_epochs__{run.num_epochs}__")
    losses = [run.curves[k] for k in ("train_losses", "test_losses") if k in run.curves]
    if run.status == "done" and any(np.isnan(c).any() for c in losses):
        issues.append("status is 'done' but a loss list holds null/NaN")
    if run.status == "diverged" and run.diverged_at_epoch is None:
        issues.append("status is 'diverged' but diverged_at_epoch is missing")
    return issues


def _empty_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    folders = [root, *sorted(p for p in root.rglob("*") if p.is_dir())]
    empty = [d for d in folders if not any(d.rglob("*.json"))]
    return [d for d in empty if d.parent not in empty]


def check_output(results_dir: str | Path) -> OutputReport:
    """Validate every results file under ``results_dir`` and summarise the tree.

    Checks each file's keys, list lengths (``num_epochs + 1``) and status, the seed in the
    file name and the setting folder; counts settings and seeds per optimizer; lists empty
    folders and diverged runs. The summary is logged (warnings if something is wrong).

    Raises:
        FileNotFoundError: if ``results_dir`` does not exist.
    """
    results = read_results(results_dir)
    report = OutputReport(
        root=Path(results_dir), n_files=len(results), invalid=list(results.skipped)
    )
    report.sources = dict(Counter(run.source for run in results.runs))
    report.data_orders = dict(Counter(run.data_order for run in results.runs))
    for (problem, optimizer, _), runs in results.groups().items():
        counts = report.settings.setdefault(problem, {}).setdefault(optimizer, {})
        counts[len(runs)] = counts.get(len(runs), 0) + 1
    for run in results.runs:
        report.issues += [(run.path, issue) for issue in _run_issues(run)]
        if run.status == "diverged":
            report.diverged.append((run.path, run.diverged_at_epoch))
    report.empty_folders = _empty_folders(Path(results_dir))
    logger.log(logging.INFO if report.ok else logging.WARNING, "%s", report.summary())
    return report
