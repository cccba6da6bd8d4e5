"""``food101_vgg16``: VGG-16 on Food-101 (an addition of this package, not in DeepOBS).

Bossard, Guillaumin & Van Gool, "Food-101 – Mining Discriminative Components with Random
Forests", ECCV 2014; Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale
Image Recognition", ICLR 2015.
"""

from __future__ import annotations

from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems._vgg import VGGProblem


@register_testproblem(dataset="food101", batch_size=128, num_epochs=100, l2_reg=5e-4)
class food101_vgg16(VGGProblem):
    """VGG-16 on Food-101 (101 classes), 224×224 crops with ImageNet-style preprocessing.

    Set up as the ImageNet VGG problems: L2 5e-4 on the conv kernels only. Batch size 128 and
    100 epochs are chosen here (Food-101 is not part of DeepOBS).
    """

    depth = 16
    num_classes = 101
