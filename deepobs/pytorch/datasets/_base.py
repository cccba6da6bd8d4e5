"""The ``DataSet`` base class: four loaders (train, train_eval, valid, test) for one problem.

Subclass it to make your own data set, as in DeepOBS 1.2: implement
``_make_train_and_valid_dataloader`` (returning both) and ``_make_test_dataloader``;
``_make_train_eval_dataloader`` has a default. DeepOBS' helpers are here too:
``_make_dataloader(dataset, sampler=None, shuffle=False)`` and
``_make_train_and_valid_dataloader_helper(train_dataset, valid_dataset)``, which carves a
fixed validation set of ``self._train_eval_size`` examples (set it before calling
``super().__init__``) out of the training data. The loaders are also reachable without the
leading underscore (``data.train_loader`` ...), which is the documented modern way; use
:meth:`DataSet.replace_loader` to swap one.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Iterable
from pathlib import Path

import torch
from torch.utils import data as tdata

from deepobs.pytorch import config
from deepobs.pytorch.datasets._loader import TensorBatchLoader

#: The four loaders of a data set, by split name.
SPLITS = ("train", "train_eval", "valid", "test")

#: Seed of every fixed split (train/valid, train_eval subset). It never depends on the run's
#: seed, so all runs of a problem share one validation set.
SPLIT_SEED = 0


def check_batch_size(batch_size: object) -> int:
    """Return ``batch_size`` as an int, or raise ``ValueError`` if it is not a positive integer."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(
            f"batch_size must be a positive integer, got {batch_size!r}. "
            "Pass e.g. batch_size=128, or leave it out to use the problem's default."
        )
    return batch_size


def default_data_seed() -> int:
    """Seed for data order: derived from torch's seed without consuming random numbers.

    The runners call ``torch.manual_seed(random_seed)`` before building a problem, so the data
    order follows the run's seed while model initialisation draws from an untouched stream.
    """
    return (torch.initial_seed() + 7919) % (2**63)


def fixed_permutation(n: int, seed: int = SPLIT_SEED) -> torch.Tensor:
    """Return a permutation of ``range(n)`` that depends only on ``seed``."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


class DataSet(abc.ABC):
    """Base class of the DeepOBS data sets.

    Args:
        batch_size: Mini-batch size of every loader (the last, incomplete batch is dropped).
        data_dir: Where the files live; default :func:`deepobs.pytorch.config.get_data_dir`.
        seed: Seed of the data order and augmentation; default derived from the run's seed.

    Raises:
        ValueError: if ``batch_size`` is not a positive integer, or larger than a split.
    """

    #: Short name (``"mnist"``, ``"quadratic"``); used for messages and ``deepobs list``.
    name: str = "dataset"
    #: Whether the data lives in files (False: generated on the fly, always available).
    requires_files: bool = True

    @classmethod
    def is_available(cls, data_dir: str | os.PathLike | None = None) -> bool:
        """Cheap check whether this data set's files are present under ``data_dir``.

        File-backed data sets override it; the default cannot know and says True.
        """
        return True

    def __init__(
        self,
        batch_size: int,
        *,
        data_dir: str | os.PathLike | None = None,
        seed: int | None = None,
    ) -> None:
        self._batch_size = check_batch_size(batch_size)
        self._data_dir = config.resolve_data_dir(data_dir)
        self._seed = default_data_seed() if seed is None else int(seed)
        if isinstance(getattr(self, "_name", None), str):  # DeepOBS 1.2 subclasses set _name
            self.name = self._name
        self._pin_memory = "cuda" in str(config.get_default_device())
        self._num_workers = config.configured_num_workers() or 0
        self._train_indices: list[int] | None = None
        self._train_dataloader, self._valid_dataloader = self._make_train_and_valid_dataloader()
        self._train_eval_dataloader = self._make_train_eval_dataloader()
        self._test_dataloader = self._make_test_dataloader()
        self._check_not_empty()

    # ------------------------------------------------------------------ to implement
    @abc.abstractmethod
    def _make_train_and_valid_dataloader(self) -> tuple[Iterable, Iterable]:
        """Return the training loader and the validation loader."""

    @abc.abstractmethod
    def _make_test_dataloader(self) -> Iterable:
        """Return the test loader."""

    def _make_train_eval_dataloader(self) -> Iterable:
        """Return the loader used to evaluate on training data.

        With ``self._train_eval_size`` set and a training loader over a torch dataset, a fixed
        subset of that many training examples (never validation ones); otherwise the training
        loader itself.
        """
        size = getattr(self, "_train_eval_size", None)
        dataset = getattr(self._train_dataloader, "dataset", None)
        if not isinstance(size, int) or dataset is None:
            return self._train_dataloader
        indices = self._train_indices
        if indices is None:
            indices = fixed_permutation(len(dataset)).tolist()
        return self._make_dataloader(dataset, sampler=indices[:size])

    # ------------------------------------------------------------------ public
    @property
    def batch_size(self) -> int:
        """Mini-batch size."""
        return self._batch_size

    @property
    def data_dir(self) -> Path:
        """Directory this data set reads from."""
        return self._data_dir

    @property
    def train_loader(self) -> Iterable:
        """Training batches (shuffled, augmented where the problem augments)."""
        return self._train_dataloader

    @property
    def train_eval_loader(self) -> Iterable:
        """Batches of training data for evaluation (no augmentation, fixed)."""
        return self._train_eval_dataloader

    @property
    def valid_loader(self) -> Iterable:
        """Validation batches, carved from the training split."""
        return self._valid_dataloader

    @property
    def test_loader(self) -> Iterable:
        """Test batches (the official test split)."""
        return self._test_dataloader

    def replace_loader(self, split: str, loader: Iterable) -> None:
        """Use ``loader`` for ``split`` (``train``, ``train_eval``, ``valid`` or ``test``).

        Raises:
            ValueError: for an unknown split.
        """
        if split not in SPLITS:
            raise ValueError(f"Unknown split {split!r}; valid splits are {', '.join(SPLITS)}.")
        setattr(self, f"_{split}_dataloader", loader)

    def loaders(self) -> dict[str, Iterable]:
        """Return the four loaders by split name."""
        return {
            "train": self._train_dataloader,
            "train_eval": self._train_eval_dataloader,
            "valid": self._valid_dataloader,
            "test": self._test_dataloader,
        }

    def to(self, device: torch.device | str) -> DataSet:
        """Move in-memory loaders to ``device`` (file-backed loaders are left alone)."""
        for loader in self.loaders().values():
            if isinstance(loader, TensorBatchLoader):
                loader.to(device)
        return self

    # ------------------------------------------------------------------ helpers
    def _make_dataloader(
        self, dataset: tdata.Dataset, sampler: Iterable | None = None, shuffle: bool = False
    ) -> tdata.DataLoader:
        """A ``torch.utils.data.DataLoader`` over ``dataset`` as DeepOBS builds them.

        Batches of ``batch_size``, the incomplete last batch dropped, pinned memory on CUDA
        and the workers set by :func:`deepobs.pytorch.config.set_num_workers` (default 0).
        With ``shuffle`` the order follows this data set's seed.
        """
        generator = torch.Generator().manual_seed(self._seed) if shuffle else None
        return tdata.DataLoader(
            dataset,
            batch_size=self._batch_size,
            shuffle=shuffle,
            sampler=sampler,
            drop_last=True,
            pin_memory=self._pin_memory,
            num_workers=self._num_workers,
            generator=generator,
        )

    def _make_train_eval_split_sampler(
        self, train_dataset: tdata.Dataset
    ) -> tuple[tdata.Sampler, tdata.Sampler]:
        """Samplers of the training part and the validation part of ``train_dataset``.

        The validation part is ``self._train_eval_size`` examples of a permutation that
        depends only on :data:`SPLIT_SEED`, so every run of a problem validates on the same
        examples; the training part is sampled in a random order that follows the seed.

        Raises:
            ValueError: if ``_train_eval_size`` is missing or not smaller than the data set.
        """
        size = getattr(self, "_train_eval_size", None)
        n = len(train_dataset)
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size < n:
            raise ValueError(
                f"self._train_eval_size must be an integer between 1 and {n - 1} (the training "
                f"data has {n} examples), got {size!r}. Set it before super().__init__()."
            )
        order = fixed_permutation(n).tolist()
        valid_indices, self._train_indices = order[:size], order[size:]
        generator = torch.Generator().manual_seed(self._seed)
        return (
            tdata.SubsetRandomSampler(self._train_indices, generator=generator),
            tdata.SubsetRandomSampler(valid_indices, generator=generator),
        )

    def _make_train_and_valid_dataloader_helper(
        self, train_dataset: tdata.Dataset, valid_dataset: tdata.Dataset
    ) -> tuple[tdata.DataLoader, tdata.DataLoader]:
        """Training and validation loaders split from the same examples (DeepOBS 1.2).

        ``valid_dataset`` holds the same examples as ``train_dataset`` (typically without
        augmentation); ``self._train_eval_size`` of them become the validation set.
        """
        train_sampler, valid_sampler = self._make_train_eval_split_sampler(train_dataset)
        return (
            self._make_dataloader(train_dataset, sampler=train_sampler),
            self._make_dataloader(valid_dataset, sampler=valid_sampler),
        )

    def _tensor_loader(self, tensors, *, shuffle=False, transform=None, offset=0):
        """Build a :class:`TensorBatchLoader` with this data set's batch size and seed."""
        return TensorBatchLoader(
            tensors,
            self._batch_size,
            shuffle=shuffle,
            seed=self._seed + 2 * offset,
            transform=transform,
        )

    def _check_not_empty(self) -> None:
        for split, loader in self.loaders().items():
            try:
                n_batches = len(loader)
            except TypeError:  # an iterable without a length: nothing to check
                continue
            if n_batches == 0:
                size = getattr(loader, "num_examples", None)
                if size is None:  # a DataLoader: its sampler knows the split's size
                    size = len(getattr(loader, "sampler", getattr(loader, "dataset", [])))
                raise ValueError(
                    f"batch_size={self._batch_size} is larger than the {split} split of "
                    f"{self.name} ({size} examples), so it has no complete batch. "
                    f"Use a batch size of at most {size}."
                )
