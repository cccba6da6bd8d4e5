"""``imagenet_vgg19``: VGG-19 on ImageNet, a DeepOBS problem (reference §2.8).

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015.
"""

from __future__ import annotations

from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems._vgg import VGGProblem


@register_testproblem(dataset="imagenet", batch_size=256, num_epochs=74, l2_reg=5e-4)
class imagenet_vgg19(VGGProblem):
    """VGG-19 on ImageNet, 224×224 crops.

    One output per class folder of the data (1000 for ILSVRC-2012). L2 5e-4 on the conv
    kernels only. DeepOBS defines no default batch size or number of epochs; 256 and 74 are
    chosen here, the settings of the VGG paper. A training step at batch size 256 needs about
    22 GB (79 MB of activations per image plus weights, gradients and optimizer state); on
    smaller GPUs use gradient accumulation (VGG has no batch norm: only dropout draws change).
    """

    depth = 19
    num_classes = None
