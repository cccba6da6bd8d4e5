"""``mnist_logreg``: multinomial logistic regression on MNIST, a DeepOBS problem (§2.4)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._nets_mnist import LogRegProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="mnist", batch_size=128, num_epochs=50)
class mnist_logreg(LogRegProblem):
    """Multinomial logistic regression (dense 784 → 10) on MNIST.

    Weights and bias start at 0; no regularisation. Batch size 128 and 50 epochs as in
    DeepOBS.
    """
