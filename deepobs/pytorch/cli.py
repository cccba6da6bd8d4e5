"""The ``deepobs`` command line: parses arguments and calls the library.

Each sub-command lives in its own module of :mod:`deepobs.pytorch._cli` with a
``register(subparsers)`` function that adds its parser and sets ``func``. Known user errors
print one line ``deepobs: error: ...`` and exit with status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys

import deepobs

#: Sub-commands, in the order ``deepobs --help`` lists them (module names in ``_cli``).
COMMANDS = (
    "list",
    "download",
    "run",
    "smoke",
    "prepare-tolstoi",
    "analyze",
    "tune",
    "baselines",
    "benchmark",
)

#: Exceptions that mean "the user asked for something invalid", not "deepobs has a bug".
USER_ERRORS = (
    ValueError,
    TypeError,
    FileNotFoundError,
    FileExistsError,
    NotADirectoryError,
    PermissionError,
    ImportError,
    KeyError,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="deepobs", description="DeepOBS: a deep-learning optimizer benchmark suite."
    )
    parser.add_argument("--version", action="version", version=f"deepobs {deepobs.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print warnings")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"deepobs.pytorch._cli.{name.replace('-', '_')}")
        module.register(subparsers)
    for sub in subparsers.choices.values():  # -q also after the sub-command
        with contextlib.suppress(argparse.ArgumentError):  # unless it has its own -q
            sub.add_argument(
                "-q",
                "--quiet",
                action="store_true",
                default=argparse.SUPPRESS,
                help="no progress bar; only print warnings",
            )
    return parser


def _configure_logging(quiet: bool) -> tuple:
    """Send deepobs' log records to stderr; return the previous state for restoring it."""
    root = logging.getLogger("deepobs")
    previous = (root.handlers[:], root.level, root.propagate)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    root.propagate = False
    return previous


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    previous = _configure_logging(args.quiet)
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as err:
        if args.debug:
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"deepobs: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deepobs: interrupted", file=sys.stderr)
        return 130
    finally:  # main() may be called in-process (tests, notebooks): leave logging as it was
        root = logging.getLogger("deepobs")
        root.handlers[:], root.level, root.propagate = previous


if __name__ == "__main__":
    raise SystemExit(main())
