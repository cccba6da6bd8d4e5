"""What the published DeepOBS 1.1 baselines hold: the files of a pinned repository tree.

The baselines are the result files DeepOBS 1.1 published (TensorFlow, 2019) in the repository
``fsschneider/DeepOBS_Baselines``. Only the commit is pinned here; the list of files, their
sizes and git blob SHA-1s come from that commit's tree, read at run time. Layout:
``<testproblem>/<Optimizer>/<setting folder>/random_seed__<S>__<timestamp>.json``: per problem
and optimizer, 36 learning rates with seed 42 and the setting DeepOBS chose rerun with seeds
43-51 (the folder with the most seeds, the "best setting").
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

#: Name of the published set, as ``deepobs analyze --baselines`` takes it.
NAME = "deepobs-1.1"
REPOSITORY = "fsschneider/DeepOBS_Baselines"
#: The commit the files are taken from (the repository's state of 2019).
PINNED_COMMIT = "3da285abf9786e823aaef6d0fc0c9c98ef5d6d83"
#: How the published runs ordered their training data (see ``data_order``) and their splits.
DATA_ORDER = "fixed"
DESCRIPTION = "published (TF, DeepOBS 1.1)"
#: Files at the tree's top level that the analyzer uses as well (convergence thresholds).
EXTRA_FILES = ("convergence_performance.json",)

_SEED = re.compile(r"^random_seed__(-?\d+)__.*\.json$")


@dataclass(frozen=True)
class BaselineFile:
    """One file of the published tree.

    Attributes:
        path: Path inside the repository (``/``-separated).
        sha: Git blob SHA-1 of the file's bytes.
        size: Size in bytes.
    """

    path: str
    sha: str
    size: int

    @property
    def parts(self) -> list[str]:
        """The path's components."""
        return self.path.split("/")

    @property
    def is_result(self) -> bool:
        """Whether this is a results file ``problem/optimizer/setting/random_seed__*.json``."""
        return len(self.parts) == 4 and bool(_SEED.match(self.parts[3]))

    @property
    def problem(self) -> str:
        """Test problem name."""
        return self.parts[0]

    @property
    def optimizer(self) -> str:
        """Optimizer name (TensorFlow class name, e.g. ``MomentumOptimizer``)."""
        return self.parts[1]

    @property
    def setting(self) -> str:
        """Setting folder name."""
        return self.parts[2]

    @property
    def seed(self) -> int:
        """The run's seed, from the file name."""
        match = _SEED.match(self.parts[3])
        if match is None:
            raise ValueError(f"{self.path!r} is not a results file")
        return int(match.group(1))


class Catalog:
    """The files of the published tree, grouped by problem, optimizer and setting.

    Args:
        files: Every blob of the tree (other files are ignored).
    """

    def __init__(self, files: list[BaselineFile]) -> None:
        self.results = sorted((f for f in files if f.is_result), key=lambda f: f.path)
        self.extras = sorted((f for f in files if f.path in EXTRA_FILES), key=lambda f: f.path)
        settings: dict[tuple[str, str], dict[str, list[BaselineFile]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for file in self.results:
            settings[(file.problem, file.optimizer)][file.setting].append(file)
        self.settings = {key: dict(value) for key, value in sorted(settings.items())}

    @classmethod
    def from_entries(cls, entries: list[dict]) -> Catalog:
        """Build from git tree entries (``{"path", "type", "sha", "size"}``); blobs only."""
        files = [
            BaselineFile(str(e["path"]), str(e["sha"]), int(e["size"]))
            for e in entries
            if e.get("type", "blob") == "blob"
        ]
        return cls(files)

    def problems(self) -> list[str]:
        """Test problems with published results."""
        return sorted({problem for problem, _ in self.settings})

    def best_setting(self, problem: str, optimizer: str) -> str:
        """The setting DeepOBS chose: the folder with the most seeds (ties: by name)."""
        folders = self.settings[(problem, optimizer)]
        return min(folders, key=lambda name: (-len(folders[name]), name))

    def select(self, problems: list[str] | None = None, all_settings: bool = False) -> list:
        """The files to fetch: the best settings' seeds (or every setting) of ``problems``.

        Raises:
            ValueError: for a problem without published results.
        """
        known = self.problems()
        unknown = [p for p in problems or [] if p not in known]
        if unknown:
            raise ValueError(
                f"No published DeepOBS 1.1 baselines for {', '.join(map(repr, unknown))}. "
                f"Available: {', '.join(known)}."
            )
        chosen = []
        for (problem, optimizer), folders in self.settings.items():
            if problems and problem not in problems:
                continue
            names = folders if all_settings else [self.best_setting(problem, optimizer)]
            chosen += [file for name in names for file in folders[name]]
        return chosen + self.extras

    def summary(self) -> list[dict]:
        """One row per problem and optimizer: settings, best setting, its seeds, sizes."""
        rows = []
        for (problem, optimizer), folders in self.settings.items():
            best = self.best_setting(problem, optimizer)
            rows.append(
                {
                    "testproblem": problem,
                    "optimizer": optimizer,
                    "n_settings": len(folders),
                    "best_setting": best,
                    "best_seeds": sorted(f.seed for f in folders[best]),
                    "best_bytes": sum(f.size for f in folders[best]),
                    "all_bytes": sum(f.size for files in folders.values() for f in files),
                }
            )
        return rows
