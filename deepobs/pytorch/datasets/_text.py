"""Character streams for the text problems: vocabulary, encoding and DeepOBS' stream batching.

A text becomes one long stream of character ids. Batching follows DeepOBS' Tolstoi reader
(reference §4.4): with ``nb = (len(ids) - 1) // (batch_size * seq_len)`` the inputs
``ids[:nb * batch_size * seq_len]`` and the targets (the same ids shifted by one) are each laid
out as ``batch_size`` parallel streams (rows) and cut into ``nb`` consecutive windows of
``seq_len`` characters. Row ``i`` of batch ``j + 1`` continues row ``i`` of batch ``j``, so a
recurrent state can be carried from batch to batch. Nothing is ever shuffled.
"""

from __future__ import annotations

import abc
import hashlib
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from deepobs.pytorch import config
from deepobs.pytorch.datasets._base import DataSet

logger = logging.getLogger(__name__)

#: Characters per window (truncated back-propagation through time), as in DeepOBS.
SEQ_LEN = 50


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


def char_vocabulary(text: str) -> tuple[str, ...]:
    """Distinct characters of ``text`` by descending frequency; ties by first occurrence."""
    codes = _code_points(text)
    unique, first, counts = np.unique(codes, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))  # last key sorts first
    return tuple(chr(int(c)) for c in unique[order])


def encode(text: str, vocab: tuple[str, ...]) -> np.ndarray:
    """Map every character of ``text`` to its index in ``vocab`` (int64 array).

    Raises:
        ValueError: if ``text`` holds characters that are not in ``vocab``.
    """
    codes = _code_points(text)
    table = np.array([ord(c) for c in vocab], dtype=np.uint32)
    sorter = np.argsort(table)
    pos = np.minimum(np.searchsorted(table, codes, sorter=sorter), len(table) - 1)
    ids = sorter[pos]
    unknown = table[ids] != codes
    if unknown.any():
        chars = sorted({chr(int(c)) for c in codes[unknown]})
        raise ValueError(
            f"The text holds {int(unknown.sum())} characters outside the vocabulary "
            f"({chars[:10]!r}). The vocabulary is built from the training text; the other "
            "splits must use only its characters. Check that the files are the original ones."
        )
    return ids.astype(np.int64)


def stream_windows(
    ids: np.ndarray | torch.Tensor, batch_size: int, seq_len: int = SEQ_LEN
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut an id stream into DeepOBS' parallel-stream windows.

    Returns:
        ``(inputs, targets)``, each of shape ``[nb * batch_size, seq_len]``: rows
        ``j * batch_size`` to ``(j + 1) * batch_size - 1`` are batch ``j``, so a loader that
        yields consecutive blocks of ``batch_size`` rows without shuffling yields the batches
        in stream order. ``targets`` are ``inputs`` shifted by one character.
    """
    ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    n_batches = (len(ids) - 1) // (batch_size * seq_len)
    n = n_batches * batch_size * seq_len

    def windows(stream: torch.Tensor) -> torch.Tensor:
        # [bs * nb * L] -> [bs rows, nb windows, L] -> [nb, bs, L] -> [nb * bs, L]
        rows = stream.reshape(batch_size, n_batches, seq_len)
        return rows.transpose(0, 1).reshape(n_batches * batch_size, seq_len)

    return windows(ids[:n]), windows(ids[1 : n + 1])


class CharStreamDataSet(DataSet):
    """Base of the character data sets: batches ``[inputs, targets]`` of ``[batch_size, 50]`` ids.

    Subclasses implement :meth:`_load_ids` (which also sets ``vocab`` and ``vocab_size``).
    ``train_eval`` is the first ``k`` training batches, ``k`` = the number of validation
    batches (DeepOBS 1.2's Tolstoi rule): the same windows, in the same order, as the start of
    a training epoch, so a carried state sees the same context as in training.
    """

    requires_files = True
    #: Folder of the files under the data root, and the files that must be there.
    folder_name: ClassVar[str] = ""
    required_files: ClassVar[tuple[str, ...]] = ()
    #: Characters by id (``None`` if the data set does not know them).
    vocab: tuple[str, ...] | None = None
    #: Number of distinct ids (the model's input and output size).
    vocab_size: int = 0

    @classmethod
    def is_available(cls, data_dir: str | os.PathLike | None = None) -> bool:
        """Whether all required files are in ``<data_dir>/<folder_name>``."""
        return not cls.missing_files(config.resolve_data_dir(data_dir))

    @classmethod
    def missing_files(cls, data_dir: Path) -> list[str]:
        """Names of the required files that are not in ``<data_dir>/<folder_name>``."""
        folder = Path(data_dir) / cls.folder_name
        return [name for name in cls.required_files if not (folder / name).is_file()]

    @abc.abstractmethod
    def _load_ids(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the id streams ``(train, valid, test)``; set ``vocab`` and ``vocab_size``."""

    def _make_train_and_valid_dataloader(self):
        train, valid, self._test_ids = self._load_ids()
        self._train_windows = self._windows(train, "train")
        valid_windows = self._windows(valid, "valid")
        self._n_eval_batches = len(valid_windows[0]) // self._batch_size
        return self._tensor_loader(self._train_windows), self._tensor_loader(valid_windows)

    def _make_train_eval_dataloader(self):
        rows = self._n_eval_batches * self._batch_size
        return self._tensor_loader([t[:rows] for t in self._train_windows])

    def _make_test_dataloader(self):
        return self._tensor_loader(self._windows(self._test_ids, "test"))

    def _windows(self, ids: np.ndarray, split: str) -> list[torch.Tensor]:
        needed = self._batch_size * SEQ_LEN + 1
        if len(ids) < needed:
            raise ValueError(
                f"The {split} split of {self.name} has {len(ids)} characters, too few for one "
                f"batch at batch_size={self._batch_size} ({needed} needed: batch_size * "
                f"{SEQ_LEN} + 1). Use batch_size <= {max((len(ids) - 1) // SEQ_LEN, 0)}."
            )
        return list(stream_windows(ids, self._batch_size, SEQ_LEN))


def fetch_file(url: str, path: Path, md5: str, timeout: float = 60.0) -> None:
    """Download ``url`` to ``path`` atomically (``*.part`` then rename) and check its MD5.

    Raises:
        RuntimeError: if the download fails or its MD5 differs from ``md5`` (nothing is kept).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    digest = hashlib.md5(usedforsecurity=False)
    logger.info("Downloading %s to %s", url, path)
    try:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                while chunk := response.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
        except urllib.error.URLError as err:
            raise RuntimeError(
                f"Could not download {url}: {err.reason}. Check the network connection, or "
                f"put the file into {path.parent} by hand."
            ) from err
        if digest.hexdigest() != md5:
            raise RuntimeError(
                f"Checksum mismatch for {url}: MD5 {digest.hexdigest()}, expected {md5}. "
                "The file was not kept; try again later or download it by hand into "
                f"{path.parent}."
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def file_md5(path: Path) -> str:
    """MD5 hex digest of a file."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
