"""Gradient accumulation: the problem's batch in K micro-batches, for memory.

With ``grad_accumulation=K`` each batch is processed as K equal micro-batches whose gradients
add up to the full batch's (exact up to float rounding for models without batch norm). The
batch size in the results stays the problem's. Run it with
``python examples/grad_accumulation.py [--k K]``.
"""

from __future__ import annotations

import argparse

import torch

from deepobs.pytorch.runners import StandardRunner


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=4, help="micro-batches per batch")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)

    runner = StandardRunner(torch.optim.SGD, {"lr": {"type": float}})
    common = dict(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=args.epochs,
        no_logs=True,
        device="cpu",
    )
    whole = runner.run(**common)
    split = runner.run(**common, grad_accumulation=args.k)
    for a, b in zip(whole["test_losses"], split["test_losses"], strict=True):
        print(f"test loss: whole batch {a:.6f}   {args.k} micro-batches {b:.6f}")
    return {"whole": whole, "split": split}


if __name__ == "__main__":
    main()
