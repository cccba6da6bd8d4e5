"""``download(name)``: fetch a data set's files into the data directory, on request only.

A data set can be downloaded if its class has a ``download(data_dir)`` classmethod (the image
data sets use torchvision's mirrors and checksums), or its module a function
``download_<name>(data_dir)``. Nothing in deepobs downloads implicitly.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable
from pathlib import Path


def _downloader(cls: type) -> Callable | None:
    method = getattr(cls, "download", None)
    if callable(method):
        return method
    return getattr(sys.modules.get(cls.__module__), f"download_{cls.name}", None)


def downloadable_datasets() -> list[str]:
    """Names of the data sets that :func:`download` can fetch."""
    from deepobs.pytorch.datasets import DATASETS

    return sorted(n for n, cls in DATASETS.items() if _downloader(cls) is not None)


def download(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Download data set ``name`` into ``data_dir`` and verify its files.

    Files that are already present and intact are kept.

    Args:
        name: Data set name, e.g. ``"cifar10"`` (see :func:`downloadable_datasets`).
        data_dir: The DeepOBS data directory; default :func:`deepobs.pytorch.config.get_data_dir`.

    Returns:
        The folder that holds the data set's files.

    Raises:
        ValueError: if ``name`` is not a data set that can be downloaded.
        RuntimeError: if the download fails (no network, bad checksum).
    """
    from deepobs.pytorch.datasets import DATASETS

    check_downloadable(name)
    return Path(_downloader(DATASETS[name])(data_dir))


def _why_not_downloadable(cls) -> str:
    """Sentence explaining why a known data set cannot be downloaded (empty if unknown)."""
    if cls is None:
        return ""
    if not cls.requires_files:
        return " It is generated, not downloaded."
    return " " + getattr(cls, "manual_download_hint", "It must be prepared by hand.")


def check_downloadable(name: str) -> None:
    """Raise ``ValueError`` (with close matches) unless :func:`download` can fetch ``name``."""
    from deepobs.pytorch.datasets import DATASETS

    valid = downloadable_datasets()
    if name not in valid:
        close = difflib.get_close_matches(str(name), valid, n=2, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        generated = _why_not_downloadable(DATASETS.get(name))
        raise ValueError(
            f"Cannot download data set {name!r}.{generated}{hint} "
            f"Data sets to download: {', '.join(valid)}."
        )
