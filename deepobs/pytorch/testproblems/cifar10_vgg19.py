"""``cifar10_vgg19``: VGG-19 on CIFAR-10, a DeepOBS problem (reference §2.8).

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015.
"""

from __future__ import annotations

from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems._vgg import VGGProblem


@register_testproblem(dataset="cifar10", batch_size=128, num_epochs=100, l2_reg=5e-4)
class cifar10_vgg19(VGGProblem):
    """VGG-19 on CIFAR-10, inputs resized to 224×224.

    The network resizes the 32×32 images to 224×224. L2 5e-4 on the conv kernels only.
    DeepOBS defines no default batch size or number of epochs for this problem; 128 and 100
    are chosen here, the CIFAR protocol of ``cifar10_3c3d``.
    """

    depth = 19
    num_classes = 10
