"""Residual networks for 32×32 images: He et al.'s CIFAR ResNets and pre-activation ResNet-18.

* **ResNet-(6n+2)** (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition",
  CVPR 2016, §4.2): a 3×3 conv with 16 filters, BN, ReLU; three stages of ``n`` basic blocks
  with 16, 32 and 64 filters (the first block of stages 2 and 3 has stride 2); global average
  pool; dense C. A basic block is ``ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x))``.
  Shortcuts are **option A**: the identity, or where the shape changes, the input subsampled
  with stride 2 and padded with zero channels (no parameters). ResNet-32 has ``n = 5``,
  ResNet-56 ``n = 9``.
* **Pre-activation ResNet-18** (He, Zhang, Ren & Sun, "Identity Mappings in Deep Residual
  Networks", ECCV 2016), in the CIFAR form common since then: a 3×3 conv with 64 filters,
  four stages of two pre-activation blocks with 64, 128, 256 and 512 filters (strides 1, 2,
  2, 2), final BN and ReLU, global average pool, dense C. A block is
  ``conv(ReLU(BN(conv(ReLU(BN(x)))))) + shortcut``; the shortcut is the identity, or a
  strided 1×1 conv of the activated input ``ReLU(BN(x))`` where the shape changes.

All convs are bias-free. Only standard ``torch.nn`` modules hold parameters or compute
(``Conv2d``, ``BatchNorm2d``, ``ReLU`` — never in place —, ``AvgPool2d``, ``ZeroPad3d``,
``AdaptiveAvgPool2d``, ``Flatten``, ``Linear``); every ReLU and BN is its own module, called
once per forward pass. BackPACK's first-order extensions (``BatchGrad``, ``BatchL2Grad``, ...)
therefore work after ``backpack.extend(model)``. The residual additions need BackPACK's
graph converter for second-order extensions.

Initialisation: conv kernels He normal with fan-out (``std = sqrt(2 / (9 c_out))``, as in
He et al.'s code), BN to (1, 0), the dense kernel Glorot uniform, its bias 0.
"""

from __future__ import annotations

import torch
from torch import nn

from deepobs.pytorch.testproblems._image_problem import ImageClassificationProblem, build_model
from deepobs.pytorch.testproblems.testproblem import WeightRegularizedTestproblem

#: Filters of He et al.'s three CIFAR stages.
CIFAR_RESNET_WIDTHS = (16, 32, 64)
#: Filters and strides of the four stages of pre-activation ResNet-18.
PREACT18_WIDTHS = (64, 128, 256, 512)
PREACT18_STRIDES = (1, 2, 2, 2)
PREACT18_BLOCKS = 2


def he_normal_fan_out_(tensor: torch.Tensor) -> torch.Tensor:
    """He normal with fan-out: ``N(0, 2 / (k * k * c_out))`` (He et al.'s code)."""
    return nn.init.kaiming_normal_(tensor, mode="fan_out", nonlinearity="relu")


def _conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)


class OptionAShortcut(nn.Sequential):
    """Parameter-free shortcut: subsample with stride 2, then append zero channels.

    ``[B, c_in, H, W] -> [B, c_out, ceil(H / 2), ceil(W / 2)]``; channel ``i < c_in`` is the
    input's channel ``i``, the others are zero. The subsampling is a 1×1 average pool with
    stride 2 (it picks every second pixel); the channel padding is ``nn.ZeroPad3d``, which
    pads the last three axes (channels, height, width) of a 4-D tensor.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 2) -> None:
        if c_out < c_in:
            raise ValueError(f"Option-A shortcuts only add channels; got {c_in} -> {c_out}.")
        super().__init__(
            nn.AvgPool2d(kernel_size=1, stride=stride),
            nn.ZeroPad3d((0, 0, 0, 0, 0, c_out - c_in)),
        )


class BasicBlock(nn.Module):
    """He et al.'s post-activation basic block with an option-A shortcut.

    Args:
        c_in: Input channels.
        c_out: Output channels.
        stride: Stride of the first conv (and of the shortcut).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(c_in, c_out, stride)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU()
        self.conv2 = _conv3x3(c_out, c_out)
        self.bn2 = nn.BatchNorm2d(c_out)
        reshapes = stride != 1 or c_in != c_out
        self.shortcut = OptionAShortcut(c_in, c_out, stride) if reshapes else nn.Identity()
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, c_in, H, W] -> [B, c_out, H / stride, W / stride]``."""
        residual = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(residual + self.shortcut(x))


class CifarResNet(nn.Sequential):
    """ResNet-``depth`` of He et al. (2016) for 3×32×32 images.

    Args:
        depth: Number of weight layers, ``6n + 2`` (20, 32, 44, 56, 110, ...).
        num_classes: Number of output logits.

    Raises:
        ValueError: if ``depth`` is not ``6n + 2`` with ``n >= 1``.
    """

    def __init__(self, depth: int, num_classes: int) -> None:
        if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(
                f"CIFAR ResNet depth must be 6n + 2 with n >= 1 (20, 32, 56, ...), got {depth!r}."
            )
        n = (depth - 2) // 6
        layers: list[nn.Module] = [
            _conv3x3(3, CIFAR_RESNET_WIDTHS[0]),
            nn.BatchNorm2d(CIFAR_RESNET_WIDTHS[0]),
            nn.ReLU(),
        ]
        channels = CIFAR_RESNET_WIDTHS[0]
        for stage, width in enumerate(CIFAR_RESNET_WIDTHS):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                layers.append(BasicBlock(channels, width, stride))
                channels = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
        super().__init__(*layers)


class PreActBlock(nn.Module):
    """Pre-activation block; a strided 1×1 conv of the activated input where shapes change.

    Args:
        c_in: Input channels.
        c_out: Output channels.
        stride: Stride of the first conv (and of the shortcut).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.relu1 = nn.ReLU()
        self.conv1 = _conv3x3(c_in, c_out, stride)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu2 = nn.ReLU()
        self.conv2 = _conv3x3(c_out, c_out)
        reshapes = stride != 1 or c_in != c_out
        self.shortcut = nn.Conv2d(c_in, c_out, 1, stride, bias=False) if reshapes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, c_in, H, W] -> [B, c_out, H / stride, W / stride]``."""
        a = self.relu1(self.bn1(x))
        shortcut = x if self.shortcut is None else self.shortcut(a)
        return self.conv2(self.relu2(self.bn2(self.conv1(a)))) + shortcut


class PreActResNet18(nn.Sequential):
    """Pre-activation ResNet-18 for 3×32×32 images.

    Args:
        num_classes: Number of output logits.
    """

    def __init__(self, num_classes: int) -> None:
        layers: list[nn.Module] = [_conv3x3(3, PREACT18_WIDTHS[0])]
        channels = PREACT18_WIDTHS[0]
        for width, stride in zip(PREACT18_WIDTHS, PREACT18_STRIDES):
            for i in range(PREACT18_BLOCKS):
                layers.append(PreActBlock(channels, width, stride if i == 0 else 1))
                channels = width
        layers += [
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels, num_classes),
        ]
        super().__init__(*layers)


class CifarResNetProblem(ImageClassificationProblem, WeightRegularizedTestproblem):
    """Base of the CIFAR ResNet problems: subclasses set :attr:`depth` and ``num_classes``.

    L2 covers every conv kernel and the dense kernel (the default set of
    :class:`~deepobs.pytorch.testproblems.TestProblem`); BN parameters and the dense bias
    are not regularised.
    """

    #: 6n + 2: 32 or 56.
    depth: int = 32

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> nn.Module:
        """Return the initialised ResNet-``depth``."""
        return build_model(lambda: CifarResNet(self.depth, num_classes), he_normal_fan_out_, device)


class PreActResNet18Problem(ImageClassificationProblem, WeightRegularizedTestproblem):
    """Base of ``cifar10_resnet18``: L2 on every conv and dense kernel, not on BN."""

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> nn.Module:
        """Return the initialised pre-activation ResNet-18."""
        return build_model(lambda: PreActResNet18(num_classes), he_normal_fan_out_, device)
