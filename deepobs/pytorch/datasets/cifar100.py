"""CIFAR-100 (Krizhevsky, 2009): 32×32 colour images, 100 (fine) classes.

Files: torchvision's ``<data_dir>/cifar-100-python/{train, test}``. Same augmentation, splits
and sizes as CIFAR-10, with CIFAR-100's own normalisation constants.
"""

from __future__ import annotations

from typing import ClassVar

from deepobs.pytorch.datasets.cifar10 import cifar10

#: Per-channel mean of the CIFAR-100 training images (DeepOBS 1.2), in [0, 1] units.
CIFAR100_MEAN = (0.50707516, 0.48654887, 0.44091784)
#: Per-channel standard deviation of the CIFAR-100 training images (DeepOBS 1.2).
CIFAR100_STD = (0.26733429, 0.25643846, 0.27615047)


class cifar100(cifar10):
    """CIFAR-100 (fine labels) with DeepOBS 1.2 splits and augmentation, in memory.

    Args:
        batch_size: Mini-batch size of every loader.
        data_dir: The DeepOBS data directory (files in ``<data_dir>/cifar-100-python``).
        seed: Seed of data order and augmentation; default derived from the run's seed.
        download: Download the files first if they are missing.
    """

    name = "cifar100"
    torchvision_name = "CIFAR100"
    num_classes = 100
    mean: ClassVar[tuple[float, ...]] = CIFAR100_MEAN
    std: ClassVar[tuple[float, ...]] = CIFAR100_STD
    folder: ClassVar[str] = "cifar-100-python"
    file_names: ClassVar[dict[str, list[str]]] = {"train": ["train"], "test": ["test"]}
    label_key: ClassVar[str] = "fine_labels"
