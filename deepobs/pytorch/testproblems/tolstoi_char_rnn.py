"""``tolstoi_char_rnn``: DeepOBS' character-level LSTM on War and Peace (deprecated).

Schneider, Balles & Hennig, "DeepOBS", ICLR 2019; reference §2.11 and §4.4. Kept so old
results can be reproduced; new work should use ``textgen`` (same network on Penn Treebank,
which can be downloaded, whereas the Tolstoi files must be prepared by hand).
"""

from __future__ import annotations

import logging
import os
import warnings

import torch

from deepobs.pytorch import datasets
from deepobs.pytorch.testproblems._char_rnn import CharRNNProblem
from deepobs.pytorch.testproblems._registry import register_testproblem

logger = logging.getLogger(__name__)

DEPRECATION_MESSAGE = (
    "tolstoi_char_rnn is deprecated: its data cannot be downloaded and must be prepared by "
    "hand (`deepobs prepare-tolstoi`). Use 'textgen', the same network on Penn Treebank "
    "(`deepobs download ptb`)."
)


@register_testproblem(dataset="tolstoi", batch_size=50, num_epochs=200, stateful=True)
class tolstoi_char_rnn(CharRNNProblem):
    """Two-layer character LSTM (128 units) on War and Peace; deprecated, use ``textgen``.

    Data (DeepOBS 1.2 splits): ``valid`` = the first 653,237 ids of ``train.npy`` (a quarter
    of the ids for smaller files), ``train`` the rest, ``test`` = ``test.npy``,
    ``train_eval`` = the first training batches, as many as ``valid`` has. Needs
    ``<data_dir>/tolstoi/train.npy`` and ``test.npy``; build them with
    ``deepobs prepare-tolstoi war_and_peace.txt``.

    Model: embedding 83 x 128, two LSTMs of 128 units, linear 128 -> 83, dropout with keep
    probability 0.8 in training; 284,499 parameters. Loss: cross-entropy averaged over the 50
    steps of a sequence; accuracy over all characters; no L2. The LSTM state is carried across
    the batches of a phase and reset at each ``*_init_op()`` (see
    :class:`~deepobs.pytorch.testproblems._char_rnn.CharRNNProblem`).

    Args:
        batch_size: Number of parallel streams per batch (default 50).
        l2_reg: Not used; the problem has no regularisation (a value is ignored with a
            warning).
        weight_decay: Older name of ``l2_reg``.
        device: Device of the model and batches.
        data_dir: Data root; the files live in ``<data_dir>/tolstoi``.
    """

    def __init__(
        self,
        batch_size: int | None = None,
        l2_reg: float | None = None,
        *,
        weight_decay: float | None = None,
        device: str | torch.device | None = None,
        data_dir: str | os.PathLike | None = None,
    ) -> None:
        """Warn that the problem is deprecated, then set it up as any problem."""
        warnings.warn(DEPRECATION_MESSAGE, DeprecationWarning, stacklevel=2)
        super().__init__(
            batch_size, l2_reg, weight_decay=weight_decay, device=device, data_dir=data_dir
        )

    def _make_data(self):
        # Also logged here, where the problem is really used: a DeprecationWarning is hidden
        # by default unless raised from __main__, e.g. under `deepobs run`.
        logger.warning(DEPRECATION_MESSAGE)
        return datasets.tolstoi(self._batch_size, data_dir=self._data_dir)
