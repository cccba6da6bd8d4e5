"""``fmnist_2c2d``: two conv and two dense layers on Fashion-MNIST, a DeepOBS problem (§2.4)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._nets_mnist import C2DProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="fmnist", batch_size=128, num_epochs=100)
class fmnist_2c2d(C2DProblem):
    """Two conv layers (5×5, 32 and 64 filters, max-pooled) and two dense layers on Fashion-MNIST.

    Weights truncated normal (σ = 0.05), all biases 0.05; no regularisation. Batch size 128
    and 100 epochs as in DeepOBS (benchmark problem P3).
    """
