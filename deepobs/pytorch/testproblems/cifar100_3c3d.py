"""``cifar100_3c3d``: three conv and three dense layers on CIFAR-100, a DeepOBS problem (§2.6)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._nets_cifar import C3DProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="cifar100", batch_size=128, num_epochs=100, l2_reg=0.002)
class cifar100_3c3d(C3DProblem):
    """Three conv layers (64, 96, 128 filters, max-pooled) and three dense layers on CIFAR-100.

    L2 0.002 on all six kernels. DeepOBS defines no default batch size or number of epochs
    for this problem; 128 and 100 are chosen here, the values of its sibling ``cifar10_3c3d``.
    """
