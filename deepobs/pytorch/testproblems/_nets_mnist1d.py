"""The MLP and CNN of the MNIST-1D paper (Greydanus & Kobak, 2020), for ``[B, 40]`` signals.

* MLP: dense 40 → 100 → 100 → 10, ReLU after the hidden layers:
  ``40*100 + 100 + 100*100 + 100 + 100*10 + 10 = 15,210`` parameters.
* CNN: three 1-D convs with 25 channels and stride 2 (kernel 5 padding 1, then kernel 3
  padding 1 twice: lengths 40 → 19 → 10 → 5), ReLU after each, flatten, dense 125 → 10:
  ``(25*5 + 25) + 2 * (25*25*3 + 25) + 125*10 + 10 = 5,210`` parameters.

Both as in the paper's reference code, including PyTorch's default initialisation of every
layer. Only standard modules (``Linear``, ``Conv1d``, ``ReLU``, ``Unflatten``, ``Flatten``),
so BackPACK's extensions apply directly.
"""

from __future__ import annotations

import torch
from torch import nn

from deepobs.pytorch.datasets.mnist1d import MNIST1D_LENGTH
from deepobs.pytorch.testproblems._image_problem import ImageClassificationProblem
from deepobs.pytorch.testproblems.testproblem import UnregularizedTestproblem

MLP_HIDDEN = 100
CNN_CHANNELS = 25


def mnist1d_mlp_net(num_classes: int = 10, hidden: int = MLP_HIDDEN) -> nn.Sequential:
    """The MNIST-1D MLP: ``[B, 40] -> [B, num_classes]``."""
    return nn.Sequential(
        nn.Linear(MNIST1D_LENGTH, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )


def mnist1d_cnn_net(num_classes: int = 10, channels: int = CNN_CHANNELS) -> nn.Sequential:
    """The MNIST-1D CNN: ``[B, 40] -> [B, num_classes]``."""
    return nn.Sequential(
        nn.Unflatten(1, (1, MNIST1D_LENGTH)),  # [B, 1, 40]
        nn.Conv1d(1, channels, 5, stride=2, padding=1),  # [B, 25, 19]
        nn.ReLU(),
        nn.Conv1d(channels, channels, 3, stride=2, padding=1),  # [B, 25, 10]
        nn.ReLU(),
        nn.Conv1d(channels, channels, 3, stride=2, padding=1),  # [B, 25, 5]
        nn.ReLU(),
        nn.Flatten(),  # [B, 125]
        nn.Linear(channels * 5, num_classes),
    )


class MNIST1DProblem(ImageClassificationProblem, UnregularizedTestproblem):
    """Base of the MNIST-1D problems: subclasses implement :meth:`make_net`."""

    num_classes = 10

    def make_net(self, num_classes: int) -> nn.Module:
        """Return the network with PyTorch's default initialisation."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_net().")

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> nn.Module:
        """Build the network on ``device`` (``meta``: shapes only, no initialisation)."""
        with torch.device(device):
            return self.make_net(num_classes)


class MNIST1DMLPProblem(MNIST1DProblem):
    """Base of ``mnist1d_mlp``."""

    def make_net(self, num_classes: int) -> nn.Module:
        """The MLP of :func:`mnist1d_mlp_net`."""
        return mnist1d_mlp_net(num_classes)


class MNIST1DCNNProblem(MNIST1DProblem):
    """Base of ``mnist1d_cnn``."""

    def make_net(self, num_classes: int) -> nn.Module:
        """The CNN of :func:`mnist1d_cnn_net`."""
        return mnist1d_cnn_net(num_classes)
