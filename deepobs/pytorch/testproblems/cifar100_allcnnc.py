"""``cifar100_allcnnc``: All-CNN-C on CIFAR-100, a DeepOBS problem (§2.7).

Springenberg, Dosovitskiy, Brox & Riedmiller, "Striving for Simplicity: The All
Convolutional Net", ICLR 2015 (workshop track).
"""

from __future__ import annotations

from deepobs.pytorch.testproblems._nets_cifar import AllCNNCProblem
from deepobs.pytorch.testproblems._registry import register_testproblem


@register_testproblem(dataset="cifar100", batch_size=256, num_epochs=350, l2_reg=5e-4)
class cifar100_allcnnc(AllCNNCProblem):
    """All-CNN-C (nine conv layers, global average pooling, dropout) on CIFAR-100.

    Kernels Glorot normal, biases 0.1; L2 5e-4 on all nine kernels. Batch size 256 and 350
    epochs as in DeepOBS (benchmark problem P6); the original paper trains with momentum
    0.9, learning rate 0.05, decayed ×0.1 at epochs 200, 250 and 300.
    """
