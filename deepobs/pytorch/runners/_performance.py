"""Performance options of the standard runner, set up once before the training loop.

Training parameters of :class:`~deepobs.pytorch.runners.StandardRunner` (recorded in the
result; a value other than the default also goes into the setting folder name, so runs in
different precisions never share a folder):

* ``amp`` (``"off"``, ``"bf16"``, ``"fp16"``; default ``"off"``): the model's forward pass runs
  under ``torch.autocast`` with that dtype, in training and evaluation; its outputs are cast
  back to float32, so losses, the L2 term and the optimizer work in float32. ``"fp16"`` adds
  a ``torch.amp.GradScaler``; a scaler cannot step with a closure, so fp16 steps call
  ``optimizer.step()`` without one. Optimizers that need a closure (L-BFGS, line searches)
  must use ``"off"`` or ``"bf16"``, and fp16 does not combine with ``grad_accumulation``.
  The scaler checks the gradients (one device sync per step) and skips steps with inf/NaN
  gradients; a non-finite *loss* (fp16 overflow in the forward pass) still ends the run as
  diverged. The scaler's state is not checkpointed: a resumed fp16 run restarts its scale.
* ``compile`` (bool, default False): ``torch.compile`` the model in place (``Module.compile``;
  the problem keeps its model object and its ``state_dict`` keys). Results change within float
  rounding; the first steps of each phase pay the compilation.
* ``channels_last`` (bool, default False): model weights and 4-D inputs in the channels-last
  memory layout (faster convolutions on recent GPUs; float rounding differs).
* ``eval_batch_size`` (int or None): the largest number of examples evaluated at once. DeepOBS
  evaluates ``n = floor(N / batch_size)`` batches (``drop_last``) and reports the mean of the
  batch means. Evaluation here keeps exactly those ``n * batch_size`` examples and cuts them
  into equal chunks: the largest divisor of ``n * batch_size`` that is at most
  ``eval_batch_size``. With equal chunks the mean of the chunk means is the mean of the batch
  means, so only float rounding changes. Default (None): ``4 * batch_size / grad_accumulation``
  (inference keeps far fewer activations than a training step). Pass the batch size for
  DeepOBS' exact batch-by-batch order. Chunking is used only where it cannot change the
  result beyond rounding: in-memory, unshuffled evaluation loaders with a deterministic
  transform, on problems whose per-example loss does not depend on the rest of the batch or on
  random numbers (the classification loss of the base class, no state between batches; a
  problem can declare ``batch_independent_eval = True`` or ``False`` itself). The VAEs (noise
  drawn in evaluation) and the char-RNN (state carried between batches) are never chunked,
  nor are file-backed (``DataLoader``) or data-parallel (sharded) evaluation loaders.

Every run records the effective options in ``meta["performance_options"]`` (with the chunk
size used per evaluation split, ``eval_chunk_sizes``; ``None``: the loader's own batches) and
its cost figures in ``meta["cost"]`` (:mod:`deepobs.pytorch.runners._cost`).
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass

import torch

from deepobs.pytorch.datasets._augment import Normalize, UnitScale
from deepobs.pytorch.datasets._loader import TensorBatchLoader
from deepobs.pytorch.runners._step import TrainStep, closure_required, step_takes_closure
from deepobs.pytorch.testproblems.testproblem import TestProblem

AMP_DTYPES = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}
__all__ = [
    "AMP_DTYPES",
    "PerformanceOptions",
    "TrainStep",
    "chunk_eval_loaders",
    "set_up",
    "step_takes_closure",
]
#: Default evaluation chunk as a multiple of the (micro-)batch size.
EVAL_BATCH_FACTOR = 4
_EVAL_SPLITS = ("train_eval", "valid", "test")
# Batch transforms that are the same function of each example whatever the batch.
_DETERMINISTIC_TRANSFORMS = (Normalize, UnitScale)


@dataclass(frozen=True)
class PerformanceOptions:
    """The performance options of one run (see the module docstring).

    Raises:
        ValueError: for a value outside the valid choices.
    """

    amp: str = "off"
    compile: bool = False
    channels_last: bool = False
    eval_batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.amp not in AMP_DTYPES:
            raise ValueError(
                f"amp must be one of {sorted(AMP_DTYPES)}, got {self.amp!r}. "
                "Pass e.g. amp='bf16' (CLI: --amp bf16)."
            )
        for name in ("compile", "channels_last"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}.")
        size = self.eval_batch_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise ValueError(f"eval_batch_size must be a positive integer or None, got {size!r}.")


def set_up(tproblem, optimizer, options: PerformanceOptions, grad_accumulation: int) -> TrainStep:
    """Apply ``options`` to the problem and return the step function of the training loop.

    Args:
        tproblem: The set-up test problem (model and data on their device).
        optimizer: The run's optimizer.
        options: The performance options.
        grad_accumulation: Micro-batches per batch (fp16 supports only 1).

    Raises:
        ValueError: for a combination the options do not support (named in the message).
    """
    start = time.perf_counter()
    device = torch.device(tproblem.device)
    _check_amp(options.amp, device, optimizer, grad_accumulation)
    model = tproblem.model
    if options.channels_last:
        model.to(memory_format=torch.channels_last)  # same Parameter objects, new strides
    if options.amp != "off" or options.channels_last:
        _wrap_forward(model, AMP_DTYPES[options.amp], device.type, options.channels_last)
    if options.compile:
        model.compile()
    cap = options.eval_batch_size or max(
        1, EVAL_BATCH_FACTOR * tproblem.batch_size // grad_accumulation
    )
    chunks = chunk_eval_loaders(tproblem, cap)
    step = TrainStep(optimizer, options, device, chunks)
    step.cost.setup_time = time.perf_counter() - start
    return step


def _check_amp(amp: str, device: torch.device, optimizer, grad_accumulation: int) -> None:
    if amp == "off":
        return
    if amp == "fp16" and closure_required(optimizer):
        raise ValueError(
            f"{type(optimizer).__name__} needs a closure in step(), but amp='fp16' steps "
            "through a GradScaler, which cannot pass one. Use amp='bf16' or amp='off'."
        )
    if amp == "fp16" and grad_accumulation != 1:
        raise ValueError(
            f"amp='fp16' does not combine with grad_accumulation={grad_accumulation}. Use "
            "amp='bf16', or grad_accumulation=1."
        )
    with warnings.catch_warnings():  # torch warns and disables autocast for unsupported dtypes
        warnings.simplefilter("ignore")
        with torch.autocast(device.type, dtype=AMP_DTYPES[amp]):
            enabled = torch.is_autocast_enabled(device.type)
    if not enabled:
        raise ValueError(
            f"amp={amp!r} is not supported on device {str(device)!r} (torch would silently "
            "run in float32). Use amp='off', or the other of 'bf16'/'fp16'."
        )


def _to_channels_last(value):
    if isinstance(value, torch.Tensor) and value.dim() == 4:
        return value.contiguous(memory_format=torch.channels_last)
    return value


def _to_float32(value):
    if isinstance(value, torch.Tensor):
        return value.float() if value.dtype in (torch.float16, torch.bfloat16) else value
    if isinstance(value, tuple | list):
        return type(value)(_to_float32(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_float32(v) for k, v in value.items()}
    return value


def _wrap_forward(model: torch.nn.Module, dtype, device_type: str, channels_last: bool) -> None:
    """Replace ``model.forward`` (on the instance) by autocast and layout conversion around it."""
    forward = model.forward

    @functools.wraps(forward)
    def wrapped(*args, **kwargs):
        if channels_last:
            args = tuple(_to_channels_last(a) for a in args)
        if dtype is None:
            return forward(*args, **kwargs)
        with torch.autocast(device_type, dtype=dtype):
            outputs = forward(*args, **kwargs)
        return _to_float32(outputs)

    model.forward = wrapped


def batch_independent_eval(tproblem) -> bool:
    """Whether a problem (instance or class) may be evaluated in chunks of any size.

    True when its evaluation loss is a mean of per-example terms that depend neither on the
    rest of the batch nor on random numbers (see the module docstring). A class attribute
    ``batch_independent_eval`` decides; else the registry's ``spec.batch_independent_eval``
    can say no; a yes from the registry's default is trusted only for problems that keep the
    base class's loss (a problem with its own loss must declare it).
    """
    cls = tproblem if isinstance(tproblem, type) else type(tproblem)
    declared = getattr(cls, "batch_independent_eval", None)  # a user class may declare it
    if declared is not None:
        return bool(declared)
    spec = getattr(cls, "spec", None)
    if spec is not None and (
        getattr(spec, "batch_independent_eval", True) is False or getattr(spec, "stateful", False)
    ):
        return False
    return all(
        getattr(cls, name, None) is getattr(TestProblem, name)
        for name in ("_loss_and_accuracy", "_compute_loss_and_accuracy", "_on_phase_start")
    )


def eval_chunk_size(n_examples: int, cap: int) -> int:
    """The largest divisor of ``n_examples`` that is at most ``cap``."""
    for n_chunks in range(max(1, -(-n_examples // cap)), n_examples + 1):
        if n_examples % n_chunks == 0:
            return n_examples // n_chunks
    return 1


def chunk_eval_loaders(tproblem, cap: int) -> dict[str, int | None]:
    """Evaluate the problem's eligible loaders in equal chunks of at most ``cap`` examples.

    Returns:
        Per evaluation split the chunk size, or ``None`` where the loader is left as it is.
    """
    data, chunks = tproblem.data, dict.fromkeys(_EVAL_SPLITS)
    if not batch_independent_eval(tproblem):
        return chunks
    loaders = data_loaders(data)
    for split in _EVAL_SPLITS:
        loader = loaders.get(split)
        if (
            not isinstance(loader, TensorBatchLoader)
            or loader.shuffle
            or loader is loaders.get("train")
            or not (loader.transform is None or type(loader.transform) in _DETERMINISTIC_TRANSFORMS)
        ):
            continue
        used = len(loader) * loader.batch_size  # exactly the examples DeepOBS evaluates
        size = eval_chunk_size(used, cap)
        if size != loader.batch_size:
            tensors = [t[:used] for t in loader.tensors]
            chunked = TensorBatchLoader(tensors, size, transform=loader.transform)
            replace_loader(data, split, chunked)
        chunks[split] = size
    return chunks


def data_loaders(data) -> dict:
    """The data set's loaders by split (``DataSet.loaders()``, else DeepOBS' attributes)."""
    if hasattr(data, "loaders"):
        return dict(data.loaders())
    return {
        split: getattr(data, f"_{split}_dataloader", None)
        for split in ("train", "train_eval", "valid", "test")
    }


def replace_loader(data, split: str, loader) -> None:
    """Use ``loader`` for ``split`` (``DataSet.replace_loader``, else DeepOBS' attribute)."""
    if hasattr(data, "replace_loader"):
        data.replace_loader(split, loader)
    else:
        setattr(data, f"_{split}_dataloader", loader)
