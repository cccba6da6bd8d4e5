"""Shared pieces of the deep image-classification problems (VGG, Wide ResNet, Inception-v3).

* :func:`build_model` constructs a network on the ``meta`` device (skipping PyTorch's default
  initialisation, which DeepOBS never uses and which costs seconds for VGG's 134 M weights),
  allocates it on the target device and initialises every layer explicitly (reference §1.3).
* :class:`ImageClassificationProblem` is the common ``set_up``: data set by name, network by
  the subclass's :meth:`~ImageClassificationProblem.build_model`, softmax cross-entropy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from deepobs.pytorch import datasets
from deepobs.pytorch.testproblems._layers import glorot_uniform_, init_layer_
from deepobs.pytorch.testproblems.testproblem import TestProblem

Init = Callable[[torch.Tensor], torch.Tensor]


def init_modules_(model: nn.Module, conv_init: Init, linear_init: Init = glorot_uniform_) -> None:
    """Initialise every layer of ``model``: conv and dense weights, zero biases, BN to (1, 0).

    Raises:
        TypeError: if a module holds parameters of a kind this function does not know, so
            that no tensor is left uninitialised.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            init_layer_(module, conv_init, bias=0.0)
        elif isinstance(module, nn.Linear):
            init_layer_(module, linear_init, bias=0.0)
        elif isinstance(module, _BatchNorm):
            module.reset_parameters()  # gamma 1, beta 0, running mean 0, variance 1
        elif any(True for _ in module.parameters(recurse=False)):
            raise TypeError(f"init_modules_ does not know how to initialise {module!r}.")


def build_model(
    factory: Callable[[], nn.Module],
    conv_init: Init,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """Build ``factory()`` on ``device`` with every layer initialised as DeepOBS does.

    Args:
        factory: Constructs the network (it runs on the ``meta`` device: no memory, no init).
        conv_init: Initialiser of the conv kernels; dense kernels are Glorot uniform.
        device: Where the weights are allocated and drawn. ``cpu`` (the default) gives the
            same weights for a seed on every machine; ``meta`` gives a shape-only network
            (parameter counts, shape checks) at no cost.
    """
    with torch.device("meta"):
        model = factory()
    model = model.to_empty(device=device)
    if torch.device(device).type != "meta":
        init_modules_(model, conv_init)
    return model


def conv_kernels(model: nn.Module) -> list[nn.Parameter]:
    """The conv kernels of ``model`` (the L2 set of VGG and Inception-v3: no dense weights)."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]


class ImageClassificationProblem(TestProblem):
    """Base of the deep image-classification problems: data by name, network, cross-entropy.

    Subclasses implement :meth:`build_model`, and set :attr:`num_classes` when it is fixed.
    """

    #: Number of classes; ``None`` takes it from the data set (ImageNet: its class folders).
    num_classes: int | None = None
    #: Label smoothing of the cross-entropy (0: none).
    label_smoothing: float = 0.0

    def build_model(self, num_classes: int, device: str | torch.device = "cpu") -> nn.Module:
        """Return the initialised network for ``num_classes`` classes on ``device``."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_model().")

    def set_up(self) -> None:
        """Build the data set, the network and the loss."""
        make_data = getattr(datasets, self.spec.dataset)
        self.data = make_data(self._batch_size, data_dir=self._data_dir)
        self._set_up_model(self.num_classes or self.data.num_classes)
        self._finish_set_up()

    def _set_up_model(self, num_classes: int) -> None:
        # Weights are drawn on the CPU, so a seed gives the same network on any device.
        init_device = "meta" if self._device.type == "meta" else "cpu"
        self.model = self.build_model(num_classes, init_device)
        self.loss_function = nn.CrossEntropyLoss
        if self.label_smoothing:
            self.loss_function = functools.partial(
                nn.CrossEntropyLoss, label_smoothing=self.label_smoothing
            )
