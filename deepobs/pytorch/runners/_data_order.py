"""The ``data_order`` training option: reshuffle every epoch, or replay one order per run.

* ``"reshuffle"`` (default): a new permutation of the training set every epoch (DeepOBS 1.2's
  PyTorch loaders).
* ``"fixed"``: one permutation per run, drawn from the run's seed and replayed every epoch:
  what the published DeepOBS TensorFlow baselines did (TF 1.x re-initialised its seeded
  shuffle to the same order each epoch). Use it to compare with those baselines.

Only the training order changes; evaluation is untouched and augmentation draws stay per step.
In-memory loaders (:class:`~deepobs.pytorch.datasets.TensorBatchLoader`) switch their own
order; a ``torch.utils.data.DataLoader`` gets a sampler that replays its sampler's first order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import DataLoader, RandomSampler, Sampler, SubsetRandomSampler

from deepobs.pytorch.datasets._loader import TensorBatchLoader
from deepobs.pytorch.runners._performance import data_loaders, replace_loader


class FixedOrderSampler(Sampler):
    """Yield the same indices, in the same order, on every pass."""

    def __init__(self, order: Sequence[int]) -> None:
        self.order = [int(i) for i in order]

    def __iter__(self) -> Iterator[int]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


def apply(tproblem, data_order: str, seed: int) -> None:
    """Set the training order of ``tproblem``'s training loader.

    Args:
        tproblem: A set-up test problem.
        data_order: ``"reshuffle"`` or ``"fixed"``.
        seed: The run's seed (draws a ``DataLoader``'s fixed order).

    Raises:
        ValueError: if ``"fixed"`` cannot be applied to the problem's training loader.
    """
    if data_order == "reshuffle":
        return
    loader = data_loaders(tproblem.data).get("train")
    if isinstance(loader, TensorBatchLoader):
        loader.set_data_order(data_order)
        return
    if isinstance(loader, DataLoader) and loader.batch_size is not None:
        sampler = loader.sampler
        if isinstance(sampler, RandomSampler | SubsetRandomSampler):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                order = list(iter(sampler))
            replace_loader(tproblem.data, "train", _rebuild(loader, FixedOrderSampler(order)))
        return  # a sequential sampler already replays one order
    raise ValueError(
        f"data_order={data_order!r} cannot be applied to {type(tproblem).__name__}'s training "
        f"loader ({type(loader).__name__}); it supports TensorBatchLoader and DataLoader with "
        "a random sampler. Use data_order='reshuffle'."
    )


def _rebuild(loader: DataLoader, sampler: Sampler) -> DataLoader:
    workers = loader.num_workers
    return DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        worker_init_fn=loader.worker_init_fn,
        persistent_workers=loader.persistent_workers if workers else False,
        prefetch_factor=loader.prefetch_factor if workers else None,
    )
