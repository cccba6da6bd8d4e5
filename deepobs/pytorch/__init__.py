"""DeepOBS for PyTorch: test problems, data sets, runners, analyzer and tuner.

Importing this package registers the test problems and nothing else: no device discovery,
no seeding, no downloads.
"""

from deepobs import __version__
from deepobs.pytorch import config, datasets, runners, testproblems

__all__ = ["__version__", "config", "datasets", "runners", "testproblems"]
