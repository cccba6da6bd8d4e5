"""Tolstoi's War and Peace as character ids (DeepOBS' ``tolstoi``), for ``tolstoi_char_rnn``.

Manual data: ``<data_dir>/tolstoi/train.npy`` and ``test.npy`` (1-D integer id arrays) and
optionally ``vocab.pkl`` (the characters by id), as DeepOBS' preparation script writes them.
``deepobs prepare-tolstoi war_and_peace.txt`` builds them from the plain text.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from deepobs.pytorch.datasets._errors import DataFileError
from deepobs.pytorch.datasets._text import CharStreamDataSet

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Size of DeepOBS 1.2's validation split (the first ids of ``train.npy``).
TOLSTOI_VALID_SIZE = 653_237
#: Number of distinct characters in DeepOBS' files (used when ``vocab.pkl`` is absent).
TOLSTOI_VOCAB_SIZE = 83
TOLSTOI_FILES = ("train.npy", "test.npy")


class _PlainDataUnpickler(pickle.Unpickler):
    """Unpickler for plain containers of strings: refuses to import any class or function."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"vocab.pkl refers to {module}.{name}; expected plain data.")


def _read(path: Path, reader: Callable[[Path], T]) -> T:
    """``reader(path)``; a file it cannot parse raises :class:`DataFileError` naming the file."""
    try:
        return reader(path)
    except (ValueError, EOFError, pickle.UnpicklingError) as err:
        raise DataFileError(
            f"Tolstoi file '{path}' is corrupted or incomplete ({type(err).__name__}: {err}). "
            "Rebuild the files with `deepobs prepare-tolstoi`."
        ) from err


def load_vocab(path: Path) -> tuple[str, ...]:
    """Read ``vocab.pkl``: a sequence of characters, or a ``{character: id}`` dict."""
    with open(path, "rb") as f:
        vocab = _PlainDataUnpickler(f, encoding="latin1").load()
    if isinstance(vocab, dict):
        vocab = sorted(vocab, key=vocab.get)
    return tuple(vocab)


def tolstoi_valid_size(n_train: int) -> int:
    """Validation size for a ``train.npy`` of ``n_train`` ids: ``min(653,237, n_train // 4)``.

    653,237 is DeepOBS' value (the test size; train:test is 80:20, so it is a quarter of the
    real ``train.npy``). Smaller files, e.g. test data, get a quarter of their ids.
    """
    return min(TOLSTOI_VALID_SIZE, n_train // 4)


class tolstoi(CharStreamDataSet):
    """War and Peace, 50-character windows of ``batch_size`` parallel streams (DeepOBS 1.2).

    ``valid`` = the first :func:`tolstoi_valid_size` ids of ``train.npy`` and ``train`` the
    rest; ``test`` = ``test.npy``; ``train_eval`` = the first training batches, as many as
    ``valid`` has (261 at batch size 50). No shuffling.

    Args:
        batch_size: Number of parallel streams per batch.
        data_dir: Data root; the files live in ``<data_dir>/tolstoi``.
        seed: Unused (the text is never shuffled); accepted for a uniform interface.

    Raises:
        FileNotFoundError: if ``train.npy`` or ``test.npy`` is missing.
        ValueError: if the arrays are not 1-D integer ids within the vocabulary.
    """

    manual_download_hint = (
        "Tolstoi cannot be downloaded; build it from a plain-text War and Peace with `dee"
        "pobs prepare-tolstoi FILE.txt`, or use the textgen problem (`deepobs download ptb`)."
    )

    name = "tolstoi"
    folder_name = "tolstoi"
    required_files = TOLSTOI_FILES

    def _load_ids(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        folder = self._data_dir / self.folder_name
        missing = self.missing_files(self._data_dir)
        if missing:
            raise FileNotFoundError(
                f"Tolstoi files {missing} are missing in '{folder}'. Tolstoi is not "
                "downloaded automatically: build the files from a plain-text War and Peace "
                f"with `deepobs prepare-tolstoi war_and_peace.txt --data-dir {self._data_dir}`, "
                "or use the recommended problem `textgen` (Penn Treebank, downloadable)."
            )
        train, test = (_read(folder / name, np.load) for name in TOLSTOI_FILES)
        vocab_path = folder / "vocab.pkl"
        self.vocab = _read(vocab_path, load_vocab) if vocab_path.is_file() else None
        self.vocab_size = len(self.vocab) if self.vocab is not None else TOLSTOI_VOCAB_SIZE
        for name, ids in zip(TOLSTOI_FILES, (train, test)):
            self._check_ids(folder / name, ids)
        n_valid = tolstoi_valid_size(len(train))
        return train[n_valid:], train[:n_valid], test

    def _check_ids(self, path: Path, ids: np.ndarray) -> None:
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(
                f"'{path}' holds a {ids.ndim}-D {ids.dtype} array; expected a 1-D array of "
                "integer character ids. Rebuild it with `deepobs prepare-tolstoi`."
            )
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(
                f"'{path}' holds ids in [{ids.min()}, {ids.max()}], outside the vocabulary of "
                f"{self.vocab_size} characters. Rebuild the files with `deepobs prepare-tolstoi`."
            )
