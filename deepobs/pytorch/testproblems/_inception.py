"""Inception-v3 (Szegedy et al., CVPR 2016) in the TF-slim layout DeepOBS uses (§2.10).

Every "conv" is conv (no bias, Glorot uniform) → batch norm (TF decay 0.9997, eps 1e-3, i.e.
PyTorch momentum 0.0003) → ReLU. Stride-1 convs are ``SAME`` (symmetric for odd kernels),
strided convs and pools ``VALID``. The input is resized bilinearly to 299×299. An auxiliary
head on the 17×17 features gives a second set of logits for the training loss. The final
dropout of the reference never fires (§9) and is left out.
"""

from __future__ import annotations

import torch
from torch import nn

from deepobs.pytorch.testproblems._image_problem import (
    ImageClassificationProblem,
    build_model,
    conv_kernels,
)
from deepobs.pytorch.testproblems._layers import TFResize, glorot_uniform_, tf_bn_momentum
from deepobs.pytorch.testproblems.testproblem import WeightRegularizedTestproblem

#: TF batch-norm decay and epsilon of TF-slim's Inception-v3.
INCEPTION_BN_DECAY = 0.9997
INCEPTION_BN_EPS = 1e-3
#: Side length the network resizes its input to.
INCEPTION_INPUT_SIZE = 299
#: Label smoothing of the cross-entropy and weight of the auxiliary loss (training only).
LABEL_SMOOTHING = 0.1
AUX_LOSS_WEIGHT = 0.4


def conv_bn(c_in: int, c_out: int, kernel, stride: int = 1, valid: bool = False) -> nn.Sequential:
    """Conv → BN → ReLU; ``SAME`` (stride 1 only) unless ``valid``."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    if not valid and stride != 1:
        raise ValueError(f"SAME convs of Inception-v3 have stride 1, got stride {stride}.")
    padding = 0 if valid else (kh // 2, kw // 2)
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, (kh, kw), stride, padding, bias=False),
        nn.BatchNorm2d(c_out, eps=INCEPTION_BN_EPS, momentum=tf_bn_momentum(INCEPTION_BN_DECAY)),
        nn.ReLU(),
    )


def _avg_pool() -> nn.AvgPool2d:
    # 3×3 stride-1 SAME average pool; TF does not count the padded cells.
    return nn.AvgPool2d(3, 1, padding=1, count_include_pad=False)


class Concat(nn.Module):
    """Apply each branch to the same input and concatenate the results along channels."""

    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` -> ``[B, sum of branch channels, H', W']``."""
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def block_35(c_in: int, pool_width: int) -> Concat:
    """35×35 block (``Mixed_5b``-``5d``): 224 + ``pool_width`` channels."""
    return Concat(
        conv_bn(c_in, 64, 1),
        nn.Sequential(_avg_pool(), conv_bn(c_in, pool_width, 1)),
        nn.Sequential(conv_bn(c_in, 48, 1), conv_bn(48, 64, 5)),
        nn.Sequential(conv_bn(c_in, 64, 1), conv_bn(64, 96, 3), conv_bn(96, 96, 3)),
    )


def reduction_35_to_17(c_in: int) -> Concat:
    """35 → 17 reduction (``Mixed_6a``): ``c_in`` + 384 + 96 channels."""
    return Concat(
        nn.MaxPool2d(3, 2),
        conv_bn(c_in, 384, 3, 2, valid=True),
        nn.Sequential(conv_bn(c_in, 64, 1), conv_bn(64, 96, 3), conv_bn(96, 96, 3, 2, valid=True)),
    )


def block_17(c_in: int, c: int) -> Concat:
    """17×17 block with factorised 7×7 convs of width ``c`` (``Mixed_6b``-``6e``): 768."""
    return Concat(
        conv_bn(c_in, 192, 1),
        nn.Sequential(_avg_pool(), conv_bn(c_in, 192, 1)),
        nn.Sequential(conv_bn(c_in, c, 1), conv_bn(c, c, (1, 7)), conv_bn(c, 192, (7, 1))),
        nn.Sequential(
            conv_bn(c_in, c, 1),
            conv_bn(c, c, (7, 1)),
            conv_bn(c, c, (1, 7)),
            conv_bn(c, c, (7, 1)),
            conv_bn(c, 192, (1, 7)),
        ),
    )


def reduction_17_to_8(c_in: int) -> Concat:
    """17 → 8 reduction (``Mixed_7a``): ``c_in`` + 192 + 320 channels."""
    return Concat(
        nn.MaxPool2d(3, 2),
        nn.Sequential(
            conv_bn(c_in, 192, 1),
            conv_bn(192, 192, (1, 7)),
            conv_bn(192, 192, (7, 1)),
            conv_bn(192, 192, 3, 2, valid=True),
        ),
        nn.Sequential(conv_bn(c_in, 192, 1), conv_bn(192, 320, 3, 2, valid=True)),
    )


def _split_1x3_3x1(c: int) -> Concat:
    return Concat(conv_bn(c, 384, (1, 3)), conv_bn(c, 384, (3, 1)))


def block_8(c_in: int) -> Concat:
    """8×8 block with split 1×3 / 3×1 convs (``Mixed_7b``, ``7c``): 2048 channels."""
    return Concat(
        conv_bn(c_in, 320, 1),
        nn.Sequential(conv_bn(c_in, 384, 1), _split_1x3_3x1(384)),
        nn.Sequential(conv_bn(c_in, 448, 1), conv_bn(448, 384, 3), _split_1x3_3x1(384)),
        nn.Sequential(_avg_pool(), conv_bn(c_in, 192, 1)),
    )


class InceptionV3(nn.Module):
    """Inception-v3 with the auxiliary head.

    ``model(x)`` returns the main logits ``[B, C]`` in training and evaluation mode alike;
    ``model(x, with_aux=True)`` returns ``(main_logits, aux_logits)``, both ``[B, C]``.

    Args:
        num_classes: Number of output logits of both heads.
    """

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.resize = TFResize(INCEPTION_INPUT_SIZE)
        self.stem = nn.Sequential(
            conv_bn(3, 32, 3, 2, valid=True),
            conv_bn(32, 32, 3, valid=True),
            conv_bn(32, 64, 3),
            nn.MaxPool2d(3, 2),
            conv_bn(64, 80, 1),
            conv_bn(80, 192, 3, valid=True),
            nn.MaxPool2d(3, 2),
        )
        self.mixed_35 = nn.Sequential(block_35(192, 32), block_35(256, 64), block_35(288, 64))
        self.mixed_17 = nn.Sequential(
            reduction_35_to_17(288), *(block_17(768, c) for c in (128, 160, 160, 192))
        )
        self.aux = nn.Sequential(
            nn.AvgPool2d(5, 3),
            conv_bn(768, 128, 1),
            conv_bn(128, 768, 5, valid=True),
            nn.Flatten(),
            nn.Linear(768, num_classes),
        )
        self.mixed_8 = nn.Sequential(reduction_17_to_8(768), block_8(1280), block_8(2048))
        self.pool = nn.AvgPool2d(8)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x: torch.Tensor, with_aux: bool = False):
        """Main logits of images ``[B, 3, H, W]``, and the auxiliary logits if ``with_aux``."""
        x = self.mixed_35(self.stem(self.resize(x)))  # [B, 3, 299, 299] -> [B, 288, 35, 35]
        x = self.mixed_17(x)  # [B, 768, 17, 17]
        aux = self.aux(x) if with_aux else None  # [B, C]
        x = self.flatten(self.pool(self.mixed_8(x)))  # [B, 2048, 8, 8] -> [B, 2048]
        logits = self.fc(x)  # [B, C]
        return (logits, aux) if with_aux else logits


def build_inception_v3(num_classes: int, *, device: str | torch.device = "cpu") -> InceptionV3:
    """Return an initialised :class:`InceptionV3` on ``device``."""
    return build_model(lambda: InceptionV3(num_classes), glorot_uniform_, device)


class InceptionV3Problem(ImageClassificationProblem, WeightRegularizedTestproblem):
    """Base of the Inception-v3 problems: smoothed cross-entropy plus the auxiliary loss.

    Training loss per example: ``CE_s(main) + 0.4 * CE_s(aux)`` with label smoothing 0.1;
    evaluation uses ``CE_s(main)`` only. Accuracy is the main head's. L2 on every conv kernel
    (auxiliary head included), not on the dense layers.
    """

    label_smoothing = LABEL_SMOOTHING

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> InceptionV3:
        """Return the initialised Inception-v3."""
        return build_inception_v3(num_classes, device=device)

    def _loss_and_accuracy(self, batch, reduction):
        inputs, labels = batch
        loss_fn = self.loss_function(reduction=reduction)
        if self.model.training:
            logits, aux_logits = self.model(inputs, with_aux=True)
            loss = loss_fn(logits, labels) + AUX_LOSS_WEIGHT * loss_fn(aux_logits, labels)
        else:
            logits = self.model(inputs)
            loss = loss_fn(logits, labels)
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
        return loss, accuracy

    def _regularized_parameters(self) -> list[nn.Parameter]:
        return conv_kernels(self.model)
