"""Data-parallel runs under ``torchrun``: one training run split over K processes.

Start one run on K GPUs of one machine (or K CPU processes)::

    torchrun --standalone --nproc_per_node=K -m deepobs run cifar10_3c3d \
        --optimizer torch.optim.SGD --hp lr=0.05

Each process is one *rank*. The run keeps the problem's **global** batch size ``B`` (it must be
divisible by ``K``); every rank builds the same problem with the same seeds, so all ranks draw
the same data permutation and augmentation, and each rank keeps rows ``[r*B/K, (r+1)*B/K)`` of
every global batch. Gradients are averaged by :class:`~torch.nn.parallel.DistributedDataParallel`
and every batch loss and accuracy is averaged over the ranks before anyone sees it, so the
curves, the divergence check and closure-based optimizers see the global values: the curves
match a one-process run with the same batch size up to float rounding. Only rank 0 writes
results, checkpoints and TensorBoard logs.

* Backend: ``nccl`` on CUDA (rank ``r`` uses ``cuda:LOCAL_RANK``), ``gloo`` on CPU.
* Batch norm: on CUDA the model's batch-norm layers become ``SyncBatchNorm``, which normalises
  over the global batch as one process would; on CPU they normalise over each rank's rows
  (rank 0's running statistics are broadcast).
* File-backed data sets (``DataLoader``, e.g. ImageNet): each rank loads the whole global batch
  and keeps its rows. The data order equals a one-process run, at the price of K times the
  decoding work; a ``DistributedSampler`` would be faster but changes the order.

The environment (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``) is read when a run starts, never at
import.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataParallel:
    """This process's place in a data-parallel run (world size 1: a plain run)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """Whether this process writes results (rank 0)."""
        return self.rank == 0

    @property
    def meta(self) -> dict:
        """What a result records about the parallel set-up."""
        return {"world_size": self.world_size, "distributed_backend": self.backend}

    def prepare(self, tproblem):
        """Shard the problem's loaders and wrap its model for data-parallel training."""
        if self.world_size == 1:
            return tproblem
        from deepobs.pytorch.runners._performance import data_loaders, replace_loader

        for split, loader in data_loaders(tproblem.data).items():
            replace_loader(tproblem.data, split, ShardedLoader(loader, self.rank, self.world_size))
        model = tproblem.model
        if tproblem.device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        device_ids = [tproblem.device.index] if tproblem.device.type == "cuda" else None
        tproblem.model = nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
        compute = tproblem._compute_loss_and_accuracy

        def global_loss_and_accuracy(batch, reduction, add_regularization):
            loss, accuracy = compute(batch, reduction, add_regularization)
            if reduction != "mean":  # per-example losses stay this rank's rows
                return loss, accuracy
            return _with_global_value(loss), (
                None if accuracy is None else _with_global_value(accuracy)
            )

        tproblem._compute_loss_and_accuracy = global_loss_and_accuracy
        tproblem.data_parallel = self
        return tproblem


class ShardedLoader:
    """Yield this rank's rows of every batch of ``loader`` (other attributes pass through)."""

    def __init__(self, loader, rank: int, world_size: int) -> None:
        self.loader, self.rank, self.world_size = loader, rank, world_size

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        for batch in self.loader:
            rows = len(batch[0]) // self.world_size
            yield [t[self.rank * rows : (self.rank + 1) * rows] for t in batch]

    def __getattr__(self, name: str):
        if name == "loader":  # not set yet (e.g. during unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)


class _GlobalMean(torch.autograd.Function):
    """Value: the mean of ``local`` over all ranks. Gradient: that of ``local`` (DDP averages)."""

    @staticmethod
    def forward(ctx, local: torch.Tensor) -> torch.Tensor:
        total = local.detach().clone()
        dist.all_reduce(total)
        return total / dist.get_world_size()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


def _with_global_value(local: torch.Tensor) -> torch.Tensor:
    return _GlobalMean.apply(local)


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a ``DistributedDataParallel`` wrapper (else the model itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def is_main(tproblem) -> bool:
    """Whether this process writes files for ``tproblem`` (always, outside torchrun)."""
    parallel = getattr(tproblem, "data_parallel", None)
    return parallel is None or parallel.is_main


def environment() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from the torchrun variables; ``(0, 1, 0)`` without."""
    try:
        values = [
            int(os.environ.get(k, d))
            for k, d in (("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", "0"))
        ]
    except ValueError as err:
        raise ValueError(
            f"Invalid torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK must be integers): "
            f"{err}. Start data-parallel runs with torchrun, or unset these variables."
        ) from err
    return values[0], values[1], values[2]


@contextlib.contextmanager
def join(args) -> Iterator[DataParallel]:
    """Join the torchrun process group for one run; a no-op outside torchrun.

    Sets ``args.device`` to this rank's GPU on CUDA. The group is left at the end unless it
    existed before (a caller's own set-up).

    Raises:
        ValueError: if the batch size is not divisible by the world size, or the device
            cannot be used data-parallel.
    """
    rank, world_size, local_rank = environment()
    if world_size <= 1:
        yield DataParallel()
        return
    if args.batch_size % world_size:
        raise ValueError(
            f"Batch size {args.batch_size} is not divisible by the {world_size} processes of "
            f"this torchrun job. The batch size is global (split over the processes): choose "
            f"--nproc_per_node to divide it, or pass a divisible --batch-size."
        )
    device = torch.device(args.device)
    if device.type not in ("cuda", "cpu"):
        raise ValueError(f"Data-parallel runs need --device cuda or cpu, got {args.device!r}.")
    if device.type == "cuda":
        args.device = f"cuda:{local_rank}"
        torch.cuda.set_device(local_rank)
    owns_group = not dist.is_initialized()
    if owns_group:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    backend = dist.get_backend()
    logger.info("data-parallel run: rank %d of %d (%s)", rank, world_size, backend)
    try:
        yield DataParallel(rank, world_size, local_rank, backend)
    finally:
        if owns_group:
            dist.destroy_process_group()
