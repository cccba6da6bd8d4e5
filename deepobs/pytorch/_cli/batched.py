"""``deepobs run ... --seeds 42-51 --batched``: several seeds of one setting in one process.

The training is :class:`deepobs.pytorch.runners.batched.BatchedSeedRunner`; this module adds its
flags to ``deepobs run`` and prints where the results went.
"""

from __future__ import annotations

from deepobs.pytorch.runners.batched import BatchedSeedRunner, parse_seeds


def add_cli_flags(parser) -> None:
    """Add ``--seeds`` and ``--batched`` to the ``deepobs run`` parser."""
    parser.add_argument(
        "--seeds",
        metavar="SEEDS",
        help="with --batched: train these seeds together, e.g. 42-51 or 1,3,5",
    )
    parser.add_argument(
        "--batched",
        action="store_true",
        help="train --seeds as one stacked model (elementwise optimizers only; "
        "same results files as one run per seed)",
    )


def run_from_command_line(
    args, optimizer_class, hyperparams: dict, training_params: dict, run_args: dict
) -> int:
    """``deepobs run ... --seeds 42-51 --batched``: train the seeds, print the result files.

    Raises:
        ValueError: for ``--seeds`` without ``--batched`` or the other way round, or with
            ``--random-seed`` (and everything :meth:`BatchedSeedRunner.run_seeds` refuses).
    """
    if not (args.seeds and args.batched):
        missing = "--batched" if args.seeds else "--seeds"
        raise ValueError(
            f"--seeds and --batched go together; add {missing} (e.g. --seeds 42-51 --batched), "
            "or run one seed per call with --random-seed."
        )
    run_args = dict(run_args)
    if run_args.pop("random_seed", None) not in (None, 42):  # 42: the flag's default
        raise ValueError("--random-seed and --seeds exclude each other; pass only --seeds.")
    runner = BatchedSeedRunner(
        optimizer_class,
        {name: {"type": type(v)} for name, v in hyperparams.items()},
        optimizer_name=args.optimizer_name,
    )
    results = runner.run_seeds(
        args.testproblem, hyperparams, parse_seeds(args.seeds), **run_args, **training_params
    )
    if not results:
        print("skipped: results for all these seeds already exist")
        return 0
    for result in results:
        print(f"seed {result['random_seed']}: status {result['status']}")
    for path in runner.last_results_paths:
        print(f"results: {path}")
    if not runner.last_results_paths:
        print("results: (not written: --no-logs)")
    return 0
