"""``cifar100_wrn164``: Wide ResNet 16-4 on CIFAR-100, a DeepOBS problem (reference §2.9).

Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016.
"""

from __future__ import annotations

from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems._wrn import WRNProblem


@register_testproblem(dataset="cifar100", batch_size=128, num_epochs=160, l2_reg=5e-4)
class cifar100_wrn164(WRNProblem):
    """Wide ResNet 16-4 on CIFAR-100.

    L2 5e-4 on every conv and dense kernel; batch norm with PyTorch momentum 0.1 (TF 0.9)
    and eps 1e-5. DeepOBS 1.2 sets no defaults for this problem;
    batch size 128 and 160 epochs are those of later DeepOBS versions.
    """

    depth = 16
    num_classes = 100
