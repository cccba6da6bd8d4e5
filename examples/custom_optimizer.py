"""Benchmark your own optimizer: a sign-SGD variant on ``mnist_logreg``.

Any class that takes ``(params, **hyperparams)`` and has ``step`` (a ``torch.optim.Optimizer``)
can be benchmarked. Needs MNIST (``deepobs download mnist``). Run it with
``python examples/custom_optimizer.py [--epochs N] [--data-dir DIR]``.
"""

from __future__ import annotations

import argparse
import logging

import torch

from deepobs.pytorch.runners import StandardRunner


class SignSGD(torch.optim.Optimizer):
    """``p <- p - lr * sign(grad)``, with optional momentum on the gradient (signum)."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0) -> None:
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                direction = p.grad
                if group["momentum"]:
                    buf = self.state[p].setdefault("buf", torch.zeros_like(p))
                    buf.mul_(group["momentum"]).add_(p.grad, alpha=1 - group["momentum"])
                    direction = buf
                p.add_(direction.sign(), alpha=-group["lr"])
        return loss


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output-dir", default="results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    runner = StandardRunner(
        SignSGD, {"lr": {"type": float}, "momentum": {"type": float, "default": 0.9}}
    )
    result = runner.run(
        testproblem="mnist_logreg",
        hyperparams={"lr": 1e-3},
        num_epochs=args.epochs,
        data_dir=args.data_dir,
        output_dir=args.output_dir,
    )
    print(
        f"test accuracy: {result['test_accuracies'][0]:.3f} -> {result['test_accuracies'][-1]:.3f}"
    )
    return result


if __name__ == "__main__":
    main()
