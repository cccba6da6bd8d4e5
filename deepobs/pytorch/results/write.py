"""Writing results: assembly of one result, JSON values, and the atomic exclusive writer.

Every file a run leaves (results JSON, checkpoints) is first written in full to a temporary
file in its target folder, flushed and fsynced, then published in one step:

* results: :func:`publish_exclusive` hard-links the temporary file to its name, which fails if
  the name exists, so two runs that pick the same name never replace each other's file (the
  loser takes the next free ``_<k>`` suffix). A file system without hard links falls back to
  reserving the name with ``O_CREAT | O_EXCL``.
* checkpoints (one per run, replaced as the run advances): :func:`publish_replace`.

Temporary files are named ``<target name>.<pid>.<random>.tmp``; :func:`remove_stale_temp_files`
deletes those of processes that no longer run. Importable without pandas; usable without a
runner (:func:`assemble` and :func:`write_result` take plain values).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import platform
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

import deepobs
from deepobs.pytorch.results.naming import describe, result_file_stem

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
CURVES = ("train_losses", "valid_losses", "test_losses", "minibatch_train_losses")
ACCURACIES = ("train_accuracies", "valid_accuracies", "test_accuracies")
#: Name of the probe file :func:`check_writable` writes and removes.
PROBE_NAME = ".write-probe"


# --------------------------------------------------------------------------- values
def to_json_value(value: object) -> object:
    """A plain JSON value for ``value``; nothing JSON cannot hold ever raises.

    Tensors and NumPy values become numbers or lists, tuples and sets lists, non-finite floats
    ``null``; classes, functions, ``functools.partial`` objects and any other object become
    a readable description (their qualified name, never a memory address).
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    if isinstance(value, np.generic | np.ndarray):
        value = value.tolist()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [to_json_value(v) for v in value]
        return sorted(items, key=repr)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return describe(value)


def device_name(device: torch.device) -> str:
    """Human-readable name of the device a run used."""
    if device.type == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return platform.processor() or platform.machine() or "cpu"


def environment_meta(device: torch.device) -> dict:
    """Versions and hardware of this process, for the ``meta`` block of a result."""
    return {
        "deepobs_version": deepobs.__version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "device_name": device_name(device),
        "num_threads": torch.get_num_threads(),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
    }


def infer_status(output: Mapping) -> str:
    """``"diverged"`` if an evaluated loss is missing or non-finite, else ``"done"``."""
    for key in CURVES[:3]:
        for v in output.get(key, []) or []:
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                return "diverged"
    return "done"


# --------------------------------------------------------------------------- assembly
def assemble(
    output: Mapping,
    *,
    testproblem: str,
    batch_size: int,
    num_epochs: int,
    random_seed: int,
    l2_reg: float | None,
    effective_l2_reg: float | None,
    optimizer_name: str,
    optimizer_class: object,
    hyperparams: Mapping,
    training_params: Mapping,
    has_accuracy: bool,
    device: torch.device | str,
    start: datetime,
    wall_time: float,
    meta: Mapping | None = None,
) -> dict:
    """One results dictionary (schema 1.2 keys first, then ``status`` and ``meta``).

    Args:
        output: What the training loop returned (curves; optional ``status``,
            ``diverged_at_epoch``, ``epoch_wall_times_s`` and ``meta``; other keys are kept).
        testproblem: Name of the test problem.
        batch_size: Mini-batch size of the run.
        num_epochs: Number of epochs the run was given.
        random_seed: Random seed of the run.
        l2_reg: The L2 factor passed to the run (written as ``l2_reg`` and ``weight_decay``;
            ``None`` when the problem's default was used).
        effective_l2_reg: The L2 factor the problem actually used (its default if ``l2_reg``
            is ``None``).
        optimizer_name: Name of the optimizer (its results folder name).
        optimizer_class: The optimizer class (stored in ``meta`` by its qualified name).
        hyperparams: The optimizer's hyperparameters.
        training_params: Further training parameters (e.g. the learning-rate schedule).
        has_accuracy: Whether the accuracy curves belong in the result.
        device: Device the run trained on (its description goes into ``meta``).
        start: Start time of the run (``meta.start_time``).
        wall_time: Wall-clock seconds of the whole run (``meta.wall_time_s``).
        meta: Further ``meta`` entries (run options, data-parallel set-up, ...).

    Returns:
        A JSON-safe dictionary (see :func:`to_json_value`).
    """
    output = dict(output)
    status = output.pop("status", None) or infer_status(output)
    diverged_at = output.pop("diverged_at_epoch", None)
    epoch_times = output.pop("epoch_wall_times_s", None)
    extra_meta = output.pop("meta", None) or {}
    result = {
        "schema_version": SCHEMA_VERSION,
        "testproblem": testproblem,
        "batch_size": batch_size,
        "num_epochs": num_epochs,
        "random_seed": random_seed,
        "weight_decay": l2_reg,
        "l2_reg": l2_reg,
        "effective_l2_reg": effective_l2_reg,
        "optimizer_name": optimizer_name,
        "optimizer_hyperparams": dict(hyperparams),
        "training_params": dict(training_params),
    }
    for key in CURVES + (ACCURACIES if has_accuracy else ()):
        result[key] = output.pop(key, [])
    for key in ACCURACIES:
        output.pop(key, None)
    result.update(output)  # anything else a custom runner returned
    result["status"] = status
    result["diverged_at_epoch"] = diverged_at
    result["meta"] = {
        **environment_meta(torch.device(device)),
        "optimizer_class": optimizer_class,
        "start_time": start.isoformat(timespec="seconds"),
        "wall_time_s": wall_time,
        "epoch_wall_times_s": epoch_times,
        **(meta or {}),
        **extra_meta,
    }
    return to_json_value(result)


# --------------------------------------------------------------------------- files
def _temp_name(target: Path) -> Path:
    return target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def write_temp(target: Path, write: Callable[[object], None], binary: bool = False) -> Path:
    """Write a temporary file beside ``target`` in full (flushed, fsynced); return its path.

    Args:
        target: The final path (its folder must exist).
        write: ``f(handle)`` writing the content.
        binary: Open the handle in binary mode.
    """
    tmp = _temp_name(Path(target))
    try:
        with open(tmp, "xb" if binary else "x", **({} if binary else {"encoding": "utf-8"})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def publish_exclusive(tmp: Path, target: Path) -> bool:
    """Give the finished ``tmp`` the name ``target`` unless that exists; remove ``tmp``.

    Returns:
        True if ``target`` is now this file, False if the name was taken (``tmp`` is kept).
    """
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError:  # no hard links here: reserve the name, then move the content onto it
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            return False
        os.replace(tmp, target)
        return True
    tmp.unlink(missing_ok=True)
    return True


def publish_replace(tmp: Path, target: Path) -> None:
    """Move the finished ``tmp`` onto ``target`` (for a run's own checkpoint)."""
    try:
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_exclusive(target: Path, write: Callable[[object], None], binary: bool = False) -> Path:
    """Write ``target`` atomically, or ``<stem>_<k><suffix>`` if that name is taken.

    Never replaces an existing file. Returns the path written.
    """
    target = Path(target)
    tmp = write_temp(target, write, binary)
    try:
        path, k = target, 1
        while not publish_exclusive(tmp, path):
            path = target.with_name(f"{target.stem}_{k}{target.suffix}")
            k += 1
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.unlink(missing_ok=True)
    return path


def write_json_exclusive(data: Mapping, path: Path) -> Path:
    """Write ``data`` as JSON (``indent=4``, no NaN tokens) with :func:`write_exclusive`."""
    text = json.dumps(to_json_value(data), indent=4, allow_nan=False) + "\n"
    return write_exclusive(Path(path), lambda fh: fh.write(text))


def write_result(
    result: Mapping, folder: Path, random_seed: int, start: datetime, file_name: str | None = None
) -> Path:
    """Write one result into ``folder`` (created if needed); return its path.

    Args:
        result: The results dictionary (see :func:`assemble`).
        folder: Folder to write into.
        random_seed: Random seed of the run (part of the default file name).
        start: Start time of the run (part of the default file name).
        file_name: File name without ``.json`` (default: ``random_seed__<S>__<start time>``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_name or result_file_stem(random_seed, start)
    path = write_json_exclusive(result, folder / f"{stem}.json")
    logger.info("results written to %s", path)
    return path


def check_writable(folder: Path) -> None:
    """Create ``folder`` and write and remove a probe file, before any training.

    Raises:
        PermissionError: naming the folder and the fix, if it cannot be created or written.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = write_temp(folder / PROBE_NAME, lambda fh: fh.write("ok"))
        probe.unlink()
    except OSError as err:
        raise PermissionError(
            f"Cannot write results to {str(folder)!r} ({err.strerror or err}). Pass a writable "
            "output_dir (CLI: --output-dir), or fix the folder's permissions."
        ) from err


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a stale file of this process would be from an earlier, dead attempt
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temp_files(folder: Path, prefixes: tuple[str, ...]) -> list[Path]:
    """Delete ``<prefix>*.<pid>.<random>.tmp`` files in ``folder`` whose process has ended."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for path in folder.glob("*.tmp"):
        if not path.name.startswith(prefixes):
            continue
        parts = path.name.rsplit(".", 3)
        with contextlib.suppress(ValueError, IndexError):
            if len(parts) == 4 and not _pid_alive(int(parts[1])):
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        logger.info("removed %d stale temporary file(s) in %s", len(removed), folder)
    return removed
