"""Base classes of the test problems: a data set, a model, a loss and its L2 regulariser.

``TestProblem`` is the common base; as in DeepOBS' ``develop`` branch, every problem
without L2 subclasses :class:`UnregularizedTestproblem` and every other one
:class:`WeightRegularizedTestproblem`, so ``issubclass(cls, UnregularizedTestproblem)``
tells them apart.

Two ways to use a problem, both supported:

* DeepOBS phase API: ``train_init_op()`` (or ``train_eval_init_op``, ``valid_init_op``,
  ``test_init_op``), then ``get_batch_loss_and_accuracy()`` until ``StopIteration``. It
  returns the accuracy as a Python float, 0.0 for problems without one (as DeepOBS).
  ``get_batch_loss_and_accuracy_func()`` draws the batch and returns a closure giving
  ``(loss, accuracy)`` with the accuracy a 0-d tensor (or ``None``): no host-device sync.
* Direct: iterate ``tproblem.data.train_loader`` yourself and call
  ``tproblem.loss_and_accuracy(batch)``; set ``tproblem.model.train()``/``eval()`` yourself.

``loss_function(reduction=...)`` builds the loss module (``nn.CrossEntropyLoss``,
``nn.MSELoss``, ...) as in DeepOBS. The reductions of the problem's own methods work on
per-example losses: ``"none"`` gives one loss per example ``[N]``, ``"mean"`` their mean and
``"sum"`` their sum, plus ``R = 0.5 * l2_reg * sum(w**2)`` over the weights the problem
regularises (never biases or batch-norm parameters) when regularisation is added.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Sequence

import torch
from torch import nn

from deepobs.pytorch import config
from deepobs.pytorch.datasets._base import check_batch_size

logger = logging.getLogger(__name__)

_WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)
EVAL_PHASES = ("train_eval", "valid", "test")
REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> str:
    """Return ``reduction`` if it is ``"mean"``, ``"sum"`` or ``"none"``.

    Raises:
        ValueError: otherwise.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}. "
            "Use 'none' for one loss per example."
        )
    return reduction


def reduce_losses(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduce per-example ``losses`` ``[N]`` by ``"mean"``, ``"sum"`` or ``"none"``."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


class TestProblem:
    """Base class of all test problems.

    Args:
        batch_size: Mini-batch size; ``None`` takes the problem's default.
        l2_reg: L2 factor; ``None`` takes the problem's default. Ignored, with a warning, by
            problems without regularisation.
        weight_decay: Older name of ``l2_reg`` (DeepOBS 1.1/1.2-beta), accepted for old code.
        device: Device of the model and batches; default :func:`config.get_default_device`.
        data_dir: Data directory; default :func:`config.get_data_dir`.

    Raises:
        ValueError: for a non-positive batch size, or none given when the problem has no
            default, or conflicting ``l2_reg`` and ``weight_decay``.
    """

    __test__ = False  # not a pytest test class
    spec = None  # set by @register_testproblem
    #: Whether the problem carries state from batch to batch (``None``: see
    #: :func:`~deepobs.pytorch.testproblems.problem_traits`).
    stateful: bool | None = None
    #: Whether evaluation losses are means of per-example terms independent of the rest of
    #: the batch and of random numbers, so evaluation may use any batch size (``None``: see
    #: :func:`~deepobs.pytorch.testproblems.problem_traits`).
    batch_independent_eval: bool | None = None

    def __init__(
        self,
        batch_size: int | None = None,
        l2_reg: float | None = None,
        *,
        weight_decay: float | None = None,
        device: str | torch.device | None = None,
        data_dir: str | os.PathLike | None = None,
    ) -> None:
        self._batch_size = check_batch_size(self._default_batch_size(batch_size))
        self._l2_reg_given = self._merge_l2(l2_reg, weight_decay)
        self._l2_reg = self._effective_l2(self._l2_reg_given)
        self._device = torch.device(device if device is not None else config.get_default_device())
        self._data_dir = data_dir
        self.data = None
        self.model: nn.Module | None = None
        self.loss_function: Callable | None = None
        self.regularization_groups: dict[float, list[nn.Parameter]] = {}
        self.phase: str | None = None
        self._iterator = None

    # ------------------------------------------------------------------ construction
    def _default_batch_size(self, batch_size):
        if batch_size is not None:
            return batch_size
        default = self.spec.batch_size if self.spec is not None else None
        if default is None:
            raise ValueError(
                f"Test problem {type(self).__name__!r} has no default batch size; "
                "pass one, e.g. batch_size=128 (CLI: --batch-size 128)."
            )
        return default

    @staticmethod
    def _merge_l2(l2_reg, weight_decay):
        if weight_decay is not None and l2_reg is not None and weight_decay != l2_reg:
            raise ValueError(
                f"Got l2_reg={l2_reg!r} and weight_decay={weight_decay!r}; they are the same "
                "setting under two names. Pass only l2_reg."
            )
        value = l2_reg if l2_reg is not None else weight_decay
        if value is not None and (not isinstance(value, (int, float)) or value < 0):
            raise ValueError(f"l2_reg must be a number >= 0, got {value!r}.")
        return value

    def _effective_l2(self, given):
        default = self.spec.l2_reg if self.spec is not None else None
        if self.spec is not None and default is None:
            if given:
                warnings.warn(
                    f"Test problem {self.spec.name!r} has no regularisation; "
                    f"l2_reg={given!r} is ignored.",
                    UserWarning,
                    stacklevel=3,
                )
            return None
        return float(given) if given is not None else default

    def set_up(self) -> None:
        """Build ``self.data``, ``self.model`` and ``self.loss_function`` (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement set_up().")

    def _finish_set_up(self) -> None:
        """Move model and in-memory data to the device and collect the L2 groups."""
        self.model.to(self._device)
        if hasattr(self.data, "to"):
            self.data.to(self._device)
        self.regularization_groups = self.get_regularization_groups()

    # ------------------------------------------------------------------ properties
    @property
    def net(self) -> nn.Module | None:
        """The model (DeepOBS 1.2 name; the same object as :attr:`model`)."""
        return self.model

    @net.setter
    def net(self, module: nn.Module) -> None:
        self.model = module

    @property
    def batch_size(self) -> int:
        """Mini-batch size."""
        return self._batch_size

    @property
    def l2_reg(self) -> float | None:
        """Effective L2 factor (``None`` if the problem is unregularised)."""
        return self._l2_reg

    @property
    def _weight_decay(self) -> float | None:  # DeepOBS 1.2-beta attribute name
        return self._l2_reg

    @property
    def device(self) -> torch.device:
        """Device of the model and the batches."""
        return self._device

    # ------------------------------------------------------------------ phase API (1.2)
    def train_init_op(self) -> None:
        """Start a pass over the training data (model in training mode)."""
        self._start_phase("train", self.data._train_dataloader)

    def train_eval_init_op(self) -> None:
        """Start a pass over the training-evaluation data (model in evaluation mode)."""
        self._start_phase("train_eval", self.data._train_eval_dataloader)

    def valid_init_op(self) -> None:
        """Start a pass over the validation data (model in evaluation mode)."""
        self._start_phase("valid", self.data._valid_dataloader)

    def test_init_op(self) -> None:
        """Start a pass over the test data (model in evaluation mode)."""
        self._start_phase("test", self.data._test_dataloader)

    def _start_phase(self, phase: str, loader) -> None:
        self.phase = phase
        self.model.train(phase == "train")
        self._iterator = iter(loader)
        self._on_phase_start(phase)

    def _on_phase_start(self, phase: str) -> None:
        """Hook for stateful problems (e.g. reset a recurrent state); nothing by default."""

    def next_batch(self) -> tuple[torch.Tensor, ...]:
        """Return the next batch ``(inputs, targets)`` of the current phase on the device.

        Raises:
            StopIteration: at the end of the phase.
            RuntimeError: if no phase was started.
        """
        if self._iterator is None:
            raise RuntimeError("No phase started; call train_init_op() (or another *_init_op).")
        return self._batch_to_device(next(self._iterator))

    def _get_next_batch(self) -> tuple[torch.Tensor, ...]:
        """DeepOBS name of :meth:`next_batch` (used by code written for DeepOBS)."""
        return self.next_batch()

    def _batch_to_device(self, batch: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        return self._prepare_batch(tuple(t.to(self._device, non_blocking=True) for t in batch))

    def _prepare_batch(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """Turn a loader's batch into ``(inputs, targets)`` for the model and the loss."""
        return batch

    def get_batch_loss_and_accuracy_func(
        self, reduction: str = "mean", add_regularization_if_available: bool = True
    ) -> Callable[[], tuple[torch.Tensor, torch.Tensor | None]]:
        """Draw the next batch and return a closure that evaluates loss and accuracy on it.

        The closure can be called several times (line searches): it always uses the same
        batch. In evaluation phases it runs without autograd. It returns ``(loss, accuracy)``
        with the accuracy a 0-d tensor, or ``None`` for problems without one: no host-device
        synchronisation.

        Args:
            reduction: ``"mean"``, ``"sum"`` or ``"none"`` (one loss per example).
            add_regularization_if_available: Add the L2 term ``R``.
        """
        check_reduction(reduction)
        batch = self._get_next_batch()
        grad = self.phase == "train"

        def closure():
            with contextlib.nullcontext() if grad else torch.no_grad():
                return self._compute_loss_and_accuracy(
                    batch, reduction, add_regularization_if_available
                )

        return closure

    def get_batch_loss_and_accuracy(
        self, reduction: str = "mean", add_regularization_if_available: bool = True
    ) -> tuple[torch.Tensor, float]:
        """Loss and accuracy on the next batch of the current phase (DeepOBS phase API).

        Calls ``self.get_batch_loss_and_accuracy_func(...)()``, so a replacement of that
        method (e.g. on the instance) takes effect. The accuracy is a Python float, 0.0 for
        problems without accuracy, as in DeepOBS (this synchronises with the device; the
        closure of :meth:`get_batch_loss_and_accuracy_func` does not).
        """
        loss, accuracy = self.get_batch_loss_and_accuracy_func(
            reduction=reduction, add_regularization_if_available=add_regularization_if_available
        )()
        return loss, accuracy_as_float(accuracy)

    # ------------------------------------------------------------------ direct API
    def loss_and_accuracy(
        self, batch: Sequence[torch.Tensor], reduction: str = "mean", add_regularization=True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Loss and accuracy on a batch from one of ``self.data``'s loaders.

        Args:
            batch: A batch as a loader yields it (moved to the device here).
            reduction: ``"mean"`` or ``"sum"`` for a scalar, ``"none"`` for per-example
                losses.
            add_regularization: Add the L2 term ``R``.
        """
        return self._compute_loss_and_accuracy(
            self._batch_to_device(batch), reduction, add_regularization
        )

    def _compute_loss_and_accuracy(self, batch, reduction, add_regularization):
        check_reduction(reduction)
        loss, accuracy = self._loss_and_accuracy(batch, reduction)
        if add_regularization and self._l2_reg:
            loss = loss + self.get_regularization_loss()
        return loss, accuracy

    def _loss_and_accuracy(self, batch, reduction):
        """Data loss and accuracy of a classification batch; override for other problems.

        ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"`` (per-example losses ``[N]``).
        """
        inputs, labels = batch
        outputs = self.model(inputs)
        loss = self.loss_function(reduction=reduction)(outputs, labels)
        accuracy = None
        if self.spec is None or self.spec.has_accuracy:
            predictions = outputs.argmax(dim=1)
            # Class-index targets only (a user problem may regress float targets).
            if not labels.is_floating_point() and labels.shape == predictions.shape:
                accuracy = (predictions == labels).float().mean()
        return loss, accuracy

    # ------------------------------------------------------------------ regularisation
    def _regularized_parameters(self) -> list[nn.Parameter]:
        """Weights under L2: by default the weight of every linear and conv layer."""
        return [
            m.weight
            for m in self.model.modules()
            if isinstance(m, _WEIGHT_LAYERS) and m.weight.requires_grad
        ]

    def get_regularization_groups(self) -> dict[float, list[nn.Parameter]]:
        """Map each L2 factor to its parameters (factor 0.0 = not regularised)."""
        params = list(self.model.parameters())
        if not self._l2_reg:
            return {0.0: params}
        chosen = self._regularized_parameters()
        ids = {id(p) for p in chosen}
        return {0.0: [p for p in params if id(p) not in ids], float(self._l2_reg): chosen}

    def get_regularization_loss(self) -> torch.Tensor:
        """Return ``R = 0.5 * sum_factor factor * sum ||p||^2`` (a 0-d tensor)."""
        total = torch.zeros((), device=self._device)
        for factor, params in self.regularization_groups.items():
            if factor and params:
                total = total + 0.5 * factor * torch.stack([p.square().sum() for p in params]).sum()
        return total

    def num_parameters(self) -> int:
        """Number of trainable parameters of the model."""
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)


def accuracy_as_float(accuracy) -> float:
    """A closure's accuracy (0-d tensor, number or ``None``) as DeepOBS' float (``None``: 0.0)."""
    if accuracy is None:
        return 0.0
    return float(accuracy)


class UnregularizedTestproblem(TestProblem):
    """Base of the problems without regularisation (DeepOBS ``develop`` name).

    Every parameter is in the group of factor 0.0; a given ``l2_reg`` other than 0 is
    ignored with a warning, and :attr:`l2_reg` is ``None``.
    """

    def _effective_l2(self, given):
        if given:
            warnings.warn(
                f"Test problem {type(self).__name__!r} has no regularisation; "
                f"l2_reg={given!r} is ignored.",
                UserWarning,
                stacklevel=3,
            )
        return None

    def get_regularization_groups(self) -> dict[float, list[nn.Parameter]]:
        """All parameters under factor 0.0 (nothing is regularised)."""
        return {0.0: list(self.model.parameters())}


class WeightRegularizedTestproblem(TestProblem):
    """Base of the problems with an L2 term on their weights (DeepOBS ``develop`` name).

    The regularised set is :meth:`_regularized_parameters` (by default the weight of every
    linear and conv layer; never biases or batch-norm parameters).
    """
