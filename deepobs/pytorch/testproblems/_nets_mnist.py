"""The MNIST / Fashion-MNIST classifiers of DeepOBS (reference §2.4), and a layer-init helper.

* logistic regression: flatten → dense 784 → 10, weights and bias 0;
* MLP: 784 → 1000 → 500 → 100 → 10, ReLU on the hidden layers, weights truncated normal
  σ = 0.03, biases 0;
* 2c2d: conv 5×5 32 ``SAME`` ReLU → max-pool 2×2 → conv 5×5 64 ``SAME`` ReLU → max-pool 2×2 →
  dense 1024 ReLU → dense 10, weights truncated normal σ = 0.05, every bias 0.05.

None of them is regularised. Networks are built on the ``meta`` device and allocated and
initialised afterwards (:func:`build_initialised`), so PyTorch's default initialisation,
which DeepOBS never uses, costs nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

from deepobs.pytorch.testproblems._image_problem import ImageClassificationProblem
from deepobs.pytorch.testproblems._layers import init_layer_, trunc_normal_
from deepobs.pytorch.testproblems.testproblem import UnregularizedTestproblem

#: Layers whose ``weight`` (and ``bias``) :func:`build_initialised` initialises.
WEIGHT_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)
MNIST_PIXELS = 28 * 28
MLP_WIDTHS = (MNIST_PIXELS, 1000, 500, 100)
MLP_STD = 0.03
C2D_STD = 0.05
C2D_BIAS = 0.05


def build_initialised(
    factory: Callable[[], nn.Module],
    weight_init: Callable[[torch.Tensor], torch.Tensor],
    bias: float,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """Build ``factory()`` on ``device``; every linear/conv weight ``weight_init``, bias ``bias``.

    ``device="meta"`` gives a shape-only network (parameter counts) at no cost.
    """
    with torch.device("meta"):
        model = factory()
    model = model.to_empty(device=device)
    if torch.device(device).type != "meta":
        for module in model.modules():
            if isinstance(module, WEIGHT_LAYERS):
                init_layer_(module, weight_init, bias)
    return model


def logreg(num_classes: int = 10) -> nn.Module:
    """Multinomial logistic regression on flattened 28×28 images (not yet initialised)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(MNIST_PIXELS, num_classes))


def mlp(num_classes: int = 10) -> nn.Module:
    """Four dense layers 784 → 1000 → 500 → 100 → ``num_classes`` (not yet initialised)."""
    layers: list[nn.Module] = [nn.Flatten()]
    for n_in, n_out in zip(MLP_WIDTHS[:-1], MLP_WIDTHS[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(MLP_WIDTHS[-1], num_classes))


def net_2c2d(num_classes: int = 10) -> nn.Module:
    """Two conv + two dense layers for 1×28×28 images (not yet initialised)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2),  # stride 1, odd kernel: TF SAME is symmetric
        nn.ReLU(),
        nn.MaxPool2d(2, 2),  # [B, 32, 14, 14]; SAME pads nothing on even sizes
        nn.Conv2d(32, 64, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2, 2),  # [B, 64, 7, 7]
        nn.Flatten(),  # [B, 3136]
        nn.Linear(64 * 7 * 7, 1024),
        nn.ReLU(),
        nn.Linear(1024, num_classes),
    )


class LogRegProblem(ImageClassificationProblem, UnregularizedTestproblem):
    """Base of ``mnist_logreg`` and ``fmnist_logreg``: zero-initialised 784 → 10."""

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> nn.Module:
        """Return the zero-initialised logistic regression."""
        return build_initialised(lambda: logreg(num_classes), nn.init.zeros_, 0.0, device)


class MLPProblem(ImageClassificationProblem, UnregularizedTestproblem):
    """Base of ``mnist_mlp`` and ``fmnist_mlp``: 784 → 1000 → 500 → 100 → 10."""

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> nn.Module:
        """Return the MLP: weights truncated normal σ = 0.03, biases 0."""
        init = functools.partial(trunc_normal_, std=MLP_STD)
        return build_initialised(lambda: mlp(num_classes), init, 0.0, device)


class C2DProblem(ImageClassificationProblem, UnregularizedTestproblem):
    """Base of ``mnist_2c2d`` and ``fmnist_2c2d``: two conv and two dense layers."""

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> nn.Module:
        """Return the 2c2d net: weights truncated normal σ = 0.05, biases 0.05."""
        init = functools.partial(trunc_normal_, std=C2D_STD)
        return build_initialised(lambda: net_2c2d(num_classes), init, C2D_BIAS, device)
