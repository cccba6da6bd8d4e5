"""``textgen``: DeepOBS' character-level LSTM on Penn Treebank (the recommended text problem).

The network is ``tolstoi_char_rnn``'s (Schneider, Balles & Hennig, ICLR 2019; reference
§2.11); the data are the Penn Treebank (Marcus et al., 1993) in Mikolov's split (Mikolov et
al., 2010), read character by character. PTB is downloaded on request and checked by MD5,
unlike War and Peace, whose DeepOBS files have to be built by hand.
"""

from __future__ import annotations

from deepobs.pytorch import datasets
from deepobs.pytorch.testproblems._char_rnn import CharRNNProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="ptb", batch_size=50, num_epochs=100, stateful=True)
class textgen(CharRNNProblem):
    r"""Two-layer character LSTM (128 units) on Penn Treebank, 50-character windows.

    Data: ``ptb.train.txt`` for training (its characters form the vocabulary, about 50;
    every sentence ends with ``"\n"``), ``ptb.valid.txt`` as ``valid``, ``ptb.test.txt`` as
    ``test``, and the first training batches, as many as ``valid`` has, as ``train_eval``.
    Each batch holds ``batch_size`` parallel streams of 50 characters; the targets are the
    inputs shifted by one. Get the files with ``deepobs download ptb``.

    Model, loss and state handling as in ``tolstoi_char_rnn`` (see
    :class:`~deepobs.pytorch.testproblems._char_rnn.CharRNNProblem`): per-sequence loss =
    cross-entropy averaged over the 50 steps, accuracy over all characters, no L2, the LSTM
    state carried across the batches of a phase and reset at each ``*_init_op()``.
    Parameters: ``257 * V + 263,168`` for a vocabulary of ``V`` characters.

    Defaults: batch size 50 (as Tolstoi) and 100 epochs. PTB's training text (about 5.0 M
    characters) is about twice DeepOBS' Tolstoi training text (2.6 M in DeepOBS 1.1), so 100
    epochs process about as many characters and steps (about 2,000 per epoch) as the 200
    epochs of the published Tolstoi baselines.

    Args:
        batch_size: Number of parallel streams per batch (default 50).
        l2_reg: Not used; the problem has no regularisation (a value is ignored with a
            warning).
        **kwargs: ``device``, ``data_dir`` (see :class:`TestProblem`).
    """

    def _make_data(self):
        return datasets.ptb(self._batch_size, data_dir=self._data_dir)
