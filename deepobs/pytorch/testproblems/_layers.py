"""Building blocks that reproduce TensorFlow semantics in PyTorch.

* ``SAME`` padding (reference §1.2): ``out = ceil(in / stride)``, the odd extra pixel goes to
  the bottom/right. :func:`same_padding` computes it; :class:`Conv2dSame`,
  :class:`MaxPool2dSame` and :class:`AvgPool2dSame` apply it for any input size.
* Initialisers (§1.3): truncated normal cut at ±2σ, TF's truncated Glorot normal, Glorot
  uniform.
* Batch-norm momentum (§1.4): TF's decay ``m`` is PyTorch's ``momentum = 1 - m``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Standard deviation of a unit normal truncated at ±2 (TF's truncated_normal rescaling).
_TRUNC2_STD = 0.87962566103423978


def tf_bn_momentum(tf_decay: float) -> float:
    """Convert TF's batch-norm ``momentum`` (decay of the running mean) to PyTorch's.

    TF: ``running = m * running + (1 - m) * batch``; PyTorch uses ``1 - m`` in that place.
    ``tf_bn_momentum(0.9) == 0.1`` (up to float rounding).
    """
    if not 0.0 <= tf_decay <= 1.0:
        raise ValueError(f"TF batch-norm momentum must lie in [0, 1], got {tf_decay!r}.")
    return 1.0 - tf_decay


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF ``SAME`` padding (before, after) of one spatial axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int], value=0.0):
    top, bottom = same_padding(x.shape[-2], kernel[0], stride[0])
    left, right = same_padding(x.shape[-1], kernel[1], stride[1])
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TF ``SAME`` padding (asymmetric where TF pads asymmetrically)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding=0, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(_pad_same(x, self.kernel_size, self.stride))


class MaxPool2dSame(nn.Module):
    """Max pooling with TF ``SAME`` padding (padded cells are ``-inf``)."""

    def __init__(self, kernel_size, stride) -> None:
        super().__init__()
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _pad_same(x, self.kernel_size, self.stride, value=float("-inf"))
        return F.max_pool2d(x, self.kernel_size, self.stride)


class AvgPool2dSame(nn.Module):
    """Average pooling with TF ``SAME`` padding; padded cells are not counted."""

    def __init__(self, kernel_size, stride) -> None:
        super().__init__()
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed = F.avg_pool2d(_pad_same(x, self.kernel_size, self.stride), self.kernel_size,
                              self.stride, divisor_override=1)
        ones = torch.ones_like(x[:1, :1])
        count = F.avg_pool2d(_pad_same(ones, self.kernel_size, self.stride), self.kernel_size,
                             self.stride, divisor_override=1)
        return summed / count


def trunc_normal_(tensor: torch.Tensor, std: float) -> torch.Tensor:
    """TF ``truncated_normal_initializer(stddev=std)``: N(0, std²) redrawn outside ±2·std."""
    return nn.init.trunc_normal_(tensor, 0.0, std, -2.0 * std, 2.0 * std)


def glorot_normal_(tensor: torch.Tensor) -> torch.Tensor:
    """Keras ``glorot_normal`` of TF 1.x: truncated at ±2σ, std √(2/(fan_in+fan_out)) after."""
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(tensor)
    std = math.sqrt(2.0 / (fan_in + fan_out)) / _TRUNC2_STD
    return trunc_normal_(tensor, std)


def glorot_uniform_(tensor: torch.Tensor) -> torch.Tensor:
    """TF's default initialiser (``glorot_uniform``); same fans as PyTorch's."""
    return nn.init.xavier_uniform_(tensor)


def init_layer_(layer: nn.Module, weight_init, bias: float | None = 0.0) -> nn.Module:
    """Initialise ``layer.weight`` with ``weight_init`` and its bias with a constant."""
    weight_init(layer.weight)
    if bias is not None and getattr(layer, "bias", None) is not None:
        nn.init.constant_(layer.bias, bias)
    return layer


def _lerp_axis(x: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    n = x.shape[dim]
    src = torch.arange(size, device=x.device, dtype=torch.float64) * (n / size)
    lo = src.floor().long().clamp_(max=n - 1)
    hi = (lo + 1).clamp_(max=n - 1)
    shape = [1] * x.dim()
    shape[dim] = size
    frac = (src - lo).to(x.dtype).view(shape)
    low = x.index_select(dim, lo)
    return low + (x.index_select(dim, hi) - low) * frac


def tf_resize_bilinear(x: torch.Tensor, size: int) -> torch.Tensor:
    """TF 1.x ``tf.image.resize_images`` (bilinear, corners not aligned, legacy pixel grid).

    Output pixel ``i`` samples the input at ``i * in / out`` (no half-pixel offset; the last
    input pixel is repeated past the edge), which ``F.interpolate`` cannot express.

    Args:
        x: Images ``[..., H, W]``.
        size: Side length of the square output.

    Returns:
        ``[..., size, size]``; ``x`` itself when it already has that size.
    """
    if tuple(x.shape[-2:]) == (size, size):
        return x
    return _lerp_axis(_lerp_axis(x, x.dim() - 2, size), x.dim() - 1, size)
