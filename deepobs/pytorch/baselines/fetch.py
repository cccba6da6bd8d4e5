"""Downloading the published DeepOBS 1.1 baselines into a local cache, verified and resumable.

The cache is a results tree in the DeepOBS 1.1 format
(``<cache>/<testproblem>/<Optimizer>/<setting>/random_seed__*.json``), so it can be passed to
the analyzer as reference results. Each file is checked against the git blob SHA-1 of the
pinned tree; files already in the cache with the right SHA-1 are not downloaded again, and
each file is written atomically (an interrupted fetch leaves no partial file).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from deepobs.pytorch.baselines.catalog import NAME, BaselineFile, Catalog
from deepobs.pytorch.baselines.source import GitHubSource, LocalSource, blob_sha1
from deepobs.pytorch.config import get_data_dir

logger = logging.getLogger(__name__)


@dataclass
class FetchReport:
    """What :func:`fetch_baselines` did.

    Attributes:
        cache: The cache folder (a DeepOBS 1.1 results tree).
        downloaded: Files downloaded now.
        present: Files already in the cache and verified.
        bytes_downloaded: Bytes downloaded now.
        bytes_total: Bytes of all selected files.
    """

    cache: Path
    downloaded: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    bytes_downloaded: int = 0
    bytes_total: int = 0


def default_cache() -> Path:
    """``<data dir>/baselines/deepobs-1.1`` (the data dir of :func:`config.get_data_dir`)."""
    return get_data_dir() / "baselines" / NAME


def load_catalog(source: GitHubSource | LocalSource | None = None) -> Catalog:
    """The published tree as a :class:`Catalog` (default source: GitHub at the pinned commit).

    Raises:
        BaselinesUnavailableError: if the source cannot be reached.
    """
    return Catalog((source or GitHubSource()).list_files())


def is_verified(path: Path, file: BaselineFile) -> bool:
    """Whether ``path`` exists with the size and git blob SHA-1 of ``file``."""
    if not path.is_file() or path.stat().st_size != file.size:
        return False
    return blob_sha1(path.read_bytes()) == file.sha


def fetch_baselines(
    problems: list[str] | None = None,
    *,
    all_settings: bool = False,
    cache: str | Path | None = None,
    source: GitHubSource | LocalSource | None = None,
    progress: bool = True,
) -> FetchReport:
    """Download published result files into ``cache``; skip files already verified there.

    Args:
        problems: Test problems to fetch (default: all eight).
        all_settings: Fetch every learning rate of the grid (seed 42), not only the seeds of
            the setting DeepOBS chose.
        cache: Target folder (default :func:`default_cache`).
        source: Where to read from (default: GitHub at the pinned commit).
        progress: Show a progress bar on stderr.

    Returns:
        What was downloaded and what was already there.

    Raises:
        ValueError: for a problem without baselines, or a file whose SHA-1 does not match.
        BaselinesUnavailableError: if the source cannot be reached.
    """
    source = source or GitHubSource()
    root = Path(cache) if cache is not None else default_cache()
    selected = load_catalog(source).select(problems, all_settings)
    report = FetchReport(cache=root, bytes_total=sum(f.size for f in selected))
    missing = []
    for file in selected:
        if is_verified(root / file.path, file):
            report.present.append(file.path)
        else:
            missing.append(file)
    size = sum(f.size for f in missing)
    logger.info(
        "%d of %d file(s) to download from %s: %.1f MB (%d already in %s)",
        len(missing),
        len(selected),
        source,
        size / 1e6,
        len(report.present),
        root,
    )
    bar = _progress_bar(size, progress and bool(missing))
    try:
        for file in missing:
            _download(source, file, root / file.path, bar)
            report.downloaded.append(file.path)
            report.bytes_downloaded += file.size
    finally:
        if bar is not None:
            bar.close()
    return report


def _download(source, file: BaselineFile, target: Path, bar) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    try:
        chunks = []
        with os.fdopen(fd, "wb") as handle:
            for chunk in source.read_chunks(file):
                handle.write(chunk)
                chunks.append(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        sha = blob_sha1(b"".join(chunks))
        if sha != file.sha:
            raise ValueError(
                f"{file.path}: git blob SHA-1 {sha} does not match the published {file.sha}; "
                "the download was corrupted or the source is not the pinned commit. Fetch again."
            )
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _progress_bar(total: int, show: bool):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc="baselines", file=sys.stderr)


def resolve_baselines(name: str, cache: str | Path | None = None) -> Path:
    """The cache folder of the published set ``name``, to pass as the analyzer's reference.

    Nothing is downloaded here: fetch first with ``deepobs baselines fetch``.

    Raises:
        ValueError: if ``name`` is not a published set.
        FileNotFoundError: if nothing of it has been fetched into ``cache``.
    """
    if name != NAME:
        raise ValueError(f"Unknown baselines {name!r}. Valid: {NAME}.")
    root = Path(cache) if cache is not None else default_cache()
    if not root.is_dir() or not any(root.glob("*/*/*/random_seed__*.json")):
        raise FileNotFoundError(
            f"No {NAME} baselines in {str(root)!r}; fetch them first with "
            f"'deepobs baselines fetch [PROBLEM ...] --cache {root}'."
        )
    return root
