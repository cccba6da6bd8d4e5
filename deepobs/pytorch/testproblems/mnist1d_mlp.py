"""``mnist1d_mlp``: the MNIST-1D paper's MLP (an addition, no DeepOBS baselines)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._nets_mnist1d import MNIST1DMLPProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="mnist1d", batch_size=100, num_epochs=200)
class mnist1d_mlp(MNIST1DMLPProblem):
    """Three-layer MLP (100 hidden units) on MNIST-1D; an addition, no baselines; CPU seconds.

    An addition to DeepOBS: no published DeepOBS baselines. Greydanus & Kobak, "Scaling
    Down Deep Learning with MNIST-1D" (2020; ICML 2024). 15,210 parameters, no
    regularisation; see :mod:`deepobs.pytorch.testproblems._nets_mnist1d` and, for the
    data (generated locally by the ``mnist1d`` package, ``deepobs[mnist1d]``),
    :mod:`deepobs.pytorch.datasets.mnist1d`.

    Defaults from the paper's reference training (Adam, learning rate 1e-2, batch size
    100, no weight decay, 6,000 steps): batch size 100, no L2, and 200 epochs of 30 steps
    (6,000 steps on the 3,000 training signals left after the validation split). The paper
    reports about 68 % test accuracy for this MLP. A full run costs about a minute on one
    CPU core.
    """
