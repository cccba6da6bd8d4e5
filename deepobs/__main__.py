"""``python -m deepobs``: the command-line interface."""

from deepobs.pytorch.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
