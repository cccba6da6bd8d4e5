"""``cifar10_3c3d``: three conv and three dense layers on CIFAR-10, a DeepOBS problem (§2.6)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._nets_cifar import C3DProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="cifar10", batch_size=128, num_epochs=100, l2_reg=0.002)
class cifar10_3c3d(C3DProblem):
    """Three conv layers (64, 96, 128 filters, max-pooled) and three dense layers on CIFAR-10.

    L2 0.002 on all six kernels. Batch size 128 and 100 epochs as in DeepOBS (benchmark
    problem P4); the original setting trains with SGD, learning rate 0.01.
    """
