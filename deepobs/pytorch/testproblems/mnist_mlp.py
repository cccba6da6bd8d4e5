"""``mnist_mlp``: a four-layer MLP on MNIST, a DeepOBS problem (§2.4)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._nets_mnist import MLPProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="mnist", batch_size=128, num_epochs=100)
class mnist_mlp(MLPProblem):
    """Multi-layer perceptron 784 → 1000 → 500 → 100 → 10 (ReLU) on MNIST.

    Weights truncated normal (σ = 0.03), biases 0; no regularisation. Batch size 128 and 100
    epochs as in DeepOBS.
    """
