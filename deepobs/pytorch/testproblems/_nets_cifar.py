"""The 3c3d net and All-CNN-C of DeepOBS for 32×32 colour images (reference §2.6, §2.7).

3c3d: conv 5×5 64 ``VALID`` → max-pool 3×3/2 ``SAME`` → conv 3×3 96 ``VALID`` → max-pool →
conv 3×3 128 ``SAME`` → max-pool → dense 512 → dense 256 → dense C, ReLU after every layer
but the last. Conv kernels Glorot normal, dense kernels Glorot uniform, biases 0; L2 on all
six kernels. The 3×3/2 pools pad TF-style (0 before, 1 after) on 28, 12 and 6 pixels, with
a separate ``nn.ZeroPad2d`` (equal to TF's padding there: the pools follow ReLUs).

All-CNN-C (Springenberg et al., ICLR 2015 workshop): dropout 0.2 → 3×3 convs 96, 96,
96 stride 2 → dropout 0.5 → 192, 192, 192 stride 2 → dropout 0.5 → 3×3 192 ``VALID`` →
1×1 192 → 1×1 C → global mean; ReLU after every conv, the last included. Kernels Glorot
normal, biases 0.1; L2 on all nine kernels. The stride-2 convs pad 0 before, 1 after.
"""

from __future__ import annotations

import torch
from torch import nn

from deepobs.pytorch.testproblems._image_problem import ImageClassificationProblem, build_model
from deepobs.pytorch.testproblems._layers import conv2d_same, glorot_normal_, maxpool2d_same
from deepobs.pytorch.testproblems._nets_mnist import build_initialised
from deepobs.pytorch.testproblems.testproblem import WeightRegularizedTestproblem

ALLCNNC_BIAS = 0.1


def net_3c3d(num_classes: int) -> nn.Module:
    """The 3c3d network for 3×32×32 images (not yet initialised)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 5),  # VALID: [B, 64, 28, 28]
        nn.ReLU(),
        *maxpool2d_same(3, 2, 28),  # pads (0, 1): [B, 64, 14, 14]
        nn.Conv2d(64, 96, 3),  # VALID: [B, 96, 12, 12]
        nn.ReLU(),
        *maxpool2d_same(3, 2, 12),  # [B, 96, 6, 6]
        nn.Conv2d(96, 128, 3, padding=1),  # SAME: [B, 128, 6, 6]
        nn.ReLU(),
        *maxpool2d_same(3, 2, 6),  # [B, 128, 3, 3]
        nn.Flatten(),  # [B, 1152]
        nn.Linear(128 * 3 * 3, 512),
        nn.ReLU(),
        nn.Linear(512, 256),
        nn.ReLU(),
        nn.Linear(256, num_classes),
    )


def _conv_relu(
    c_in: int, c_out: int, size: int, kernel: int = 3, stride: int = 1
) -> list[nn.Module]:
    return [*conv2d_same(c_in, c_out, kernel, stride, size), nn.ReLU()]


def allcnnc(num_classes: int) -> nn.Module:
    """All-CNN-C for 3×32×32 images (not yet initialised)."""
    return nn.Sequential(
        nn.Dropout(0.2),
        *_conv_relu(3, 96, 32),
        *_conv_relu(96, 96, 32),
        *_conv_relu(96, 96, 32, stride=2),  # pads (0, 1): [B, 96, 16, 16]
        nn.Dropout(0.5),
        *_conv_relu(96, 192, 16),
        *_conv_relu(192, 192, 16),
        *_conv_relu(192, 192, 16, stride=2),  # [B, 192, 8, 8]
        nn.Dropout(0.5),
        nn.Conv2d(192, 192, 3),  # VALID: [B, 192, 6, 6]
        nn.ReLU(),
        *_conv_relu(192, 192, 6, kernel=1),
        *_conv_relu(192, num_classes, 6, kernel=1),  # [B, C, 6, 6], ReLU on the logits too
        nn.AvgPool2d(6),  # mean over the 6×6 positions
        nn.Flatten(),  # [B, C]
    )


class C3DProblem(ImageClassificationProblem, WeightRegularizedTestproblem):
    """Base of ``cifar10_3c3d``, ``cifar100_3c3d`` and ``svhn_3c3d``."""

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> nn.Module:
        """Return the 3c3d net: conv Glorot normal, dense Glorot uniform, biases 0."""
        return build_model(lambda: net_3c3d(num_classes), glorot_normal_, device)


class AllCNNCProblem(ImageClassificationProblem, WeightRegularizedTestproblem):
    """Base of ``cifar100_allcnnc``."""

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> nn.Module:
        """Return All-CNN-C: kernels Glorot normal, biases 0.1."""
        return build_initialised(lambda: allcnnc(num_classes), glorot_normal_, ALLCNNC_BIAS, device)
