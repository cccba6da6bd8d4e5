"""``svhn_wrn164``: Wide ResNet 16-4 on SVHN, a DeepOBS problem (reference §2.9).

Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016.
"""

from __future__ import annotations

from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems._wrn import WRNProblem


@register_testproblem(dataset="svhn", batch_size=128, num_epochs=160, l2_reg=5e-4)
class svhn_wrn164(WRNProblem):
    """Wide ResNet 16-4 on SVHN.

    L2 5e-4 on every conv and dense kernel; batch norm with PyTorch momentum 0.1 (TF 0.9)
    and eps 1e-5. Batch size 128 and 160 epochs as in DeepOBS (benchmark problem P7). The
    original paper trains with momentum 0.9, lr 0.01, decayed ×0.1 at epochs 80 and 120.
    """

    depth = 16
    num_classes = 10
