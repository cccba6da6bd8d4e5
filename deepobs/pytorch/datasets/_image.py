"""Shared machinery of the image data sets: files, checks, download, splits, loaders.

The files are torchvision's (same layout, mirrors and checksums). Each split is decoded once
into a ``uint8`` tensor ``[N, C, H, W]`` kept in memory and served by a
:class:`~deepobs.pytorch.datasets.TensorBatchLoader`; conversion to float, augmentation and
normalisation happen per batch (:mod:`deepobs.pytorch.datasets._augment`).

Splits (DeepOBS 1.2, reference §4.1) are drawn from the raw training split with the fixed
:data:`~deepobs.pytorch.datasets._base.SPLIT_SEED`, so every run of a problem sees the same
validation set while the data order follows the run's seed. With ``N`` raw training examples
and the data set's ``eval_size`` (the size of its official test split):

* ``valid``: ``min(eval_size, N // 2)`` examples of the raw training split;
* ``train``: the other ``N - n_valid`` examples;
* ``train_eval``: ``min(eval_size, N - n_valid)`` examples of ``train`` (never of ``valid``),
  without augmentation;
* ``test``: the official test split.

For the real files this gives exactly DeepOBS' sizes (the ``N // 2`` cap never binds); tiny
fake data sets keep non-empty splits.
"""

from __future__ import annotations

import abc
import logging
import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, NamedTuple

import torch

from deepobs.pytorch import config
from deepobs.pytorch.datasets._base import DataSet, fixed_permutation
from deepobs.pytorch.datasets._errors import DataFileError

logger = logging.getLogger(__name__)


class SplitIndices(NamedTuple):
    """Indices into the raw training split (each sorted)."""

    train: torch.Tensor
    valid: torch.Tensor
    train_eval: torch.Tensor


def split_indices(n_train: int, eval_size: int) -> SplitIndices:
    """Seed-independent train / valid / train_eval indices (rule in the module docstring)."""
    n_valid = min(eval_size, n_train // 2)
    perm = fixed_permutation(n_train)
    valid, train = perm[:n_valid], perm[n_valid:]
    train_eval = train[: min(eval_size, len(train))]
    return SplitIndices(train.sort().values, valid.sort().values, train_eval.sort().values)


def download_command(name: str, data_dir: Path) -> str:
    """The shell command that downloads data set ``name`` into ``data_dir``."""
    return f"deepobs download {name} --data-dir {shlex.quote(str(data_dir))}"


def _one_line(err: BaseException, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", f"{type(err).__name__}: {err}").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ImageDataSet(DataSet):
    """Base class of the in-memory image data sets.

    Args:
        batch_size: Mini-batch size of every loader (incomplete last batches are dropped).
        data_dir: The DeepOBS data directory; default :func:`deepobs.pytorch.config.get_data_dir`.
        seed: Seed of data order and augmentation; default derived from the run's seed.
        download: Download the files first if they are missing (off by default).

    Raises:
        FileNotFoundError: if a file is missing (the message names it and the fix).
        RuntimeError: if a file is corrupted (the message names it and the fix).
        ValueError: if ``batch_size`` is invalid or larger than a split.
    """

    requires_files = True
    #: Name of the torchvision class that owns the mirrors and checksums (imported lazily:
    #: importing torchvision takes over a second).
    torchvision_name: ClassVar[str] = ""
    #: Number of classes; labels lie in ``[0, num_classes)``.
    num_classes: ClassVar[int] = 10
    #: DeepOBS' ``train_eval_size`` (= size of the official test split).
    eval_size: ClassVar[int] = 10_000
    #: Sizes (train, test) of the official files; checked when files are verified.
    expected_sizes: ClassVar[tuple[int, int]] = (0, 0)
    #: Verify checksums and sizes of the files before reading them. Only tests that run on
    #: tiny fake files turn this off (with ``monkeypatch``); real data is always verified.
    _verify_files: ClassVar[bool] = True

    def __init__(
        self,
        batch_size: int,
        *,
        data_dir: str | os.PathLike | None = None,
        seed: int | None = None,
        download: bool = False,
    ) -> None:
        self._download_first = bool(download)
        self._split_indices: SplitIndices | None = None
        super().__init__(batch_size, data_dir=data_dir, seed=seed)

    # ------------------------------------------------------------------ per data set
    @classmethod
    @abc.abstractmethod
    def _files(cls, data_dir: Path) -> dict[str, list[Path]]:
        """The files read for each split: ``{"train": [...], "test": [...]}``."""

    @classmethod
    def _checksums(cls, data_dir: Path) -> dict[Path, str]:
        """MD5 of each file, where torchvision knows it (none for the unpacked MNIST files)."""
        return {}

    @classmethod
    @abc.abstractmethod
    def _fetch(cls, data_dir: Path) -> None:
        """Download with torchvision (``download=True``)."""

    @classmethod
    @abc.abstractmethod
    def _read_split(cls, data_dir: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``uint8`` images ``[N, C, H, W]`` and ``int64`` labels ``[N]``."""

    @abc.abstractmethod
    def _transforms(self) -> tuple[Callable, Callable]:
        """Return the batch transforms (training, evaluation)."""

    # ------------------------------------------------------------------ public helpers
    @classmethod
    def torchvision_class(cls) -> type:
        """The torchvision data set class behind this data set (``torchvision.datasets.X``)."""
        import torchvision.datasets

        return getattr(torchvision.datasets, cls.torchvision_name)

    @classmethod
    def is_available(cls, data_dir: str | os.PathLike | None = None) -> bool:
        """Whether all files are present under ``data_dir`` (cheap: no checksums)."""
        root = config.resolve_data_dir(data_dir)
        return all(p.is_file() for paths in cls._files(root).values() for p in paths)

    @classmethod
    def download(cls, data_dir: str | os.PathLike | None = None) -> Path:
        """Download the files with torchvision (its mirrors and checksums), then verify them.

        Files that are already present and intact are not downloaded again.

        Returns:
            The folder that holds the files.

        Raises:
            RuntimeError: if the download fails (no network, a server error, a bad checksum).
        """
        root = config.resolve_data_dir(data_dir)
        logger.debug("Downloading %s into %s", cls.name, root)
        try:
            cls._fetch(root)
        except (OSError, RuntimeError) as err:  # URLError is an OSError
            raise DataFileError(
                f"Could not download {cls.name} into {root} ({_one_line(err)}). Check the "
                f"network connection, then run `{download_command(cls.name, root)}` again."
            ) from err
        cls.check_files(root)
        return cls._files(root)["train"][0].parent

    @classmethod
    def check_files(cls, data_dir: str | os.PathLike | None = None, verify: bool = True) -> None:
        """Check that every file exists and, if ``verify``, matches its checksum.

        Raises:
            FileNotFoundError: for a missing file, naming it and the download command.
            RuntimeError: for a file whose checksum is wrong, naming it and the fix.
        """
        root = config.resolve_data_dir(data_dir)
        for paths in cls._files(root).values():
            for path in paths:
                if not path.is_file():
                    raise FileNotFoundError(
                        f"Data set {cls.name!r} not found: {path} does not exist. Download it "
                        f"with `{download_command(cls.name, root)}` (or pass download=True)."
                    )
        if verify:
            from torchvision.datasets.utils import check_integrity

            for path, md5 in cls._checksums(root).items():
                if not check_integrity(str(path), md5):
                    raise cls._corrupted(root, path, f"MD5 is not {md5}")

    @classmethod
    def _corrupted(cls, data_dir: Path, paths: Path | list[Path], detail: str) -> DataFileError:
        if isinstance(paths, Path):
            what, it = f"Data file {paths} of {cls.name!r} is", "it"
        else:
            what, it = f"Data files {', '.join(str(p) for p in paths)} of {cls.name!r} are", "them"
        return DataFileError(
            f"{what} corrupted or incomplete ({detail}). Delete {it} and "
            f"download again: `{download_command(cls.name, data_dir)}`."
        )

    @classmethod
    def _parse(cls, data_dir: Path, path: Path, reader: Callable[[Path], object]):
        """Run ``reader(path)``; any parse failure becomes a ``RuntimeError`` naming the file."""
        try:
            return reader(path)
        except Exception as err:  # whatever the parser raises, the file is unusable
            raise cls._corrupted(data_dir, path, _one_line(err)) from err

    @classmethod
    def load_split(
        cls, data_dir: str | os.PathLike | None, split: str, verify: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Read the raw ``"train"`` or ``"test"`` split: ``uint8`` images and labels.

        Raises:
            FileNotFoundError, RuntimeError: as :meth:`check_files`; ``RuntimeError`` also for
                unreadable files, wrong sizes (when ``verify``) or labels out of range.
        """
        root = config.resolve_data_dir(data_dir)
        images, labels = cls._read_split(root, split)
        files = cls._files(root)[split]
        expected = dict(zip(("train", "test"), cls.expected_sizes, strict=True))[split]
        if len(images) != len(labels) or (verify and len(images) != expected):
            detail = f"{len(images)} images and {len(labels)} labels, expected {expected}"
            raise cls._corrupted(root, files, detail)
        if len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < cls.num_classes:
            raise cls._corrupted(root, files, f"labels outside [0, {cls.num_classes})")
        return images, labels

    # ------------------------------------------------------------------ DataSet hooks
    @property
    def split_indices(self) -> SplitIndices:
        """Indices of ``train``, ``valid`` and ``train_eval`` in the raw training split."""
        return self._split_indices

    def _load(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        return self.load_split(self._data_dir, split, verify=self._verify_files)

    def _make_train_and_valid_dataloader(self):
        if self._download_first:
            self.download(self._data_dir)
        self.check_files(self._data_dir, verify=self._verify_files)
        images, labels = self._load("train")
        idx = self._split_indices = split_indices(len(labels), self.eval_size)
        train_tf, self._eval_transform = self._transforms()
        self._train_eval_tensors = [images[idx.train_eval], labels[idx.train_eval]]
        train = [images[idx.train], labels[idx.train]]
        valid = [images[idx.valid], labels[idx.valid]]
        return (
            self._tensor_loader(train, shuffle=True, transform=train_tf),
            self._tensor_loader(valid, transform=self._eval_transform, offset=1),
        )

    def _make_train_eval_dataloader(self):
        tensors, self._train_eval_tensors = self._train_eval_tensors, None
        return self._tensor_loader(tensors, transform=self._eval_transform, offset=2)

    def _make_test_dataloader(self):
        return self._tensor_loader(
            list(self._load("test")), transform=self._eval_transform, offset=3
        )
