"""``deepobs run TESTPROBLEM --optimizer torch.optim.SGD --hp lr=0.1``: one training run.

The flags come from the one table of options (:mod:`deepobs.pytorch.runners.options`).
"""

from __future__ import annotations

from deepobs.pytorch._cli import batched
from deepobs.pytorch._cli._optimizer import check_hyperparams, import_optimizer, parse_hyperparams
from deepobs.pytorch.runners import LearningRateScheduleRunner, StandardRunner, options
from deepobs.pytorch.runners._progress import ProgressBar


def register(subparsers) -> None:
    """Add the ``run`` sub-command."""
    p = subparsers.add_parser("run", help="train one optimizer setting on one test problem")
    p.add_argument("testproblem", help="test problem name (see `deepobs list`)")
    options.add_cli_flags(p)
    batched.add_cli_flags(p)  # --seeds 42-51 --batched
    p.set_defaults(func=run)


def training_params(args) -> dict:
    """The training parameters and run options given on the command line."""
    return options.cli_values(args, ("training", "run_option"))


def run(args) -> int:
    """Resolve the optimizer, run, and print where the result went."""
    if args.optimizer is None:
        raise ValueError("--optimizer is required, e.g. --optimizer torch.optim.SGD.")
    optimizer_class = import_optimizer(args.optimizer)
    hyperparams = parse_hyperparams(args.hp)
    check_hyperparams(optimizer_class, hyperparams)
    params = training_params(args)
    if args.seeds or args.batched:
        return batched.run_from_command_line(
            args, optimizer_class, hyperparams, params, options.cli_values(args, ("run",))
        )
    scheduled = "lr_sched_epochs" in params or "lr_sched_factors" in params
    runner_class = LearningRateScheduleRunner if scheduled else StandardRunner
    runner = runner_class(
        optimizer_class,
        {name: {"type": type(value)} for name, value in hyperparams.items()},
        optimizer_name=args.optimizer_name,
    )
    if not getattr(args, "quiet", False):  # tqdm bar over epochs on stderr, rank 0 only
        runner.callbacks.append(ProgressBar())
    run_args = options.cli_values(args, ("run",))
    result = runner.run(testproblem=args.testproblem, hyperparams=hyperparams, **run_args, **params)
    if result is None and params.get("resume") and runner.last_results_path is not None:
        print(f"done: this seed is finished, its result is {runner.last_results_path}")
        return 0
    if result is None:
        print("skipped: a result for this seed already exists")
        return 0
    print(f"status: {result['status']}")
    print(f"results: {runner.last_results_path or '(not written: --no-logs, or not rank 0)'}")
    return 0
