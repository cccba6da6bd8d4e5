"""Food-101 (Bossard, Guillaumin & Van Gool, ECCV 2014): 101 dishes, 1,000 images each.

Files: torchvision's ``Food101`` layout, ``<data_dir>/food-101/{images,meta}`` (the 5 GB
archive, MD5-checked by torchvision). Downloaded only on request: ``deepobs download
food101`` or ``food101(..., download=True)``. Splits by the rule of the other image data
sets: ``valid`` = 25,250 fixed images of the official training split (the size of the test
split), ``train`` = the other 50,500, ``train_eval`` = 25,250 fixed images of ``train``,
``test`` = the official 25,250 test images. ImageNet-style preprocessing (random crops and
flips for training, centre crops for evaluation):
:mod:`deepobs.pytorch.datasets._image_folder`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from torch.utils.data import Dataset

from deepobs.pytorch import config
from deepobs.pytorch.datasets._errors import DataFileError
from deepobs.pytorch.datasets._image import download_command
from deepobs.pytorch.datasets._image_folder import FileImageDataSet

logger = logging.getLogger(__name__)

#: Folder that torchvision unpacks into the data directory.
FOOD101_FOLDER = "food-101"
#: Images per split of the official files.
FOOD101_SIZES = {"train": 75_750, "test": 25_250}


class food101(FileImageDataSet):
    """Food-101 with ImageNet-style preprocessing (see the module docstring).

    Args:
        batch_size: Mini-batch size of every loader (incomplete last batches are dropped).
        data_dir: The DeepOBS data directory (files in ``<data_dir>/food-101``).
        seed: Seed of data order and augmentation; default derived from the run's seed.
        download: Download the files first if they are missing.

    Raises:
        FileNotFoundError: if the files are missing (the message gives the download command).
        ValueError: for a bad batch size.
    """

    name = "food101"
    num_classes = 101
    eval_size = FOOD101_SIZES["test"]

    def __init__(
        self,
        batch_size: int,
        *,
        data_dir: str | os.PathLike | None = None,
        seed: int | None = None,
        download: bool = False,
    ) -> None:
        self._download_first = bool(download)
        super().__init__(batch_size, data_dir=data_dir, seed=seed)

    @classmethod
    def is_available(cls, data_dir: str | os.PathLike | None = None) -> bool:
        """Whether the unpacked files are present (their images are not checked)."""
        folder = config.resolve_data_dir(data_dir) / FOOD101_FOLDER
        meta = folder / "meta"
        return (folder / "images").is_dir() and all(
            (meta / f"{split}.json").is_file() for split in FOOD101_SIZES
        )

    @classmethod
    def download(cls, data_dir: str | os.PathLike | None = None) -> Path:
        """Download and unpack Food-101 with torchvision (kept if already present).

        Returns:
            The data directory.

        Raises:
            RuntimeError: if the download fails (no network, a server error, a bad checksum).
        """
        root = config.resolve_data_dir(data_dir)
        if cls.is_available(root):
            return root
        logger.info("Downloading food101 (about 5 GB) into %s", root)
        try:
            from torchvision.datasets import Food101  # lazy: torchvision costs ~1 s to import

            Food101(str(root), split="test", download=True)
        except (OSError, RuntimeError) as err:  # URLError is an OSError
            raise DataFileError(
                f"Could not download food101 into {root} ({type(err).__name__}: {err}). Check "
                f"the network connection, then run `{download_command(cls.name, root)}` again."
            ) from err
        return root

    def _raw_splits(self) -> tuple[Dataset, Dataset]:
        if self._download_first:
            self.download(self._data_dir)
        if not self.is_available(self._data_dir):
            raise FileNotFoundError(
                f"Data set 'food101' not found in {self._data_dir / FOOD101_FOLDER}. Download "
                f"it with `{download_command(self.name, self._data_dir)}` (about 5 GB)."
            )
        root = str(self._data_dir)
        from torchvision.datasets import Food101  # lazy: torchvision costs ~1 s to import

        return Food101(root, split="train"), Food101(root, split="test")
