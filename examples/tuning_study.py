"""A learning-rate search on quadratic_deep: the DeepOBS grid, then an Optuna study on SQLite.

1. ``GridSearch`` over learning rates of the DeepOBS grid (one seed each, as the protocol);
2. ``rerun_setting``: the best setting, chosen on the validation loss, with more seeds;
3. ``OptunaSearch``: TPE over a log-uniform range, stored in ``<output-dir>/optuna.db``.
   Several processes running step 3 at once share the study (see ``deepobs tune --help``).

Run it with ``python examples/tuning_study.py [--epochs N] [--grid-points K] [--seeds S]
[--trials T] [--output-dir DIR]``; ``--grid-points 36 --seeds 9`` is the full protocol.
Step 3 needs the tuner extra (``pip install "deepobs[tuner]"``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import torch

from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.tuner import (
    GridSearch,
    OptunaSearch,
    best_setting,
    deepobs_lr_grid,
    rerun_setting,
)

SGD = {"lr": {"type": float}}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--grid-points", type=int, default=4, help="of the 36 DeepOBS rates")
    parser.add_argument("--seeds", type=int, default=2, help="extra seeds for the best setting")
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--output-dir", default="results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    out = Path(args.output_dir)

    # 1. The DeepOBS grid (evenly thinned to --grid-points values), seed 42 for every rate.
    grid = deepobs_lr_grid()
    rates = [grid[i] for i in np.linspace(10, len(grid) - 11, args.grid_points).astype(int)]
    GridSearch(torch.optim.SGD, SGD, {"lr": rates}, ressources=36).tune(
        "quadratic_deep", output_dir=out, num_epochs=args.epochs
    )

    # 2. The best rate on validation data, rerun with seeds 43, 44, ...
    reruns = rerun_setting(
        StandardRunner,
        torch.optim.SGD,
        SGD,
        out / "quadratic_deep" / "SGD",
        seeds=range(43, 43 + args.seeds),
        metric="valid_losses",
    )
    best_lr = reruns[0]["optimizer_hyperparams"]["lr"]
    print(
        f"grid: best lr {best_lr:.3g}, final test losses of the reruns "
        f"{[round(r['test_losses'][-1], 2) for r in reruns]}"
    )

    # 3. An Optuna study (TPE) around it; every trial writes its results file as well.
    search = OptunaSearch(
        torch.optim.SGD,
        {"lr": {"min": 1e-3, "max": 0.05, "scaling": "log"}},
        optimizer_name="SGD_tpe",
    )
    study = search.tune("quadratic_deep", args.trials, output_dir=out, num_epochs=args.epochs)
    best = best_setting(study)
    print(
        f"optuna: best lr {best['hyperparams']['lr']:.3g} with valid loss "
        f"{best['value']:.4g} after {len(study.trials)} trials; file {best['results_path']}"
    )
    return best


if __name__ == "__main__":
    main()
