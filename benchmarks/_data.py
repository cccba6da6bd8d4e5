"""Data for the benchmarks: the real files where present, else fake files in the real formats.

Fake files are written by the test suite's writers (``tests/fake_image_data.py``), so the real
readers, splits and transforms run on them; only their checksums cannot match, so checksum
verification is turned off for the fake data sets (and only for those).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from deepobs.pytorch import datasets

_TESTS = Path(__file__).resolve().parent.parent / "tests"

#: Raw (train, test) sizes of the fake files in quick mode: enough training batches at the
#: problems' default batch sizes for the timed steps (the train split is half of the raw
#: training set when it is smaller than twice the official test split).
QUICK_SIZES = {
    "mnist": (2 * 40 * 128, 256),
    "cifar10": (2 * 12 * 128, 256),
    "cifar100": (2 * 2 * 256, 512),
    "svhn": (2 * 2 * 128, 256),
}


def _fake_writers():
    if str(_TESTS) not in sys.path:
        sys.path.insert(0, str(_TESTS))
    return importlib.import_module("fake_image_data")


def prepare(names, data_dir: Path | None, scratch: Path, quick: bool) -> dict[str, dict]:
    """Find or fake each data set in ``names``.

    Args:
        names: Data set names (``"mnist"``, ``"cifar10"``, ...; ``"quadratic"`` is generated).
        data_dir: Where real data may be (``None``: the deepobs default data directory).
        scratch: Folder for fake files.
        quick: Small fake files (enough for a few steps); otherwise the real sizes.

    Returns:
        ``{name: {"data_dir": path, "source": "real" | "fake" | "generated"}}``.
    """
    found = {}
    for name in names:
        cls = getattr(datasets, name)
        if not cls.requires_files:
            found[name] = {"data_dir": None, "source": "generated"}
        elif cls.is_available(data_dir):
            cls._verify_files = True
            found[name] = {"data_dir": data_dir, "source": "real"}
        else:
            n_train, n_test = QUICK_SIZES[name] if quick else cls.expected_sizes
            _fake_writers().write_fake(name, scratch, n_train, n_test, seed=0, learnable=True)
            cls._verify_files = False  # fake files cannot match the published checksums
            found[name] = {"data_dir": scratch, "source": "fake"}
    return found
