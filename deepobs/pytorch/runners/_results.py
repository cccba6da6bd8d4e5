"""Writing results: valid JSON only (no NaN tokens), written atomically, with metadata."""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch

import deepobs

SCHEMA_VERSION = 1


def to_json_value(value: object) -> object:
    """Turn tensors, NumPy values, tuples and non-finite floats into plain JSON values."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    if isinstance(value, np.generic | np.ndarray):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return value


def write_json_atomic(data: dict, path: Path) -> Path:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``.

    An interrupted write leaves at most a stray ``*.json.tmp`` file, never a truncated result.
    """
    path = Path(path)
    text = json.dumps(to_json_value(data), indent=4, allow_nan=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
