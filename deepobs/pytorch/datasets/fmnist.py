"""Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 28×28 grey-scale images of clothing, 10 classes.

Same format, sizes and splits as MNIST; files in ``<data_dir>/FashionMNIST/raw``.
"""

from __future__ import annotations

from deepobs.pytorch.datasets.mnist import mnist


class fmnist(mnist):
    """Fashion-MNIST with DeepOBS 1.2 splits, decoded once into memory.

    Args:
        batch_size: Mini-batch size of every loader.
        data_dir: The DeepOBS data directory (files in ``<data_dir>/FashionMNIST/raw``).
        seed: Seed of the data order; default derived from the run's seed.
        download: Download the files first if they are missing.
    """

    name = "fmnist"
    torchvision_name = "FashionMNIST"
