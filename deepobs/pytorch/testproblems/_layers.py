"""Building blocks that reproduce TensorFlow semantics in PyTorch.

* ``SAME`` padding (reference §1.2): ``out = ceil(in / stride)``, the odd extra pixel goes to
  the bottom/right. :func:`same_padding` computes it; :func:`same_pad2d`,
  :func:`conv2d_same` and :func:`maxpool2d_same` build it from standard layers
  (``nn.ZeroPad2d`` before a plain conv or pool) for a fixed input size.
* Initialisers (§1.3): truncated normal cut at ±2σ, TF's truncated Glorot normal, Glorot
  uniform.
* Batch-norm momentum (§1.4): TF's decay ``m`` is PyTorch's ``momentum = 1 - m``.
"""

from __future__ import annotations

import math

import torch
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


def same_pad2d(size: int | tuple[int, int], kernel, stride) -> nn.ZeroPad2d | None:
    """TF ``SAME`` zero padding of a ``size`` input as a module, or ``None`` if it pads nothing.

    ``nn.ZeroPad2d`` is a standard layer (BackPACK knows it), so a ``SAME`` conv or pool is
    this module followed by a plain ``nn.Conv2d`` / ``nn.MaxPool2d`` with ``padding=0``. Zero
    padding equals TF's ``-inf`` padding for a max-pool of non-negative inputs (after a ReLU).

    Args:
        size: Spatial input size ``H`` (or ``(H, W)``) the layer is built for.
        kernel: Kernel size (int or pair).
        stride: Stride (int or pair).
    """
    (h, w), (kh, kw), (sh, sw) = _pair(size), _pair(kernel), _pair(stride)
    top, bottom = same_padding(h, kh, sh)
    left, right = same_padding(w, kw, sw)
    if top == bottom == left == right == 0:
        return None
    return nn.ZeroPad2d((left, right, top, bottom))


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d_same(
    c_in: int, c_out: int, kernel: int, stride: int, size: int, *, bias: bool = True
) -> list[nn.Module]:
    """TF ``SAME`` conv for a ``size`` input: ``[ZeroPad2d, Conv2d]``, or one padded ``Conv2d``.

    Symmetric padding goes into the conv's own ``padding``; asymmetric padding (even kernels,
    strides) into a separate ``nn.ZeroPad2d`` in front.
    """
    top, bottom = same_padding(size, kernel, stride)
    if top == bottom:
        return [nn.Conv2d(c_in, c_out, kernel, stride, padding=top, bias=bias)]
    return [same_pad2d(size, kernel, stride), nn.Conv2d(c_in, c_out, kernel, stride, bias=bias)]


def maxpool2d_same(kernel: int, stride: int, size: int) -> list[nn.Module]:
    """TF ``SAME`` max-pool of non-negative inputs: ``[ZeroPad2d, MaxPool2d]`` (or the pool)."""
    pad = same_pad2d(size, kernel, stride)
    return ([pad] if pad is not None else []) + [nn.MaxPool2d(kernel, stride)]


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


class TFResize(nn.Module):
    """Module form of :func:`tf_resize_bilinear` (no parameters), the first layer of a net.

    Args:
        size: Side length of the square output.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[..., H, W]`` -> ``[..., size, size]``."""
        return tf_resize_bilinear(x, self.size)

    def extra_repr(self) -> str:
        return f"size={self.size}"
