"""VGG-16 and VGG-19 (Simonyan & Zisserman, ICLR 2015) as DeepOBS uses them (reference §2.8).

The input is resized bilinearly to 224×224 inside the network (TF 1.x's legacy resize), then
five blocks of 3×3 ``SAME`` conv + ReLU, each ending in a 2×2 max-pool (224 → 7), then
dense 4096 → ReLU → dropout 0.5 → dense 4096 → ReLU → dropout 0.5 → dense C. No batch
norm. Conv kernels Glorot normal, dense kernels Glorot uniform, all biases 0; L2 on the conv
kernels only (as TF; the 1.2 port also regularised the dense weights, §9).
"""

from __future__ import annotations

import torch
from torch import nn

from deepobs.pytorch.testproblems._image_problem import (
    ImageClassificationProblem,
    build_model,
    conv_kernels,
)
from deepobs.pytorch.testproblems._layers import TFResize, glorot_normal_
from deepobs.pytorch.testproblems.testproblem import WeightRegularizedTestproblem

#: Output channels of the five conv blocks.
VGG_WIDTHS = (64, 128, 256, 512, 512)
#: Convs per block, by depth.
VGG_BLOCKS = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
#: Side length the network resizes its input to.
VGG_INPUT_SIZE = 224
#: Side length of the last feature map at the default input size (224 / 2**5).
_FEATURE_SIZE = 7


class VGG(nn.Sequential):
    """VGG network for ``num_classes`` classes: an ``nn.Sequential`` of standard layers.

    Children: ``resize`` (to ``input_size``), ``features`` (the conv blocks), ``pool`` (only
    when ``input_size`` is not 224) and ``classifier``.

    Args:
        depth: 16 or 19.
        num_classes: Number of output logits.
        input_size: Side length the input is resized to. **Test-only**: DeepOBS uses 224; a
            smaller value makes unit tests cheap. The last feature map is then average-pooled
            to 7×7, so the weights are the same for any value.
    """

    def __init__(self, depth: int, num_classes: int, *, input_size: int = VGG_INPUT_SIZE):
        if depth not in VGG_BLOCKS:
            raise ValueError(f"VGG depth must be one of {sorted(VGG_BLOCKS)}, got {depth!r}.")
        super().__init__()
        self.input_size = input_size
        self.resize = TFResize(input_size)  # [B, 3, 224, 224]
        layers: list[nn.Module] = []
        channels = 3
        for width, n_convs in zip(VGG_WIDTHS, VGG_BLOCKS[depth]):
            for _ in range(n_convs):
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
                channels = width
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))  # = TF SAME for a 2×2/2 pool
        self.features = nn.Sequential(*layers)  # [B, 512, 7, 7] at input_size 224
        if input_size != VGG_INPUT_SIZE:
            self.pool = nn.AdaptiveAvgPool2d(_FEATURE_SIZE)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * _FEATURE_SIZE**2, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, num_classes),
        )  # [B, num_classes]


def build_vgg(
    depth: int,
    num_classes: int,
    *,
    input_size: int = VGG_INPUT_SIZE,
    device: str | torch.device = "cpu",
) -> VGG:
    """Return an initialised :class:`VGG` (see there for the arguments) on ``device``."""
    return build_model(
        lambda: VGG(depth, num_classes, input_size=input_size), glorot_normal_, device
    )


class VGGProblem(ImageClassificationProblem, WeightRegularizedTestproblem):
    """Base of the VGG problems: subclasses set :attr:`depth` (and ``num_classes``)."""

    #: 16 or 19.
    depth: int = 16
    #: **Test-only** resize target read by ``set_up`` (see :class:`VGG`); keep 224 for runs.
    input_size: int = VGG_INPUT_SIZE

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> VGG:
        """Return the initialised VGG network."""
        return build_vgg(self.depth, num_classes, input_size=self.input_size, device=device)

    def _regularized_parameters(self) -> list[nn.Parameter]:
        return conv_kernels(self.model)
