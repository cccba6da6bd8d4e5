"""Shared machinery of the file-backed image data sets (ImageNet, Food-101).

These data sets are too large for memory: images are decoded from JPEG files per batch by
``torch.utils.data.DataLoader`` workers (:func:`deepobs.pytorch.config.get_num_workers`,
pinned memory when the default device is CUDA).

Preprocessing (ImageNet in DeepOBS, reference §4.4): decode to RGB → bilinear resize of the
shorter side to 256 (aspect ratio kept) → training: centre 256×256 crop, random 224×224 crop,
random horizontal flip; evaluation: centre 224×224 crop → floats in [0, 1] → per-image
standardisation ``(x - mean) / max(std, 1 / sqrt(N))`` over all ``N = 3·224·224`` values.
PIL's resize is antialiased, TF's was not (a small difference in the pixels).

Splits follow the rule of the in-memory image data sets (``split_indices`` in
:mod:`deepobs.pytorch.datasets._image`): ``valid`` is a fixed, seed-independent subset of
the training files of the size of the official test split, ``train_eval`` a fixed subset of
the rest (evaluation preprocessing), ``test`` the official test split. Random crops and flips
use torch's global generator in the main process (``num_workers=0``), else per-worker seeds
derived from the data set's seed.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Sequence
from typing import ClassVar

import torch
from torch.utils.data import DataLoader, Dataset

from deepobs.pytorch import config
from deepobs.pytorch.datasets._base import DataSet
from deepobs.pytorch.datasets._image import SplitIndices, split_indices

#: Shorter image side after the aspect-preserving resize.
RESIZE_SIZE = 256
#: Side of the square crop fed to the network.
CROP_SIZE = 224


def standardize_image(image: torch.Tensor) -> torch.Tensor:
    """TF's ``per_image_standardization`` of one image ``[C, H, W]``."""
    std = image.std(unbiased=False).clamp(min=1.0 / math.sqrt(image.numel()))
    return (image - image.mean()) / std


def train_transform() -> Callable:
    """PIL image -> augmented, standardised ``[3, 224, 224]`` float tensor."""
    from torchvision import transforms  # lazy: torchvision costs ~1 s to import

    return transforms.Compose(
        [
            transforms.Resize(RESIZE_SIZE),
            transforms.CenterCrop(RESIZE_SIZE),
            transforms.RandomCrop(CROP_SIZE),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            standardize_image,
        ]
    )


def eval_transform() -> Callable:
    """PIL image -> centre-cropped, standardised ``[3, 224, 224]`` float tensor."""
    from torchvision import transforms  # lazy: torchvision costs ~1 s to import

    return transforms.Compose(
        [
            transforms.Resize(RESIZE_SIZE),
            transforms.CenterCrop(CROP_SIZE),
            transforms.ToTensor(),
            standardize_image,
        ]
    )


class TransformedSubset(Dataset):
    """The examples ``indices`` of ``dataset`` (which yields ``(image, label)``), transformed.

    Args:
        dataset: Indexable data set of ``(PIL image, int label)`` pairs.
        indices: Which of its examples to use (``None``: all).
        transform: Applied to each image.
    """

    def __init__(self, dataset, indices: Sequence[int] | None, transform: Callable) -> None:
        self.dataset = dataset
        self.indices = list(range(len(dataset))) if indices is None else list(indices)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        image, label = self.dataset[self.indices[i]]
        return self.transform(image), label


class FileImageDataSet(DataSet):
    """Base of the file-backed image data sets; subclasses implement :meth:`_raw_splits`."""

    #: Number of classes (subclasses with a fixed number; ImageNet reads its folders).
    num_classes: int = 0
    #: DeepOBS' ``train_eval_size``: the size of the official test split.
    eval_size: ClassVar[int] = 0

    @abc.abstractmethod
    def _raw_splits(self) -> tuple[Dataset, Dataset]:
        """Return the raw training and test data sets (PIL images, int labels)."""

    @property
    def split_indices(self) -> SplitIndices:
        """Indices of ``train``, ``valid`` and ``train_eval`` in the raw training split."""
        return self._split_indices

    def _loader(self, dataset: Dataset, *, shuffle: bool = False, offset: int = 0) -> DataLoader:
        workers = config.get_num_workers()
        generator = torch.Generator().manual_seed(self._seed + 2 * offset)
        # Workers restart on every pass (seconds, against hours per ImageNet epoch): persistent
        # workers of four loaders would each keep a copy of the file list in memory.
        return DataLoader(
            dataset,
            batch_size=self._batch_size,
            shuffle=shuffle,
            drop_last=True,
            num_workers=workers,
            pin_memory=config.get_default_device().startswith("cuda"),
            generator=generator,
        )

    def _make_train_and_valid_dataloader(self):
        raw_train, self._raw_test = self._raw_splits()
        idx = self._split_indices = split_indices(len(raw_train), self.eval_size)
        self._train_eval_set = TransformedSubset(
            raw_train, idx.train_eval.tolist(), eval_transform()
        )
        train = TransformedSubset(raw_train, idx.train.tolist(), train_transform())
        valid = TransformedSubset(raw_train, idx.valid.tolist(), eval_transform())
        return self._loader(train, shuffle=True), self._loader(valid, offset=1)

    def _make_train_eval_dataloader(self):
        return self._loader(self._train_eval_set, offset=2)

    def _make_test_dataloader(self):
        return self._loader(TransformedSubset(self._raw_test, None, eval_transform()), offset=3)
