r"""Build DeepOBS' Tolstoi files (``train.npy``, ``test.npy``, ``vocab.pkl``) from plain text.

The steps follow DeepOBS' preparation (reference §4.4), for the Project Gutenberg plain-text
War and Peace: delete lines 1-29 (the licence header), then lines 5-775 of the result (the
table of contents), then lines 63,850-64,207 of that result (the closing licence); build the
vocabulary of distinct characters by descending frequency; write the first ``ceil(0.8 * N)``
ids to ``train.npy`` and the rest to ``test.npy``. Lines are split at ``"\n"`` only, and line
endings are kept as they are in the file (a ``"\r"`` of Windows line endings is a character).
"""

from __future__ import annotations

import io
import logging
import os
import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np

from deepobs.pytorch import config
from deepobs.pytorch.datasets._text import char_vocabulary, encode
from deepobs.pytorch.datasets.tolstoi import TOLSTOI_VOCAB_SIZE

logger = logging.getLogger(__name__)

#: Inclusive, 1-based line ranges deleted one after the other (each counts in the result of
#: the previous deletion).
TOLSTOI_LINE_DELETIONS = ((1, 29), (5, 775), (63_850, 64_207))
OUTPUT_FILES = ("train.npy", "test.npy", "vocab.pkl")


class TolstoiFiles(NamedTuple):
    """What :func:`prepare_tolstoi` wrote: the folder and the sizes."""

    folder: Path
    num_train: int
    num_test: int
    vocab_size: int


def delete_lines(text: str, ranges=TOLSTOI_LINE_DELETIONS) -> str:
    """Delete inclusive 1-based line ranges, one after the other, as ``sed 'a,bd'`` does.

    Raises:
        ValueError: if the text has fewer lines than a range ends at.
    """
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    for first, last in ranges:
        if len(lines) < last:
            raise ValueError(
                f"The text has {len(lines)} lines where deleting lines {first}-{last} needs at "
                f"least {last}: it is not the Project Gutenberg plain-text War and Peace that "
                "DeepOBS used (https://www.gutenberg.org/ebooks/2600, 'Plain Text UTF-8')."
            )
        del lines[first - 1 : last]
    return "".join(lines)


def tolstoi_arrays(text: str, ranges=TOLSTOI_LINE_DELETIONS):
    """Return ``(train_ids, test_ids, vocab)`` for a raw War and Peace text."""
    body = delete_lines(text, ranges)
    vocab = char_vocabulary(body)
    ids = encode(body, vocab)
    n_train = -(-4 * len(ids) // 5)  # ceil(0.8 * N) in exact integer arithmetic
    return ids[:n_train], ids[n_train:], vocab


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def prepare_tolstoi(
    text_file: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    *,
    overwrite: bool = False,
    ranges=TOLSTOI_LINE_DELETIONS,
) -> TolstoiFiles:
    """Write ``<data_dir>/tolstoi/{train.npy, test.npy, vocab.pkl}`` from a War and Peace text.

    Args:
        text_file: The Project Gutenberg plain text (UTF-8).
        data_dir: Data root; default :func:`deepobs.pytorch.config.get_data_dir`.
        overwrite: Replace existing files.
        ranges: Line ranges to delete (DeepOBS' by default).

    Raises:
        FileNotFoundError: if ``text_file`` does not exist.
        FileExistsError: if the output files exist and ``overwrite`` is false.
        ValueError: if the text is too short for the line deletions.
    """
    text_file = Path(text_file)
    if not text_file.is_file():
        raise FileNotFoundError(f"Text file '{text_file}' not found. Pass the path of the text.")
    folder = config.resolve_data_dir(data_dir) / "tolstoi"
    existing = [name for name in OUTPUT_FILES if (folder / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{existing} already exist in '{folder}'. Pass overwrite=True (CLI: --overwrite) "
            "to replace them."
        )
    with open(text_file, encoding="utf-8", newline="") as f:  # newline="": keep "\r"
        train, test, vocab = tolstoi_arrays(f.read(), ranges)
    if len(vocab) != TOLSTOI_VOCAB_SIZE:
        logger.warning(
            "The vocabulary has %d characters; DeepOBS' files have %d, so results are not "
            "comparable with published ones.",
            len(vocab),
            TOLSTOI_VOCAB_SIZE,
        )
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(folder / "train.npy", _npy_bytes(train))
    _write_atomic(folder / "test.npy", _npy_bytes(test))
    _write_atomic(folder / "vocab.pkl", pickle.dumps(vocab))
    logger.info("Wrote %d training and %d test ids to %s", len(train), len(test), folder)
    return TolstoiFiles(folder, len(train), len(test), len(vocab))
