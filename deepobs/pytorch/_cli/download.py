"""``deepobs download NAME... [--data-dir DIR]``: fetch data sets (deepobs never downloads else)."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    """Add the ``download`` sub-command."""
    p = subparsers.add_parser(
        "download",
        help="download data sets into the data directory",
        description=(
            "Download data sets and check their checksums. Files already present and intact "
            "are kept. The data directory is --data-dir, else $DEEPOBS_DATA_DIR, else ./data."
        ),
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="data set names, e.g. mnist cifar10")
    p.add_argument(
        "--data-dir", default=None, help="data directory (default: $DEEPOBS_DATA_DIR or ./data)"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Download each named data set; a failed download prints one line and exits with 2."""
    from deepobs.pytorch.datasets._download import check_downloadable, download

    for name in args.names:  # check every name before the first (long) download starts
        check_downloadable(name)
    for name in args.names:
        try:
            folder = download(name, args.data_dir)
        except (RuntimeError, OSError) as err:
            print(f"deepobs: error: {err}", file=sys.stderr)
            return 2
        print(f"{name}: ready in {folder}")
    return 0
