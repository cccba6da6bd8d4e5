"""``deepobs.pytorch.datasets.dataset.DataSet``: the base class at its DeepOBS 1.2 module path.

Subclass it as in DeepOBS: set ``self._train_eval_size`` (and optionally ``self._name``)
before ``super().__init__(batch_size)``, and implement ``_make_train_and_valid_dataloader()``
(usually through ``self._make_train_and_valid_dataloader_helper(train_ds, valid_ds)``) and
``_make_test_dataloader()`` (usually ``self._make_dataloader(test_ds)``).
"""

from __future__ import annotations

from deepobs.pytorch.datasets._base import SPLITS, DataSet

__all__ = ["SPLITS", "DataSet"]
