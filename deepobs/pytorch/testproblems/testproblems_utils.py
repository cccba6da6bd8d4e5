"""DeepOBS' layer helpers under their DeepOBS names, for code written against DeepOBS.

``tfconv2d`` and ``tfmaxpool2d`` are ``nn.Conv2d`` / ``nn.MaxPool2d`` with TensorFlow's
``"same"`` padding computed from the input in ``forward`` (any input size), as in DeepOBS.
BackPACK does not know these subclasses: the networks of this package's problems use a
separate ``nn.ZeroPad2d`` before plain layers instead (see :mod:`._layers`). ``flatten``
and ``mean_allcnnc`` are parameter-free modules.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from deepobs.pytorch.testproblems._layers import same_padding, trunc_normal_

_PADDING_TYPES = (None, "same", "valid")


def _check_padding_type(tf_padding_type: str | None) -> str | None:
    if tf_padding_type not in _PADDING_TYPES:
        raise ValueError(
            f"tf_padding_type must be 'same', 'valid' or None, got {tf_padding_type!r}."
        )
    return tf_padding_type


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _pad_same(x: torch.Tensor, kernel, stride) -> torch.Tensor:
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride)
    top, bottom = same_padding(x.shape[-2], kh, sh)
    left, right = same_padding(x.shape[-1], kw, sw)
    return F.pad(x, (left, right, top, bottom))


class tfconv2d(nn.Conv2d):  # noqa: N801 - DeepOBS name
    """``nn.Conv2d`` with TF padding: ``"same"`` pads (asymmetrically where TF does), else none.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Kernel size.
        stride: Stride.
        dilation: Dilation.
        groups: Groups.
        bias: Whether the conv has a bias.
        tf_padding_type: ``"same"``, ``"valid"`` or ``None`` (= ``"valid"``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        tf_padding_type: str | None = None,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, dilation, groups, bias)
        self.tf_padding_type = _check_padding_type(tf_padding_type)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pad as TF (``"same"``) and convolve."""
        if self.tf_padding_type == "same":
            x = _pad_same(x, self.kernel_size, self.stride)
        return super().forward(x)


class tfmaxpool2d(nn.MaxPool2d):  # noqa: N801 - DeepOBS name
    """``nn.MaxPool2d`` with TF padding; ``"same"`` pads with zeros, as DeepOBS does.

    Zero padding equals TF's for non-negative inputs (pools after a ReLU).

    Args:
        kernel_size: Window size.
        stride: Stride (default: the window size).
        dilation: Dilation.
        return_indices: Also return the indices of the maxima.
        ceil_mode: Round the output size up.
        tf_padding_type: ``"same"``, ``"valid"`` or ``None`` (= ``"valid"``).
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
        tf_padding_type: str | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, 0, dilation, return_indices, ceil_mode)
        self.tf_padding_type = _check_padding_type(tf_padding_type)

    def forward(self, x: torch.Tensor):
        """Pad as TF (``"same"``) and pool."""
        if self.tf_padding_type == "same":
            x = _pad_same(x, self.kernel_size, self.stride)
        return super().forward(x)


class flatten(nn.Flatten):  # noqa: N801 - DeepOBS name
    """Flatten everything but the batch axis: ``[N, ...] -> [N, -1]`` (an ``nn.Flatten``)."""


class mean_allcnnc(nn.Module):  # noqa: N801 - DeepOBS name
    """All-CNN-C's output layer: the mean over the spatial axes, ``[N, C, H, W] -> [N, C]``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spatial mean of ``x``."""
        return x.mean(dim=(2, 3))


def _truncated_normal_init(
    tensor: torch.Tensor, mean: float = 0.0, stddev: float = 1.0
) -> torch.Tensor:
    """Fill ``tensor`` from N(mean, stddev²) redrawn outside ±2·stddev (TF's); return it."""
    with torch.no_grad():
        trunc_normal_(tensor, stddev)
        tensor.add_(mean)
    return tensor
