"""``deepobs prepare-tolstoi FILE.txt``: build the Tolstoi id files from War and Peace."""

from __future__ import annotations

import argparse

from deepobs.pytorch.datasets._tolstoi_prep import prepare_tolstoi


def register(subparsers) -> None:
    """Add the ``prepare-tolstoi`` sub-command."""
    parser = subparsers.add_parser(
        "prepare-tolstoi",
        help="build the Tolstoi data (train.npy, test.npy, vocab.pkl) from War and Peace",
        description=(
            "Turn the Project Gutenberg plain text of War and Peace into the character-id "
            "files of the deprecated tolstoi_char_rnn problem, following DeepOBS' preparation "
            "(line deletions, vocabulary by frequency, 80/20 split). Prefer textgen."
        ),
    )
    parser.add_argument("text_file", metavar="FILE.txt", help="the plain text (UTF-8)")
    parser.add_argument("--data-dir", default=None, help="data root; files go to DATA_DIR/tolstoi")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the files and print what was written."""
    files = prepare_tolstoi(args.text_file, args.data_dir, overwrite=args.overwrite)
    print(
        f"Wrote train.npy ({files.num_train:,} ids), test.npy ({files.num_test:,} ids) and "
        f"vocab.pkl ({files.vocab_size} characters) to {files.folder}"
    )
    return 0
