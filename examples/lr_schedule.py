"""A learning-rate schedule run: SGD with momentum, the rate cut by 10 and 100 later on.

``LearningRateScheduleRunner`` takes ``lr_sched_epochs`` and ``lr_sched_factors`` (factors of
the base rate, DeepOBS semantics); both are recorded in the results file.
Run it with ``python examples/lr_schedule.py [--epochs N] [--output-dir DIR]``.
"""

from __future__ import annotations

import argparse
import logging

import torch

from deepobs.pytorch.runners import LearningRateScheduleRunner


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--output-dir", default="results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    runner = LearningRateScheduleRunner(
        torch.optim.SGD,
        {"lr": {"type": float}, "momentum": {"type": float, "default": 0.9}},
        optimizer_name="MomentumSchedule",
    )
    result = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=args.epochs,
        output_dir=args.output_dir,
        lr_sched_epochs=[args.epochs // 2, 3 * args.epochs // 4],
        lr_sched_factors=[0.1, 0.01],
    )
    print(f"final test loss {result['test_losses'][-1]:.3f}; file {runner.last_results_path}")
    return result


if __name__ == "__main__":
    main()
