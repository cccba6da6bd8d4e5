"""``ptb_transformer``: a character transformer on Penn Treebank (an addition, no baselines)."""

from __future__ import annotations

from deepobs.pytorch import datasets
from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems._transformer import CharTransformerProblem, ContextWindows


class PTBWindows(ContextWindows, datasets.ptb):
    """Penn Treebank characters as ``ptb`` reads them, in windows of ``seq_len`` characters."""


@register_testproblem(dataset="ptb", batch_size=64, num_epochs=16)
class ptb_transformer(CharTransformerProblem):
    r"""Character transformer (6 × 384, context 256) on Penn Treebank; an addition, no baselines.

    An addition to DeepOBS: no published DeepOBS baselines. The data are ``textgen``'s
    (``ptb.train.txt`` / ``ptb.valid.txt`` / ``ptb.test.txt``, same vocabulary of about 50
    characters, same stream layout; ``deepobs download ptb``), cut into windows of 256
    characters instead of 50; the training windows are shuffled in every epoch (the model
    has no state). Loss: cross-entropy averaged over the 256 next-character predictions of
    a window (``reduction="none"``: one loss per window); accuracy: next-character accuracy.
    No dropout, no L2 (use the optimizer's weight decay; :meth:`param_groups_hint` tells
    matrices from embeddings and norms).

    Model (:mod:`deepobs.pytorch.testproblems._transformer`): learned positions, 6 pre-norm
    blocks of width 384 with 6 heads of 64 (``scaled_dot_product_attention``), GELU MLPs of
    width 1,536, no biases, weight tying. Parameters: ``384 * V + 10,720,128`` for ``V``
    characters (10,739,328 at ``V = 50``). A CPU-sized variant:
    ``ptb_transformer(num_layers=2, width=128, num_heads=2)`` has ``128 * V + 426,624``.

    Defaults from nanoGPT's character-level model of the same size (Karpathy, 2023: batch
    size 64, context 256, 5,000 AdamW steps at learning rate 1e-3, betas (0.9, 0.99)):
    batch size 64 and 16 epochs of about 300 steps (about 4,800 steps; PTB's 5.0 M training
    characters make 16,384 per batch). nanoGPT uses dropout 0.2 on its 1 M characters of
    Shakespeare; PTB is five times larger and the problem runs without dropout, so
    overfitting shows in the validation loss instead of being regularised away.

    Args:
        batch_size: Windows per batch (default 64).
        l2_reg: Not used; a value other than 0 is ignored with a warning.
        num_layers: Blocks (default 6).
        width: Model width (default 384).
        num_heads: Attention heads (default 6).
        context_length: Characters per window (default 256).
        **kwargs: ``device``, ``data_dir`` (see :class:`TestProblem`).
    """

    def _make_data(self):
        return PTBWindows(
            self._batch_size,
            seq_len=self.architecture["context_length"],
            data_dir=self._data_dir,
        )
