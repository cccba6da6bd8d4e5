"""MNIST (LeCun et al., 1998): 28×28 grey-scale handwritten digits, 10 classes.

Files: torchvision's layout, ``<data_dir>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``
(the unpacked idx files next to the downloaded ``.gz`` archives). Pixels are scaled to [0, 1];
there is no augmentation. Splits: 50,000 train, 10,000 valid, 10,000 train_eval (from train),
10,000 test (rule in :mod:`deepobs.pytorch.datasets._image`).
"""

from __future__ import annotations

from pathlib import Path

import torch

from deepobs.pytorch.datasets._augment import UnitScale
from deepobs.pytorch.datasets._image import ImageDataSet

_PREFIX = {"train": "train", "test": "t10k"}


class mnist(ImageDataSet):
    """MNIST with DeepOBS 1.2 splits, decoded once into memory.

    Args:
        batch_size: Mini-batch size of every loader.
        data_dir: The DeepOBS data directory (files in ``<data_dir>/MNIST/raw``).
        seed: Seed of the data order; default derived from the run's seed.
        download: Download the files first if they are missing.
    """

    name = "mnist"
    torchvision_name = "MNIST"
    num_classes = 10
    eval_size = 10_000
    expected_sizes = (60_000, 10_000)

    @classmethod
    def _raw_folder(cls, data_dir: Path) -> Path:
        return data_dir / cls.torchvision_name / "raw"

    @classmethod
    def _files(cls, data_dir: Path) -> dict[str, list[Path]]:
        raw = cls._raw_folder(data_dir)
        return {
            split: [raw / f"{prefix}-images-idx3-ubyte", raw / f"{prefix}-labels-idx1-ubyte"]
            for split, prefix in _PREFIX.items()
        }

    @classmethod
    def _fetch(cls, data_dir: Path) -> None:
        # Fetches all four archives (checking their MD5) and unpacks them into raw/.
        cls.torchvision_class()(str(data_dir), train=True, download=True)

    @classmethod
    def _read_split(cls, data_dir: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        from torchvision.datasets.mnist import read_image_file, read_label_file

        image_file, label_file = cls._files(data_dir)[split]
        images = cls._parse(data_dir, image_file, lambda p: read_image_file(str(p)))
        labels = cls._parse(data_dir, label_file, lambda p: read_label_file(str(p)))
        return images.unsqueeze(1), labels  # [N, 1, 28, 28] uint8, [N] int64

    def _transforms(self):
        return UnitScale(), UnitScale()
