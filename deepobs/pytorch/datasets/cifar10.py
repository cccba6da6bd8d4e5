"""CIFAR-10 (Krizhevsky, 2009): 32×32 colour images, 10 classes.

Files: torchvision's ``<data_dir>/cifar-10-batches-py/{data_batch_1..5, test_batch}`` (Python
pickles, MD5-checked before reading). Training batches are augmented (crop, flip, colour
jitter; :mod:`deepobs.pytorch.datasets._augment`); all splits are normalised with the
data set's mean and standard deviation. Splits: 40,000 train, 10,000 valid, 10,000 train_eval
(from train, not augmented), 10,000 test.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from deepobs.pytorch.datasets._augment import Augment, Normalize
from deepobs.pytorch.datasets._image import ImageDataSet

#: Per-channel mean of the CIFAR-10 training images (DeepOBS 1.2), in [0, 1] units.
CIFAR10_MEAN = (0.49139968, 0.48215841, 0.44653091)
#: Per-channel standard deviation of the CIFAR-10 training images (DeepOBS 1.2).
CIFAR10_STD = (0.24703223, 0.24348513, 0.26158784)


class cifar10(ImageDataSet):
    """CIFAR-10 with DeepOBS 1.2 splits and augmentation, decoded once into memory.

    Args:
        batch_size: Mini-batch size of every loader.
        data_dir: The DeepOBS data directory (files in ``<data_dir>/cifar-10-batches-py``).
        seed: Seed of data order and augmentation; default derived from the run's seed.
        download: Download the files first if they are missing.
    """

    name = "cifar10"
    torchvision_name = "CIFAR10"
    num_classes = 10
    eval_size = 10_000
    expected_sizes = (50_000, 10_000)
    mean: ClassVar[tuple[float, ...]] = CIFAR10_MEAN
    std: ClassVar[tuple[float, ...]] = CIFAR10_STD
    #: Folder and file names of torchvision's layout (a test checks them against torchvision).
    folder: ClassVar[str] = "cifar-10-batches-py"
    file_names: ClassVar[dict[str, list[str]]] = {
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
    }
    #: Key of the labels in each pickle.
    label_key: ClassVar[str] = "labels"

    @classmethod
    def _files(cls, data_dir: Path) -> dict[str, list[Path]]:
        folder = data_dir / cls.folder
        return {split: [folder / n for n in names] for split, names in cls.file_names.items()}

    @classmethod
    def _checksums(cls, data_dir: Path) -> dict[Path, str]:
        tv = cls.torchvision_class()
        return {data_dir / cls.folder / name: md5 for name, md5 in tv.train_list + tv.test_list}

    @classmethod
    def _fetch(cls, data_dir: Path) -> None:
        # One archive holds both splits; torchvision checks its MD5 and unpacks it.
        cls.torchvision_class()(str(data_dir), train=False, download=True)

    @classmethod
    def _read_pickle(cls, path: Path) -> tuple[np.ndarray, list[int]]:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        return np.asarray(entry["data"], dtype=np.uint8), list(entry[cls.label_key])

    @classmethod
    def _read_split(cls, data_dir: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [cls._parse(data_dir, p, cls._read_pickle) for p in cls._files(data_dir)[split]]
        images = np.concatenate([data for data, _ in parts]).reshape(-1, 3, 32, 32)
        labels = np.concatenate([np.asarray(lab, dtype=np.int64) for _, lab in parts])
        return torch.from_numpy(images), torch.from_numpy(labels)  # rows are CHW already

    def _transforms(self):
        return Augment(self.mean, self.std, flip=True), Normalize(self.mean, self.std)
