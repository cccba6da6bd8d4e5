"""Tiny fake data in the real formats for the ladder problems (MNIST-1D cache, PTB text)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from deepobs.pytorch.datasets.mnist1d import MNIST1D_LENGTH, mnist1d_path, write_mnist1d

PTB_WORDS = (
    "the",
    "a",
    "of",
    "<unk>",
    "N",
    "market",
    "stock",
    "said",
    "'s",
    "mr.",
    "$",
    "and",
    "to",
    "in",
    "bank",
    "shares",
    "n't",
    "co.",
)


def write_fake_mnist1d(root: Path, n_train: int = 40, n_test: int = 20, seed: int = 0) -> Path:
    """Write an MNIST-1D cache of random signals (``[N, 40]`` float32, labels 0..9)."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x": rng.standard_normal((n_train, MNIST1D_LENGTH)).astype(np.float32),
        "y": rng.integers(0, 10, n_train).astype(np.int64),
        "x_test": rng.standard_normal((n_test, MNIST1D_LENGTH)).astype(np.float32),
        "y_test": rng.integers(0, 10, n_test).astype(np.int64),
    }
    path = mnist1d_path(root)
    write_mnist1d(path, arrays)
    return path


def ptb_lines(rng: random.Random, n: int) -> str:
    """``n`` lines in PTB's format: a blank, words separated by blanks, a blank, newline."""
    return "".join(
        " " + " ".join(rng.choice(PTB_WORDS) for _ in range(rng.randint(3, 12))) + " \n"
        for _ in range(n)
    )


def write_fake_ptb(root: Path, lines: tuple[int, int, int] = (300, 60, 60), seed: int = 0) -> Path:
    """Write ``ptb/ptb.{train,valid,test}.txt`` with the given numbers of lines."""
    rng = random.Random(seed)
    folder = Path(root) / "ptb"
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in zip(("train", "valid", "test"), lines):
        (folder / f"ptb.{split}.txt").write_text(ptb_lines(rng, n), encoding="utf-8")
    return folder
