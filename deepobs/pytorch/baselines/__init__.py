"""The published DeepOBS 1.1 baselines (TensorFlow, 2019), fetched on demand.

:func:`fetch_baselines` downloads the result files of ``fsschneider/DeepOBS_Baselines`` at a
pinned commit into a local cache (default ``<data dir>/baselines/deepobs-1.1``), verifying
each file by its git blob SHA-1; :func:`load_catalog` lists what is published. The cache is a
DeepOBS 1.1 results tree: pass it to the analyzer as ``reference_path`` (or
``deepobs analyze RESULTS --baselines deepobs-1.1``) to draw the baselines beside your runs.
The published runs replayed one training order per run (``data_order="fixed"``) and trained
on the full training sets (no validation split).
"""

from __future__ import annotations

from deepobs.pytorch.baselines.catalog import (
    DATA_ORDER,
    DESCRIPTION,
    NAME,
    PINNED_COMMIT,
    REPOSITORY,
    BaselineFile,
    Catalog,
)
from deepobs.pytorch.baselines.fetch import (
    FetchReport,
    default_cache,
    fetch_baselines,
    load_catalog,
    resolve_baselines,
)
from deepobs.pytorch.baselines.source import (
    BaselinesUnavailableError,
    GitHubSource,
    LocalSource,
    blob_sha1,
)

__all__ = [
    "DATA_ORDER",
    "DESCRIPTION",
    "NAME",
    "PINNED_COMMIT",
    "REPOSITORY",
    "BaselineFile",
    "BaselinesUnavailableError",
    "Catalog",
    "FetchReport",
    "GitHubSource",
    "LocalSource",
    "blob_sha1",
    "default_cache",
    "fetch_baselines",
    "load_catalog",
    "resolve_baselines",
]
