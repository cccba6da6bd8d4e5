"""DeepOBS data sets, one class per data set, importable by name.

``deepobs.pytorch.datasets.quadratic(batch_size=128)`` builds a data set with the four
loaders ``train``, ``train_eval``, ``valid`` and ``test``. Subclass :class:`DataSet` to add
your own. Every public module in this package defines the class of the same name.
"""

from __future__ import annotations

import importlib
import pkgutil

from deepobs.pytorch.datasets._base import SPLIT_SEED, SPLITS, DataSet
from deepobs.pytorch.datasets._download import download
from deepobs.pytorch.datasets._loader import TensorBatchLoader


def _import_all() -> dict[str, type]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        cls = getattr(module, info.name, None)
        if isinstance(cls, type) and issubclass(cls, DataSet):
            found[info.name] = cls
    return found


DATASETS: dict[str, type] = _import_all()
globals().update(DATASETS)

__all__ = [
    "DATASETS",
    "SPLITS",
    "SPLIT_SEED",
    "DataSet",
    "TensorBatchLoader",
    "download",
    *sorted(DATASETS),
]
