"""``fmnist_logreg``: multinomial logistic regression on Fashion-MNIST, a DeepOBS problem (§2.4)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._nets_mnist import LogRegProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="fmnist", batch_size=128, num_epochs=50)
class fmnist_logreg(LogRegProblem):
    """Multinomial logistic regression (dense 784 → 10) on Fashion-MNIST.

    Weights and bias start at 0; no regularisation. DeepOBS 1.2 sets no default batch size
    or number of epochs; 128 and 50 are the values of its later branches (as ``mnist_logreg``).
    """
