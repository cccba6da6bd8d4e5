"""Choosing the device: CUDA, Apple MPS or CPU.

deepobs picks ``cuda`` if available, else ``mps``, else ``cpu`` — when asked, never at
import. Override it for the process with ``config.set_default_device`` or per run with
``device=`` (CLI: ``--device``). Run it with ``python examples/device_selection.py``.
"""

from __future__ import annotations

import argparse

import torch

from deepobs.pytorch import config
from deepobs.pytorch.runners import StandardRunner


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps")
    args = parser.parse_args(argv)

    print(f"best device on this machine: {config.available_device()}")
    if args.device is not None:
        config.set_default_device(args.device)  # validated: a missing backend is an error
    print(f"runs will use: {config.get_default_device()}")
    config.set_is_deterministic(True)  # deterministic cuDNN kernels (the default)

    runner = StandardRunner(torch.optim.Adam, {"lr": {"type": float}})
    result = runner.run(
        testproblem="quadratic_deep", hyperparams={"lr": 0.05}, num_epochs=1, no_logs=True
    )
    print(f"ran on {result['meta']['device']} ({result['meta']['device_name']})")
    return result


if __name__ == "__main__":
    main()
