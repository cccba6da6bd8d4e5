"""``svhn_3c3d``: three conv and three dense layers on SVHN, a DeepOBS problem (§2.6)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._nets_cifar import C3DProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="svhn", batch_size=128, num_epochs=100, l2_reg=0.002)
class svhn_3c3d(C3DProblem):
    """Three conv layers (64, 96, 128 filters, max-pooled) and three dense layers on SVHN.

    L2 0.002 on all six kernels. DeepOBS 1.2 sets no default batch size or number of epochs;
    128 and 100 are the values of its later branches.
    """
