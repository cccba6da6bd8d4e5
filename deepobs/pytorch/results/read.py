"""Reading results files in the three DeepOBS formats into :class:`Run` records.

Formats (reference §5.6, §5.7):

* ``deepobs-pytorch``: this package's files (``schema_version`` 1; nulls for non-finite values,
  ``status`` and ``diverged_at_epoch``).
* ``deepobs-1.2``: DeepOBS 1.2.0-beta (``optimizer_name``, ``optimizer_hyperparams`` with the
  learning rate, validation lists; ``NaN`` tokens possible; diverged runs back-filled with their
  epoch-0 values, which are turned back into NaN here).
* ``deepobs-1.1``: the published baselines (``optimizer``, ``hyperparams`` without the learning
  rate, ``learning_rate`` and the schedule separate, no validation lists, ``NaN``/``Infinity``).

The setting is the name of the file's folder, whatever its spelling (``weight_decay__W`` of
older files or ``l2_reg__W``); the L2 factor itself is read from the file (``weight_decay`` or
``l2_reg``). ``training_params`` may hold strings naming callables (``module.qualname``); they
are kept as strings.

This is the only module that parses results files: the analyzer and the tuner both read
through :func:`read_runs`, so a truncated or invalid file is skipped with a warning naming it
everywhere. Needs NumPy only (no pandas).
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

SOURCE_PYTORCH = "deepobs-pytorch"
SOURCE_12 = "deepobs-1.2"
SOURCE_11 = "deepobs-1.1"
SUPPORTED_SCHEMA_VERSIONS = (1,)
STATUSES = ("done", "diverged")
#: JSON files that may sit in a results tree without being results (logged at debug level).
NON_RESULT_FILES = frozenset({"convergence_performance.json"})
#: The per-epoch lists a results file may hold (DeepOBS names).
CURVE_NAMES = (
    "train_losses",
    "valid_losses",
    "test_losses",
    "train_accuracies",
    "valid_accuracies",
    "test_accuracies",
)
#: Training order of runs that do not record one: DeepOBS 1.1 (TensorFlow) replayed one
#: shuffled order per run every epoch; DeepOBS 1.2 and this package reshuffle every epoch.
DEFAULT_DATA_ORDER = {SOURCE_PYTORCH: "reshuffle", SOURCE_12: "reshuffle", SOURCE_11: "fixed"}

_COMMON_KEYS = (
    "testproblem",
    "batch_size",
    "num_epochs",
    "random_seed",
    "train_losses",
    "test_losses",
)
_REQUIRED_KEYS = {
    SOURCE_PYTORCH: _COMMON_KEYS
    + ("optimizer_name", "optimizer_hyperparams", "training_params", "valid_losses", "status"),
    SOURCE_12: _COMMON_KEYS + ("optimizer_name", "optimizer_hyperparams", "valid_losses"),
    SOURCE_11: _COMMON_KEYS + ("optimizer", "learning_rate", "hyperparams"),
}


class ResultsFileError(ValueError):
    """A file that cannot be read as a DeepOBS results file (the message names why)."""


@dataclass
class Run:
    """One results file, normalised to a single shape whatever its format.

    Attributes:
        path: The file.
        source: ``deepobs-pytorch``, ``deepobs-1.2`` or ``deepobs-1.1``.
        testproblem: Test problem name.
        optimizer: Optimizer name (``optimizer_name``, or ``optimizer`` in 1.1 files).
        setting: The setting folder's name; runs of one setting differ only in their seed.
        random_seed: The run's seed.
        batch_size: Batch size.
        num_epochs: Number of training epochs; every curve has ``num_epochs + 1`` entries.
        weight_decay: The L2 factor passed to the run, ``None`` for the problem's default.
        hyperparams: Optimizer hyperparameters, learning rate included (``lr`` for 1.1 files).
        training_params: Runner options (schedule, AMP, data order, ...), ``{}`` if none.
        curves: Per-epoch lists by DeepOBS name (``test_losses``); NaN where a value is
            missing or not finite.
        status: ``done`` or ``diverged``.
        diverged_at_epoch: First epoch with a non-finite value, ``None`` if not diverged.
        minibatch_train_losses: The logged mini-batch losses.
        meta: The file's ``meta`` block (versions, device, timings), ``{}`` for old formats.
    """

    path: Path
    source: str
    testproblem: str
    optimizer: str
    setting: str
    random_seed: int
    batch_size: int
    num_epochs: int
    weight_decay: float | None
    hyperparams: dict
    training_params: dict
    curves: dict[str, np.ndarray]
    status: str
    diverged_at_epoch: int | None = None
    minibatch_train_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    meta: dict = field(default_factory=dict)

    @property
    def lr(self) -> float:
        """The learning rate (``lr`` or ``learning_rate``), NaN if the run has none."""
        value = self.hyperparams.get("lr", self.hyperparams.get("learning_rate"))
        return float(value) if isinstance(value, int | float) else math.nan

    @property
    def has_accuracy(self) -> bool:
        """Whether the file holds accuracy lists."""
        return "test_accuracies" in self.curves

    @property
    def data_order(self) -> str:
        """The training order: ``training_params["data_order"]``, else the format's default.

        The default is ``fixed`` for DeepOBS 1.1 and ``reshuffle`` otherwise (see
        :data:`DEFAULT_DATA_ORDER`).
        """
        return str(self.training_params.get("data_order") or DEFAULT_DATA_ORDER[self.source])

    @property
    def diverged(self) -> bool:
        """Whether the run diverged (its status, or a NaN in a loss list)."""
        return self.status == "diverged"


def detect_format(data: dict) -> str:
    """Return the format of a parsed results file.

    Raises:
        ResultsFileError: if ``data`` matches none of the three formats, or has an unknown
            ``schema_version``.
    """
    if "schema_version" in data:
        version = data["schema_version"]
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            raise ResultsFileError(
                f"schema_version {version!r} is not supported (this deepobs reads "
                f"{SUPPORTED_SCHEMA_VERSIONS}); upgrade deepobs to analyse it"
            )
        return SOURCE_PYTORCH
    if "optimizer_hyperparams" in data:
        return SOURCE_12
    if "optimizer" in data and "hyperparams" in data:
        return SOURCE_11
    raise ResultsFileError(
        "not a DeepOBS results file (no 'schema_version', 'optimizer_hyperparams' or "
        "'optimizer'/'hyperparams' key)"
    )


def read_run(path: str | Path) -> Run:
    """Read one results file of any of the three formats.

    Raises:
        ResultsFileError: if the file is not valid JSON (e.g. truncated), not a results file,
            or inconsistent (missing keys, list lengths other than ``num_epochs + 1``, unknown
            status).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultsFileError(f"not readable as JSON ({err})") from err
    if not isinstance(data, dict):
        raise ResultsFileError(f"top level is a {type(data).__name__}, not an object")
    return run_from_dict(data, path)


def run_from_dict(data: dict, path: Path) -> Run:
    """Build a :class:`Run` from a parsed results file found at ``path``.

    Raises:
        ResultsFileError: as :func:`read_run`.
    """
    source = detect_format(data)
    missing = [key for key in _REQUIRED_KEYS[source] if key not in data]
    if missing:
        raise ResultsFileError(f"{source} file misses the keys {missing}")
    num_epochs = _as_int(data, "num_epochs")
    curves = {
        key: _read_curve(data[key], key, num_epochs)
        for key in CURVE_NAMES
        if data.get(key) is not None
    }
    l2 = data.get("weight_decay")
    run = Run(
        path=Path(path),
        source=source,
        testproblem=str(data["testproblem"]),
        optimizer=str(data["optimizer"] if source == SOURCE_11 else data["optimizer_name"]),
        setting=Path(path).parent.name,
        random_seed=_as_int(data, "random_seed"),
        batch_size=_as_int(data, "batch_size"),
        num_epochs=num_epochs,
        weight_decay=l2 if l2 is not None else data.get("l2_reg"),
        hyperparams=_hyperparams(data, source),
        training_params=_training_params(data, source),
        curves=curves,
        status="done",
        minibatch_train_losses=_to_array(data.get("minibatch_train_losses") or []),
        meta=data.get("meta") if isinstance(data.get("meta"), dict) else {},
    )
    _set_status(run, data)
    return run


def read_runs(path: str | Path) -> tuple[list[Run], list[tuple[Path, str]]]:
    """Read every results file under ``path`` (a tree, a folder in one, or one file).

    Files that are not valid results files (truncated JSON, other JSON) are logged as a
    warning naming the file and skipped. Two files with the same seed in one setting keep the
    newer (by file name). Files of one setting folder whose parameters differ (e.g. a training
    parameter) are split into separate settings ``<folder>#1``, ..., with a warning.

    Returns:
        ``(runs, skipped)``, ``skipped`` holding ``(path, reason)`` of the skipped files.

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
    return split_mixed_settings(drop_duplicate_seeds(runs)), skipped


def drop_duplicate_seeds(runs: list[Run]) -> list[Run]:
    """Keep one run per seed and setting: the newest file (by name), with a warning."""
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


def setting_signature(run: Run) -> str:
    """Everything that defines a setting, as a string.

    Floats are rounded to 8 digits: 1.1 files vary in the 11th significant digit of the same
    learning rate.
    """

    def rounded(value: object) -> object:
        if isinstance(value, float) and math.isfinite(value) and value != 0:
            return float(f"{value:.8g}")
        if isinstance(value, dict):
            return {str(k): rounded(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
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


def split_mixed_settings(runs: list[Run]) -> list[Run]:
    """Rename runs of one folder with different parameters to ``<folder>#1``, ``#2``, ..."""
    by_folder: dict[tuple, dict[str, list[Run]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        by_folder[(run.testproblem, run.optimizer, run.setting)][setting_signature(run)].append(run)
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


def _as_int(data: dict, key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ResultsFileError(f"{key!r} must be an integer, got {value!r}")
    return value


def _to_array(values: list) -> np.ndarray:
    """Floats with NaN for nulls and non-finite values (``Infinity`` included)."""
    array = np.array([math.nan if v is None else v for v in values], dtype=float)
    array[~np.isfinite(array)] = math.nan
    return array


def _read_curve(values: object, key: str, num_epochs: int) -> np.ndarray:
    if not isinstance(values, list):
        raise ResultsFileError(f"{key!r} must be a list, got {type(values).__name__}")
    if len(values) != num_epochs + 1:
        raise ResultsFileError(
            f"{key!r} has {len(values)} entries, expected num_epochs + 1 = {num_epochs + 1}"
        )
    try:
        return _to_array(values)
    except (TypeError, ValueError) as err:
        raise ResultsFileError(f"{key!r} holds a value that is not a number ({err})") from err


def _hyperparams(data: dict, source: str) -> dict:
    if source != SOURCE_11:
        return dict(data["optimizer_hyperparams"] or {})
    # 1.1 keeps the learning rate apart; use the PyTorch name so all formats plot together.
    return {**(data["hyperparams"] or {}), "lr": data["learning_rate"]}


def _training_params(data: dict, source: str) -> dict:
    if source != SOURCE_11:
        params = data.get("training_params") or {}
        if not isinstance(params, dict):
            raise ResultsFileError(
                f"'training_params' must be an object, got {type(params).__name__}"
            )
        return dict(params)
    keys = ("lr_sched_epochs", "lr_sched_factors")
    return {key: data[key] for key in keys if data.get(key) is not None}


def _set_status(run: Run, data: dict) -> None:
    """Fill ``status``/``diverged_at_epoch``; undo the 1.2 back-fill of diverged runs."""
    if run.source == SOURCE_PYTORCH:
        if data["status"] not in STATUSES:
            raise ResultsFileError(f"status {data['status']!r} is not one of {STATUSES}")
        run.status = data["status"]
        run.diverged_at_epoch = data.get("diverged_at_epoch")
        return
    losses = [
        run.curves[k] for k in ("train_losses", "valid_losses", "test_losses") if k in run.curves
    ]
    bad = [int(np.flatnonzero(np.isnan(c))[0]) for c in losses if np.isnan(c).any()]
    start = _backfill_start(run.curves) if run.source == SOURCE_12 and not bad else None
    if start is not None:
        logger.info(
            "%s: epochs %d.. repeat the epoch-0 values (DeepOBS 1.2 back-fill of a "
            "diverged run); treating them as diverged",
            run.path,
            start,
        )
        bad = [start]
    if bad:
        run.status, run.diverged_at_epoch = "diverged", min(bad)
        for curve in run.curves.values():  # e.g. accuracies of NaN logits: not results
            curve[min(bad) :] = math.nan


def _backfill_start(curves: dict[str, np.ndarray]) -> int | None:
    """First epoch from which every curve repeats its epoch-0 value exactly, else ``None``."""
    length = len(next(iter(curves.values())))
    start = None
    for epoch in range(length - 1, 0, -1):
        if all(c[epoch] == c[0] for c in curves.values()):
            start = epoch
        else:
            break
    return start
