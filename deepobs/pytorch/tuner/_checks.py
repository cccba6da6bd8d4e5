"""Checks of a tuning run's setting, made before a study is opened or a trial started."""

from __future__ import annotations

import math

from deepobs.pytorch import config

#: Largest seed + 1 (NumPy's seeds are 32-bit).
SEED_LIMIT = 2**32


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_run_setting(
    random_seed=42, num_epochs=None, batch_size=None, l2_reg=None, device=None, **_
) -> None:
    """Refuse a setting that would fail inside the first trial (and leave a failed trial).

    Only the values that every trial shares are checked; the runner checks the rest.

    Raises:
        ValueError: naming the value, what is valid and the fix.
    """
    if not _is_int(random_seed) or not 0 <= random_seed < SEED_LIMIT:
        raise ValueError(
            f"random_seed must be an integer in [0, 2**32), got {random_seed!r}; DeepOBS uses 42."
        )
    for name, value in (("num_epochs", num_epochs), ("batch_size", batch_size)):
        if value is not None and (not _is_int(value) or value < 1):
            raise ValueError(
                f"{name} must be a positive integer, got {value!r}; leave it out to use the "
                "problem's default."
            )
    if l2_reg is not None and (
        isinstance(l2_reg, bool)
        or not isinstance(l2_reg, int | float)
        or not math.isfinite(l2_reg)
        or l2_reg < 0
    ):
        raise ValueError(
            f"l2_reg must be a finite number >= 0, got {l2_reg!r}; leave it out to use the "
            "problem's default."
        )
    if device is not None:
        config.validate_device(device)


def check_data_available(testproblem: str, data_dir=None) -> None:
    """Refuse a problem whose data set files are missing (each trial would fail on them).

    Raises:
        FileNotFoundError: naming the data set, the folder and how to get the files.
    """
    from deepobs.pytorch.datasets import DATASETS
    from deepobs.pytorch.testproblems import get_testproblem_class

    spec = getattr(get_testproblem_class(testproblem), "spec", None)
    dataset = DATASETS.get(getattr(spec, "dataset", None))
    if dataset is None or dataset.is_available(data_dir):
        return
    root = config.resolve_data_dir(data_dir)
    raise FileNotFoundError(
        f"Data set {dataset.name!r} of {testproblem} is not in {str(root)!r}, so every trial "
        f"would fail. Get it first (`deepobs download {dataset.name} --data-dir {root}`; see "
        "`deepobs list` for data sets prepared by hand), or pass --data-dir."
    )
