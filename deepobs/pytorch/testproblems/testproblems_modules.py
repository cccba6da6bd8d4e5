"""The networks of the problems under their DeepOBS names and constructor arguments.

For code written against DeepOBS' ``develop`` branch (e.g. ``net_quadratic_deep(hessian)``
to build another quadratic). Each name is a function returning this package's network,
initialised as the problem initialises it (on the CPU; move it with ``.to(device)``). The
networks are built from standard ``torch.nn`` layers that BackPACK supports.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from deepobs.pytorch.testproblems import _char_rnn, _nets_cifar, _nets_mnist, _vae, _vgg, _wrn
from deepobs.pytorch.testproblems._image_problem import build_model
from deepobs.pytorch.testproblems._layers import glorot_normal_, tf_bn_momentum
from deepobs.pytorch.testproblems.quadratic_deep import QuadraticDeepNet

__all__ = [
    "net_char_rnn",
    "net_cifar10_3c3d",
    "net_cifar100_allcnnc",
    "net_mlp",
    "net_mnist_2c2d",
    "net_mnist_logreg",
    "net_quadratic_deep",
    "net_vae",
    "net_vgg",
    "net_wrn",
]


def net_mnist_logreg(num_outputs: int = 10) -> nn.Module:
    """Logistic regression on 28×28 images, weights and biases 0 (``mnist_logreg``)."""
    return _nets_mnist.build_initialised(
        lambda: _nets_mnist.logreg(num_outputs), nn.init.zeros_, 0.0
    )


def net_mlp(num_outputs: int = 10) -> nn.Module:
    """MLP 784 → 1000 → 500 → 100 → ``num_outputs`` (``mnist_mlp``)."""
    init = functools.partial(_nets_mnist.trunc_normal_, std=_nets_mnist.MLP_STD)
    return _nets_mnist.build_initialised(lambda: _nets_mnist.mlp(num_outputs), init, 0.0)


def net_mnist_2c2d(num_outputs: int = 10) -> nn.Module:
    """Two conv and two dense layers for 1×28×28 images (``mnist_2c2d``)."""
    init = functools.partial(_nets_mnist.trunc_normal_, std=_nets_mnist.C2D_STD)
    return _nets_mnist.build_initialised(
        lambda: _nets_mnist.net_2c2d(num_outputs), init, _nets_mnist.C2D_BIAS
    )


def net_cifar10_3c3d(num_outputs: int = 10) -> nn.Module:
    """The 3c3d net for 3×32×32 images (``cifar10_3c3d``, ``cifar100_3c3d``, ``svhn_3c3d``)."""
    return build_model(lambda: _nets_cifar.net_3c3d(num_outputs), glorot_normal_)


def net_cifar100_allcnnc(num_outputs: int = 100) -> nn.Module:
    """All-CNN-C for 3×32×32 images (``cifar100_allcnnc``)."""
    return _nets_mnist.build_initialised(
        lambda: _nets_cifar.allcnnc(num_outputs), glorot_normal_, _nets_cifar.ALLCNNC_BIAS
    )


def net_vae(n_latent: int = _vae.LATENT_SIZE) -> nn.Module:
    """The VAE of ``mnist_vae``; ``forward`` returns ``(x_hat, mean, log_std)``."""
    return _nets_mnist.build_initialised(lambda: _vae.VAE(n_latent), _vae.glorot_uniform_, 0.0)


def net_vgg(num_outputs: int, variant: int = 16) -> nn.Module:
    """VGG-``variant`` (16 or 19) with its input resized to 224×224."""
    return _vgg.build_vgg(variant, num_outputs)


def net_wrn(
    num_residual_blocks: int,
    widening_factor: int,
    num_outputs: int,
    bn_momentum: float = _wrn.WRN_BN_DECAY,
) -> nn.Module:
    """Wide ResNet with ``num_residual_blocks`` units per group (depth ``6 n + 4``).

    Args:
        num_residual_blocks: Units per group (2 for WRN-16, 6 for WRN-40).
        widening_factor: Width factor ``k``.
        num_outputs: Number of logits.
        bn_momentum: TF's batch-norm decay (0.9), converted to PyTorch's momentum 0.1.
    """
    if isinstance(num_residual_blocks, bool) or not isinstance(num_residual_blocks, int):
        raise TypeError(f"num_residual_blocks must be an int, got {num_residual_blocks!r}.")
    model = _wrn.build_wrn(6 * num_residual_blocks + 4, num_outputs, widening_factor)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = tf_bn_momentum(bn_momentum)
    return model


def net_char_rnn(
    seq_len: int = 50,
    hidden_dim: int = _char_rnn.HIDDEN_SIZE,
    vocab_size: int = 83,
    num_layers: int = _char_rnn.NUM_LAYERS,
) -> nn.Module:
    """The char-RNN of ``tolstoi_char_rnn`` for ``vocab_size`` characters.

    ``forward(x, state=None)`` returns ``(logits, state)``. Only DeepOBS' sizes (128 hidden
    units, 2 layers) are built; ``seq_len`` does not change the network.

    Raises:
        ValueError: for other ``hidden_dim`` or ``num_layers``.
    """
    if (hidden_dim, num_layers) != (_char_rnn.HIDDEN_SIZE, _char_rnn.NUM_LAYERS):
        raise ValueError(
            f"net_char_rnn builds DeepOBS' network, hidden_dim={_char_rnn.HIDDEN_SIZE} and "
            f"num_layers={_char_rnn.NUM_LAYERS}; got hidden_dim={hidden_dim!r}, "
            f"num_layers={num_layers!r}."
        )
    return _char_rnn.CharRNN(vocab_size)


def net_quadratic_deep(hessian: np.ndarray | torch.Tensor) -> nn.Module:
    """``nn.Sequential`` whose MSE against zero targets is ``0.5 (θ - x)^T Q (θ - x)``.

    Args:
        hessian: Symmetric positive definite ``Q`` (``dim x dim``); ``θ`` starts at ones.
    """
    return QuadraticDeepNet(hessian)
