"""DeepOBS 1.2 names of result folders and files (reference §5.5)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path


def float2str(value: object) -> str:
    """DeepOBS number format: ``"{:.10e}"`` with trailing mantissa zeros removed.

    ``0.001 -> "1.e-03"``, ``0.99 -> "9.9e-01"``; anything but a float goes through ``str``.
    """
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    mantissa, exponent = f"{value:.10e}".split("e")
    return f"{mantissa.rstrip('0')}e{exponent}"


def setting_folder_name(
    num_epochs: int,
    batch_size: int,
    hyperparams: Mapping[str, object],
    training_params: Mapping[str, object],
    weight_decay: float | None = None,
) -> str:
    """``num_epochs__N__batch_size__B[__weight_decay__W]__<hp>__<v>...__<tp>__<v>...``."""
    parts = [f"num_epochs__{num_epochs}", f"batch_size__{batch_size}"]
    if weight_decay is not None:
        parts.append(f"weight_decay__{float2str(weight_decay)}")
    parts += [f"{k}__{float2str(hyperparams[k])}" for k in sorted(hyperparams)]
    parts += [
        f"{k}__{float2str(training_params[k])}"
        for k in sorted(training_params)
        if training_params[k] is not None
    ]
    return "__".join(parts)


def run_folder(
    output_dir: str | Path, testproblem: str, optimizer_name: str, setting: str
) -> Path:
    """``<output_dir>/<testproblem>/<optimizer_name>/<setting>``."""
    return Path(output_dir) / testproblem / optimizer_name / setting


def result_file_name(random_seed: int, start: datetime) -> str:
    """``random_seed__<S>__<YYYY-MM-DD-HH-MM-SS>.json`` (the run's start time)."""
    return f"random_seed__{random_seed}__{start:%Y-%m-%d-%H-%M-%S}.json"


def existing_results(folder: Path, random_seed: int) -> list[Path]:
    """Result files of ``random_seed`` already in ``folder``."""
    return sorted(folder.glob(f"random_seed__{random_seed}__*.json"))
