"""``cifar10_resnet18``: pre-activation ResNet-18 on CIFAR-10 (an addition, no baselines)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._registry import register_testproblem
from deepobs.pytorch.testproblems._resnet import PreActResNet18Problem


@register_testproblem(dataset="cifar10", batch_size=128, num_epochs=200, l2_reg=5e-4)
class cifar10_resnet18(PreActResNet18Problem):
    """Pre-activation ResNet-18 (He et al., 2016) on CIFAR-10; an addition, no baselines.

    An addition to DeepOBS: no published DeepOBS baselines. 11,172,170 parameters: a 3×3
    conv with 64 filters, four stages of two pre-activation blocks (64, 128, 256, 512
    filters), final BN and ReLU, global average pool, dense 10; see
    :mod:`deepobs.pytorch.testproblems._resnet`. DeepOBS' CIFAR-10 splits and augmentation.

    Defaults are those of the widely used CIFAR recipe for this network (SGD with momentum
    0.9, learning rate 0.1 with a step or cosine schedule, weight decay 5e-4, batch size
    128, 200 epochs): batch size 128, 200 epochs, L2 5e-4 on every conv and dense kernel
    (BN parameters excluded, as in DeepOBS' Wide ResNets). Heavy on a CPU (about 0.56 G
    multiply-adds per image and forward pass); meant for GPUs.
    """

    num_classes = 10
