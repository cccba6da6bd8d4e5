"""SVHN (Netzer et al., 2011): 32×32 colour images of house-number digits, 10 classes.

Files: torchvision's ``train_32x32.mat`` and ``test_32x32.mat`` (MD5-checked before reading)
in ``<data_dir>/svhn/``; the "extra" set is not used. Label 10 (digit 0) becomes 0. Training
batches are augmented like CIFAR's but never flipped (digits are not mirror-symmetric).
Splits: 47,225 train, 26,032 valid, 26,032 train_eval (from train), 26,032 test. Reading the
``.mat`` files needs SciPy.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from deepobs.pytorch.datasets._augment import Augment, Normalize
from deepobs.pytorch.datasets._image import ImageDataSet

#: Per-channel mean of the SVHN training images (DeepOBS 1.2), in [0, 1] units.
SVHN_MEAN = (0.4376821, 0.4437697, 0.47280442)
#: Per-channel standard deviation of the SVHN training images (DeepOBS 1.2).
SVHN_STD = (0.19803012, 0.20101562, 0.19703614)


class svhn(ImageDataSet):
    """SVHN (train and test sets) with DeepOBS 1.2 splits and augmentation, in memory.

    Args:
        batch_size: Mini-batch size of every loader.
        data_dir: The DeepOBS data directory (files in ``<data_dir>/svhn``).
        seed: Seed of data order and augmentation; default derived from the run's seed.
        download: Download the files first if they are missing.
    """

    name = "svhn"
    torchvision_name = "SVHN"
    num_classes = 10
    eval_size = 26_032
    expected_sizes = (73_257, 26_032)
    mean: ClassVar[tuple[float, ...]] = SVHN_MEAN
    std: ClassVar[tuple[float, ...]] = SVHN_STD
    #: Sub-folder of the data directory (torchvision puts the files directly in its root).
    folder: ClassVar[str] = "svhn"
    #: File names of torchvision's layout (a test checks them against torchvision).
    file_names: ClassVar[dict[str, str]] = {"train": "train_32x32.mat", "test": "test_32x32.mat"}

    @classmethod
    def _files(cls, data_dir: Path) -> dict[str, list[Path]]:
        return {split: [data_dir / cls.folder / n] for split, n in cls.file_names.items()}

    @classmethod
    def _checksums(cls, data_dir: Path) -> dict[Path, str]:
        split_list = cls.torchvision_class().split_list
        return {data_dir / cls.folder / split_list[s][1]: split_list[s][2] for s in cls.file_names}

    @classmethod
    def _fetch(cls, data_dir: Path) -> None:
        for split in cls.file_names:  # torchvision checks each file's MD5
            cls.torchvision_class()(str(data_dir / cls.folder), split=split, download=True)

    @staticmethod
    def _read_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
        import scipy.io

        mat = scipy.io.loadmat(str(path))
        images = np.ascontiguousarray(np.transpose(mat["X"], (3, 2, 0, 1)))  # HWCN -> NCHW
        labels = np.asarray(mat["y"], dtype=np.int64).reshape(-1)
        return images.astype(np.uint8, copy=False), np.where(labels == 10, 0, labels)

    @classmethod
    def _read_split(cls, data_dir: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            import scipy.io  # noqa: F401
        except ImportError as err:
            raise ImportError("Reading SVHN needs SciPy: pip install scipy") from err
        (path,) = cls._files(data_dir)[split]
        images, labels = cls._parse(data_dir, path, cls._read_mat)
        return torch.from_numpy(images), torch.from_numpy(labels)

    def _transforms(self):
        return Augment(self.mean, self.std, flip=False), Normalize(self.mean, self.std)
