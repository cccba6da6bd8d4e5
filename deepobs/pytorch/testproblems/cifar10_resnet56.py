"""``cifar10_resnet56``: ResNet-56 on CIFAR-10 (an addition: no DeepOBS baselines)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems._resnet import CifarResNetProblem


@register_testproblem(dataset="cifar10", batch_size=128, num_epochs=200, l2_reg=1e-4)
class cifar10_resnet56(CifarResNetProblem):
    """ResNet-56 (He et al., 2016; option-A shortcuts) on CIFAR-10; an addition, no baselines.

    An addition to DeepOBS: no published DeepOBS baselines. 853,018 parameters: three
    stages of 9 basic blocks (16, 32, 64 filters), parameter-free shortcuts (stride-2
    subsampling and zero channels), see :mod:`deepobs.pytorch.testproblems._resnet`. The
    data are DeepOBS' CIFAR-10 splits and augmentation (40,000 training images).

    Defaults follow He et al.'s CIFAR recipe (SGD with momentum 0.9, learning rate 0.1
    divided by 10 at 32k and 48k steps, 64k steps at batch size 128, weight decay 1e-4):
    batch size 128; L2 1e-4 on every conv and dense kernel (the gradient of
    ``0.5 * 1e-4 * ||w||^2`` is SGD's weight decay 1e-4), BN parameters excluded as in
    DeepOBS' Wide ResNets; 200 epochs of 312 steps (62,400 steps, about He et al.'s 64k).
    """

    depth = 56
    num_classes = 10
