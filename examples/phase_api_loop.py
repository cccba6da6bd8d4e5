"""The DeepOBS 1.2 phase API: a hand-written training loop over a test problem.

This is how optimizer research code written for DeepOBS 1.2 drives a problem: start a
phase with ``*_init_op()``, then draw batches until ``StopIteration``. Run it with
``python examples/phase_api_loop.py [--epochs N]``.
"""

from __future__ import annotations

import argparse

import torch

from deepobs.pytorch import testproblems


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args(argv)

    torch.manual_seed(42)
    tproblem = testproblems.quadratic_deep(batch_size=128, device="cpu")
    tproblem.set_up()
    optimizer = torch.optim.SGD(tproblem.model.parameters(), lr=args.lr)

    def test_loss() -> float:
        tproblem.test_init_op()
        total, n = 0.0, 0
        with torch.no_grad():
            while True:
                try:
                    loss, _ = tproblem.get_batch_loss_and_accuracy()
                except StopIteration:
                    return total / n
                total, n = total + loss.item(), n + 1

    before = test_loss()
    for epoch in range(args.epochs):
        tproblem.train_init_op()
        while True:
            try:
                optimizer.zero_grad()
                loss, _ = tproblem.get_batch_loss_and_accuracy()
            except StopIteration:
                break
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: test loss {test_loss():.3f}")
    return {"before": before, "after": test_loss()}


if __name__ == "__main__":
    main()
