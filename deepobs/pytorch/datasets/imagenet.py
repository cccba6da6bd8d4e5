"""ImageNet (ILSVRC-2012) from a folder you prepare yourself; it is never downloaded.

Layout (torchvision's ``ImageFolder``; the validation images sorted into class folders)::

    <data_dir>/imagenet/train/<wnid>/*.JPEG    e.g. train/n01440764/n01440764_10026.JPEG
    <data_dir>/imagenet/val/<wnid>/*.JPEG      e.g. val/n01440764/ILSVRC2012_val_00000293.JPEG

Labels are the class folders in sorted order, ``0 .. num_classes - 1`` (1000 for the full
data; DeepOBS' TF reference shifted them by one for a "background" class). Splits: ``valid``
= 50,000 fixed training images, ``train`` = the other 1,231,167, ``train_eval`` = 50,000
fixed images of ``train``, ``test`` = the 50,000 official validation images. Preprocessing:
:mod:`deepobs.pytorch.datasets._image_folder`.
"""

from __future__ import annotations

import os
from pathlib import Path

from torch.utils.data import Dataset

from deepobs.pytorch import config
from deepobs.pytorch.datasets._image_folder import FileImageDataSet

#: Size of the official validation split (DeepOBS' test set and ``train_eval_size``).
IMAGENET_EVAL_SIZE = 50_000

_LAYOUT = (
    "  {root}/train/<wnid>/*.JPEG   (e.g. train/n01440764/n01440764_10026.JPEG)\n"
    "  {root}/val/<wnid>/*.JPEG     (e.g. val/n01440764/ILSVRC2012_val_00000293.JPEG)"
)


def imagenet_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The ImageNet folder ``<data_dir>/imagenet``."""
    return config.resolve_data_dir(data_dir) / "imagenet"


def check_imagenet_folder(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the ImageNet folder, or explain how to prepare it.

    Raises:
        FileNotFoundError: if ``train`` or ``val`` is missing, with the expected layout.
    """
    root = imagenet_root(data_dir)
    missing = [root / split for split in ("train", "val") if not (root / split).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"ImageNet not found: missing {' and '.join(str(m) for m in missing)}. ImageNet "
            "cannot be downloaded automatically: its licence requires every user to register "
            "at https://image-net.org and download ILSVRC-2012 themselves. Unpack the training "
            "and validation images (the latter sorted into one folder per class) as\n"
            + _LAYOUT.format(root=root)
            + "\nand point deepobs at the parent folder with --data-dir or $DEEPOBS_DATA_DIR."
        )
    return root


class imagenet(FileImageDataSet):
    """ImageNet from ``<data_dir>/imagenet/{train,val}/<wnid>/`` (see the module docstring).

    Args:
        batch_size: Mini-batch size of every loader (incomplete last batches are dropped).
        data_dir: The DeepOBS data directory; default :func:`deepobs.pytorch.config.get_data_dir`.
        seed: Seed of data order and augmentation; default derived from the run's seed.

    Attributes:
        classes: The class folder names (WordNet ids), index = label.
        num_classes: Number of classes (1000 for ILSVRC-2012).

    Raises:
        FileNotFoundError: if the folder is missing (the message shows the layout) or a
            class folder holds no image.
        ValueError: if ``train`` and ``val`` have different class folders, or for a bad
            batch size.
    """

    manual_download_hint = (
        "ImageNet cannot be downloaded automatically (licence: register at image-net.org)"
        "; put it under <data_dir>/imagenet/train/<wnid>/*.JPEG and "
        "<data_dir>/imagenet/val/<wnid>/*.JPEG."
    )

    name = "imagenet"
    eval_size = IMAGENET_EVAL_SIZE

    @classmethod
    def is_available(cls, data_dir: str | os.PathLike | None = None) -> bool:
        """Whether ``<data_dir>/imagenet/train`` and ``val`` exist (no files are read)."""
        root = imagenet_root(data_dir)
        return (root / "train").is_dir() and (root / "val").is_dir()

    def _raw_splits(self) -> tuple[Dataset, Dataset]:
        root = check_imagenet_folder(self._data_dir)
        from torchvision.datasets import ImageFolder  # lazy: torchvision costs ~1 s to import

        train, val = ImageFolder(str(root / "train")), ImageFolder(str(root / "val"))
        if train.classes != val.classes:
            only_train = sorted(set(train.classes) - set(val.classes))
            only_val = sorted(set(val.classes) - set(train.classes))
            raise ValueError(
                f"The class folders of {root / 'train'} and {root / 'val'} differ (only in "
                f"train: {only_train[:5]}, only in val: {only_val[:5]}). Both need the same "
                "<wnid> folders; sort the validation images into class folders."
            )
        self.classes = train.classes
        self.num_classes = len(train.classes)
        return train, val
