"""The direct API: iterate a problem's loaders yourself, no phase state.

``tproblem.data.train_loader`` yields batches; ``tproblem.loss_and_accuracy(batch)`` returns
the loss (with the problem's L2 term) and the accuracy (a 0-d tensor, or ``None``).
Run it with ``python examples/direct_loop.py [--epochs N]``.
"""

from __future__ import annotations

import argparse

import torch

from deepobs.pytorch import testproblems


def evaluate(tproblem, loader) -> float:
    tproblem.model.eval()
    with torch.inference_mode():
        losses = [tproblem.loss_and_accuracy(batch)[0] for batch in loader]
    return torch.stack(losses).mean().item()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    tproblem = testproblems.get_testproblem("two_d_rosenbrock", batch_size=128, device="cpu")
    tproblem.set_up()
    optimizer = torch.optim.Adam(tproblem.model.parameters(), lr=0.05)
    before = evaluate(tproblem, tproblem.data.test_loader)
    for epoch in range(args.epochs):
        tproblem.model.train()
        for batch in tproblem.data.train_loader:
            optimizer.zero_grad()
            loss, _ = tproblem.loss_and_accuracy(batch)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: test loss {evaluate(tproblem, tproblem.data.test_loader):.4f}")
    return {"before": before, "after": evaluate(tproblem, tproblem.data.test_loader)}


if __name__ == "__main__":
    main()
