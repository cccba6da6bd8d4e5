"""Wide residual networks (Zagoruyko & Komodakis, BMVC 2016) as DeepOBS builds them (§2.9).

WRN-d-k on 32×32 images: a 3×3 conv with 16 filters, three groups of ``n = (d - 4) / 6``
pre-activation units with ``16k, 32k, 64k`` filters and strides 1, 2, 2, then
BN → ReLU → global average pool → dense C. The first unit of a group takes its shortcut as
a strided 1×1 conv of the *activated* input; the others add the un-activated input.
Convs are bias-free with TF ``SAME`` padding (the strided 3×3 convs pad asymmetrically).
Batch norm uses TF momentum 0.9 (PyTorch 0.1; the 1.2 port wrongly used 0.9) and eps 1e-5.
Conv and dense kernels are Glorot uniform and all carry the L2 term.
"""

from __future__ import annotations

import torch
from torch import nn

from deepobs.pytorch.testproblems._image_problem import ImageClassificationProblem, build_model
from deepobs.pytorch.testproblems._layers import conv2d_same, glorot_uniform_, tf_bn_momentum
from deepobs.pytorch.testproblems.testproblem import WeightRegularizedTestproblem

#: TF batch-norm decay and epsilon of DeepOBS' Wide ResNets.
WRN_BN_DECAY = 0.9
WRN_BN_EPS = 1e-5
#: Filters of the initial conv; the groups have 16k, 32k and 64k.
WRN_BASE_WIDTH = 16
WRN_STRIDES = (1, 2, 2)
#: Side length of the input images.
WRN_INPUT_SIZE = 32


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=WRN_BN_EPS, momentum=tf_bn_momentum(WRN_BN_DECAY))


def _conv(c_in: int, c_out: int, kernel: int, size: int, stride: int = 1) -> nn.Module:
    """Bias-free TF ``SAME`` conv for a ``size`` input (strided 3×3: zero-pad (0, 1) first)."""
    layers = conv2d_same(c_in, c_out, kernel, stride, size, bias=False)
    return layers[0] if len(layers) == 1 else nn.Sequential(*layers)


class WideResidualUnit(nn.Module):
    """Pre-activation unit ``shortcut + conv(ReLU(BN(conv(ReLU(BN(x))))))``.

    Args:
        c_in: Input channels.
        c_out: Output channels.
        size: Spatial size of the input.
        stride: Stride of the first conv (and of the shortcut).
    """

    def __init__(self, c_in: int, c_out: int, size: int, stride: int = 1) -> None:
        super().__init__()
        self.bn1 = _bn(c_in)
        self.relu1 = nn.ReLU()
        self.conv1 = _conv(c_in, c_out, 3, size, stride)
        self.bn2 = _bn(c_out)
        self.relu2 = nn.ReLU()
        self.conv2 = _conv(c_out, c_out, 3, -(-size // stride))
        reshapes = c_in != c_out or stride != 1
        self.shortcut = _conv(c_in, c_out, 1, size, stride) if reshapes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, c_in, H, W]`` -> ``[B, c_out, H / stride, W / stride]``."""
        a = self.relu1(self.bn1(x))
        shortcut = x if self.shortcut is None else self.shortcut(a)
        residual = self.conv2(self.relu2(self.bn2(self.conv1(a))))
        return shortcut + residual


class WideResNet(nn.Module):
    """WRN-``depth``-``widen`` for 32×32 RGB images.

    Args:
        depth: Number of weight layers, ``6n + 4`` (16 or 40 in DeepOBS).
        num_classes: Number of output logits.
        widen: Width factor ``k`` (4 in DeepOBS).
    """

    def __init__(self, depth: int, num_classes: int, widen: int = 4) -> None:
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"WRN depth must be 6n + 4 with n >= 1 (16, 40, ...), got {depth!r}.")
        n_units = (depth - 4) // 6
        size = WRN_INPUT_SIZE
        self.conv = _conv(3, WRN_BASE_WIDTH, 3, size)
        units, channels = [], WRN_BASE_WIDTH
        for group, stride in enumerate(WRN_STRIDES):
            width = WRN_BASE_WIDTH * widen * 2**group
            for i in range(n_units):
                unit_stride = stride if i == 0 else 1
                units.append(WideResidualUnit(channels, width, size, unit_stride))
                channels, size = width, -(-size // unit_stride)
        self.units = nn.Sequential(*units)
        self.bn = _bn(channels)
        self.relu = nn.ReLU()
        self.pool = nn.AvgPool2d(size)  # global mean over the 8×8 positions
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]`` of images ``[B, 3, 32, 32]``."""
        x = self.units(self.conv(x))  # [B, 64k, 8, 8]
        x = self.flatten(self.pool(self.relu(self.bn(x))))  # [B, 64k]
        return self.fc(x)


def build_wrn(
    depth: int, num_classes: int, widen: int = 4, *, device: str | torch.device = "cpu"
) -> WideResNet:
    """Return an initialised :class:`WideResNet` (see there for the arguments) on ``device``."""
    return build_model(lambda: WideResNet(depth, num_classes, widen), glorot_uniform_, device)


class WRNProblem(ImageClassificationProblem, WeightRegularizedTestproblem):
    """Base of the Wide ResNet problems: subclasses set :attr:`depth` and ``num_classes``.

    L2 covers every conv kernel (initial, residual, 1×1 shortcuts) and the dense kernel: the
    default set of :class:`~deepobs.pytorch.testproblems.TestProblem`.
    """

    #: 16 or 40.
    depth: int = 16
    #: Width factor k.
    widen: int = 4

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> WideResNet:
        """Return the initialised Wide ResNet."""
        return build_wrn(self.depth, num_classes, self.widen, device=device)
