"""Reading results files (moved; the names stay importable from here).

The one reader shared by the analyzer and the tuner is :mod:`deepobs.pytorch.results.read`.
"""

from __future__ import annotations

from deepobs.pytorch.results.read import (
    NON_RESULT_FILES,
    SOURCE_11,
    SOURCE_12,
    SOURCE_PYTORCH,
    STATUSES,
    SUPPORTED_SCHEMA_VERSIONS,
    ResultsFileError,
    Run,
    detect_format,
    read_run,
    read_runs,
)

__all__ = [
    "NON_RESULT_FILES",
    "SOURCE_11",
    "SOURCE_12",
    "SOURCE_PYTORCH",
    "STATUSES",
    "SUPPORTED_SCHEMA_VERSIONS",
    "ResultsFileError",
    "Run",
    "detect_format",
    "read_run",
    "read_runs",
]
