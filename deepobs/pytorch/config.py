"""Process-wide settings: data directory, default device, loader workers, determinism.

The getters and setters follow DeepOBS 1.2 (``set_data_dir``, ``get_default_device``, ...).
Nothing here runs at import time: the device is chosen when it is first asked for, and the
data directory is resolved when it is read (argument > ``DEEPOBS_DATA_DIR`` > ``./data``).

The data directory kept here is the one of :mod:`deepobs.config` too (DeepOBS' top-level
``deepobs.config.set_data_dir``): both modules read and write this one value. Settings that
are not about PyTorch (baseline folder, benchmark sets, display names, default batch sizes
and epochs) live in :mod:`deepobs.config`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

DATA_DIR_ENV = "DEEPOBS_DATA_DIR"
DEFAULT_DATA_DIR = "data"

_data_dir: Path | None = None
_default_device: str | None = None
_num_workers: int | None = None  # None: default_num_workers()
_is_deterministic: bool = True


def get_data_dir() -> Path:
    """Return the data directory: ``set_data_dir`` > ``$DEEPOBS_DATA_DIR`` > ``./data``."""
    if _data_dir is not None:
        return _data_dir
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path(DEFAULT_DATA_DIR)


def set_data_dir(data_dir: str | os.PathLike | None) -> None:
    """Set the data directory for this process (``None`` goes back to the default)."""
    global _data_dir
    _data_dir = None if data_dir is None else Path(data_dir).expanduser()


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return ``data_dir`` as a path if given, else :func:`get_data_dir`."""
    return Path(data_dir).expanduser() if data_dir is not None else get_data_dir()


def available_device() -> str:
    """Return the best device on this machine: ``cuda``, else ``mps``, else ``cpu``."""
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def get_default_device() -> str:
    """Return the default device, choosing it on first use (see :func:`available_device`)."""
    return _default_device if _default_device is not None else available_device()


def set_default_device(device: str | torch.device | None) -> None:
    """Set the default device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``; ``None`` = auto).

    Raises:
        ValueError: if the device string is not a valid torch device, or names a backend
            that is not available on this machine.
    """
    global _default_device
    _default_device = None if device is None else validate_device(device)


def validate_device(device: str | torch.device) -> str:
    """Check that ``device`` parses and its backend is available; return it as a string."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"Unknown device {device!r}. Valid devices are 'cpu', 'cuda', 'cuda:N' and 'mps'."
        ) from err
    if parsed.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"Unknown device {device!r}. Valid devices are 'cpu', 'cuda', 'cuda:N' and 'mps'."
        )
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"Device {device!r} was requested but CUDA is not available on this machine. "
            "Use --device cpu, or install a CUDA build of torch."
        )
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"Device {device!r} was requested but Apple MPS is not available. Use --device cpu."
        )
    return str(parsed)


def default_num_workers() -> int:
    """Workers when none were set: ``min(8, usable CPUs)`` on Linux, 0 elsewhere.

    Only the file-backed data sets (ImageNet, Food-101) use worker processes; the in-memory
    data sets cut batches from device tensors and need none. macOS and Windows start workers
    by spawning a fresh interpreter, which costs seconds per loader, hence 0 there.
    """
    if not sys.platform.startswith("linux"):
        return 0
    return min(8, len(os.sched_getaffinity(0)))


def get_num_workers() -> int:
    """Return the DataLoader worker processes for file-backed data sets.

    :func:`set_num_workers` wins; otherwise :func:`default_num_workers`.
    """
    return default_num_workers() if _num_workers is None else _num_workers


def configured_num_workers() -> int | None:
    """Return the workers set by :func:`set_num_workers`, or ``None`` if none were set.

    Loaders of user data sets (DeepOBS 1.2's ``DataSet._make_dataloader``) use this, with
    DeepOBS' default of 0 workers when nothing was set.
    """
    return _num_workers


def set_num_workers(num_workers: int | None) -> None:
    """Set the DataLoader worker processes (0: main process; None: platform default)."""
    global _num_workers
    if num_workers is None:
        _num_workers = None
        return
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"num_workers must be an integer >= 0, got {num_workers!r}.")
    _num_workers = num_workers


def get_is_deterministic() -> bool:
    """Return whether runs ask cuDNN for deterministic kernels (the default)."""
    return _is_deterministic


def set_is_deterministic(is_deterministic: bool) -> None:
    """Choose deterministic cuDNN kernels (True) or the fastest, autotuned ones (False)."""
    global _is_deterministic
    _is_deterministic = bool(is_deterministic)


def apply_determinism() -> None:
    """Apply the determinism switch to cuDNN; called by the runners, never at import."""
    torch.backends.cudnn.deterministic = _is_deterministic
    torch.backends.cudnn.benchmark = not _is_deterministic
