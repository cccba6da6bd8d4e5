"""An in-memory batch loader: a whole split as tensors, batches cut with index ops.

For data sets that fit in memory this replaces ``torch.utils.data.DataLoader`` with
per-example Python work. It yields lists of tensors, drops the incomplete last batch
(as every DeepOBS loader does), shuffles with its own ``torch.Generator`` and can apply a
batched transform (augmentation) to each batch.

Data order of a shuffled loader (``data_order``): ``"reshuffle"`` draws a new permutation on
every pass (DeepOBS 1.2's PyTorch loaders); ``"fixed"`` draws one permutation from the
loader's seed and replays it on every pass (what the published TensorFlow baselines did: TF 1.x
re-initialised its seeded shuffle each epoch). The fixed order is the reshuffled order's first
pass. Augmentation draws stay per batch either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch.utils.data import TensorDataset

BatchTransform = Callable[[list[torch.Tensor], torch.Generator], list[torch.Tensor]]


class TensorBatchLoader:
    """Iterate over mini-batches of in-memory tensors.

    Args:
        tensors: Tensors with equal first dimension (e.g. ``[images, labels]``).
        batch_size: Examples per batch; the incomplete last batch is dropped.
        shuffle: Draw a fresh permutation for every pass.
        seed: Seed of the loader's own generators (data order and augmentation).
        transform: Optional ``f(batch, generator) -> batch`` applied to every batch.
        data_order: ``"reshuffle"`` (a new permutation per pass) or ``"fixed"`` (one
            permutation, replayed); only used with ``shuffle``.
    """

    DATA_ORDERS = ("reshuffle", "fixed")

    def __init__(
        self,
        tensors: Sequence[torch.Tensor],
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        transform: BatchTransform | None = None,
        data_order: str = "reshuffle",
    ) -> None:
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ValueError(f"All tensors must have the same length, got lengths {sorted(sizes)}.")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        self.tensors = list(tensors)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.transform = transform
        self._seed = int(seed)
        self.generator = torch.Generator().manual_seed(self._seed)
        self.transform_generator = self._make_transform_generator()
        self._fixed_order: torch.Tensor | None = None
        self.data_order = "reshuffle"
        self.set_data_order(data_order)

    def set_data_order(self, data_order: str) -> None:
        """Switch between ``"reshuffle"`` and ``"fixed"`` (see the module docstring).

        Raises:
            ValueError: for another value.
        """
        if data_order not in self.DATA_ORDERS:
            raise ValueError(
                f"data_order must be one of {list(self.DATA_ORDERS)}, got {data_order!r}."
            )
        self.data_order = data_order
        self._fixed_order = None

    def _permutation(self) -> torch.Tensor:
        if self.data_order == "reshuffle":
            return torch.randperm(self.num_examples, generator=self.generator)
        if self._fixed_order is None:
            seeded = torch.Generator().manual_seed(self._seed)
            self._fixed_order = torch.randperm(self.num_examples, generator=seeded)
        return self._fixed_order

    @property
    def num_examples(self) -> int:
        """Number of examples in the split (before dropping the last batch)."""
        return len(self.tensors[0])

    @property
    def device(self) -> torch.device:
        """Device the tensors live on."""
        return self.tensors[0].device

    @property
    def dataset(self) -> TensorDataset:
        """The split as a ``TensorDataset`` (for code that asks ``len(loader.dataset)``)."""
        return TensorDataset(*self.tensors)

    def __len__(self) -> int:
        return self.num_examples // self.batch_size

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        n_batches, bs = len(self), self.batch_size
        if self.shuffle:
            order = self._permutation().to(self.device, non_blocking=True)
        for i in range(n_batches):
            if self.shuffle:
                idx = order[i * bs : (i + 1) * bs]
                batch = [t.index_select(0, idx) for t in self.tensors]
            else:
                batch = [t[i * bs : (i + 1) * bs] for t in self.tensors]
            if self.transform is not None:
                batch = self.transform(batch, self.transform_generator)
            yield batch

    def to(self, device: torch.device | str) -> TensorBatchLoader:
        """Move the tensors (and the augmentation generator) to ``device``; returns self."""
        device = torch.device(device)
        if device != self.device:
            self.tensors = [t.to(device) for t in self.tensors]
            self.transform_generator = self._make_transform_generator()
        return self

    def _make_transform_generator(self) -> torch.Generator:
        # Augmentation draws random numbers on the data's device, so its generator lives there.
        gen = torch.Generator(device=self.tensors[0].device)
        return gen.manual_seed(self._seed + 1)
