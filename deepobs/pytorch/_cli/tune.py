"""``deepobs tune TESTPROBLEM --optimizer torch.optim.SGD --space space.json --trials 20``.

Runs Optuna trials (one training run each) and prints the best setting. Start the same
command in several shells or on several machines to share one study: the default SQLite
storage for one machine, ``--storage postgresql://...`` for many.
"""

from __future__ import annotations

import argparse
import logging
import sys

from deepobs.pytorch._cli._optimizer import check_hyperparams, import_optimizer, parse_hyperparams

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("none", "median")


def register(subparsers) -> None:
    """Add the ``tune`` sub-command."""
    p = subparsers.add_parser(
        "tune",
        help="tune hyperparameters with Optuna (SQLite or PostgreSQL studies)",
        description="Tune an optimizer's hyperparameters on a test problem with Optuna. Every "
        "trial is a run that writes its results file; the objective is the final validation "
        "metric. Workers started with the same --storage and --study-name share the study.",
    )
    p.add_argument("testproblem", help="test problem name (see `deepobs list`)")
    p.add_argument(
        "--optimizer",
        required=True,
        help="optimizer class: dotted path (torch.optim.SGD) or module:Class",
    )
    p.add_argument(
        "--space",
        metavar="FILE",
        help='JSON search space, e.g. {"lr": {"min": 1e-5, "max": 1, "scaling": "log"}}',
    )
    p.add_argument(
        "--grid",
        metavar="NAME",
        help="instead of --space: NAME on the DeepOBS grid (36 values 1e-5 ... 1e2), each once",
    )
    p.add_argument(
        "--trials",
        type=int,
        metavar="N",
        help="trials in the study, all workers together (grid: default all points)",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        help="SQLAlchemy URL of the study (default: sqlite in the output dir)",
    )
    p.add_argument("--study-name", help="default: <testproblem>__<optimizer name>")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe")
    p.add_argument("--sampler-seed", type=int, help="seed of the sampler (default: random)")
    p.add_argument(
        "--pruner",
        choices=PRUNERS,
        default="none",
        help="stop bad runs early on the per-epoch validation metric (default none)",
    )
    p.add_argument(
        "--metric",
        help="results list to optimise (default: valid_accuracies, "
        "or valid_losses for problems without accuracy)",
    )
    p.add_argument(
        "--hp",
        action="append",
        metavar="NAME=VALUE",
        help="hyperparameter held fixed, repeatable (e.g. --hp momentum=0.9)",
    )
    p.add_argument("--optimizer-name", help="name in the results tree (default: class name)")
    p.add_argument("--num-epochs", "-N", type=int, help="default: the problem's")
    p.add_argument("--batch-size", type=int, help="default: the problem's")
    p.add_argument("--l2-reg", type=float, help="L2 factor (default: the problem's)")
    p.add_argument("--random-seed", "-r", type=int, default=42, help="seed of every trial")
    p.add_argument("--output-dir", default="./results")
    p.add_argument("--data-dir", help="data directory (default: $DEEPOBS_DATA_DIR or ./data)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best available)")
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress bar; only warnings and the final summary",
    )
    p.add_argument(
        "--rerun-best",
        action="store_true",
        help="then rerun the best setting with seeds RANDOM_SEED+1 ... RANDOM_SEED+K-1, K from "
        "--seeds (existing ones skipped)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=10,
        metavar="K",
        help="with --rerun-best: seeds of the best setting, the tuning seed included (default: 10, "
        "as DeepOBS)",
    )
    p.add_argument(
        "--jobs-per-device",
        type=int,
        default=1,
        metavar="K",
        help="start K worker processes on --device that share the study and split --trials "
        "(default 1)",
    )
    p.add_argument("--worker-trials", type=int, help=argparse.SUPPRESS)  # set by the above
    p.add_argument("--verbose", action="store_true", help="log every epoch of every trial")
    p.set_defaults(func=tune)


def tune(args) -> int:
    """Run the trials of this worker and print the study's best setting."""
    from deepobs.pytorch.tuner import OptunaSearch, StudyOptions, best_setting
    from deepobs.pytorch.tuner._jobs import check_jobs
    from deepobs.pytorch.tuner.optuna_search import require_optuna

    optuna = require_optuna()
    check_jobs(args.jobs_per_device)
    if isinstance(args.seeds, bool) or args.seeds < 1:
        raise ValueError(
            f"--seeds must be a positive integer, got {args.seeds}. Pass e.g. --seeds 10."
        )
    optimizer_class = import_optimizer(args.optimizer)
    space = _space(args)
    fixed = parse_hyperparams(args.hp)
    check_hyperparams(optimizer_class, {**fixed, **dict.fromkeys(space.names)})
    if args.jobs_per_device > 1:
        return _tune_in_workers(args, optuna, optimizer_class, space)
    options = StudyOptions(
        storage=args.storage,
        study_name=args.study_name,
        sampler="grid" if args.grid else args.sampler,
        sampler_seed=args.sampler_seed,
        pruner=args.pruner,
        metric=args.metric,
    )
    run_kwargs = {
        "num_epochs": args.num_epochs,
        "batch_size": args.batch_size,
        "l2_reg": args.l2_reg,
        "data_dir": args.data_dir,
        "device": args.device,
    }
    search = OptunaSearch(
        optimizer_class, space, fixed_hyperparams=fixed, optimizer_name=args.optimizer_name
    )
    runner_logger = logging.getLogger("deepobs.pytorch.runners")
    saved = runner_logger.level, optuna.logging.get_verbosity()
    if not args.verbose:  # one line per epoch of every trial would bury the progress bar
        runner_logger.setLevel(logging.WARNING)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = search.tune(
            args.testproblem,
            args.trials,
            args.output_dir,
            args.random_seed,
            options,
            show_progress=not getattr(args, "quiet", False),
            worker_trials=args.worker_trials,
            **{k: v for k, v in run_kwargs.items() if v is not None},
        )
        best = best_setting(study)
        if args.rerun_best:
            seeds = range(args.random_seed + 1, args.random_seed + args.seeds)
            done = search.rerun_best(
                study, args.output_dir, seeds=seeds, device=args.device, data_dir=args.data_dir
            )
            print(f"reran the best setting with {len(done)} more seed(s)")
    finally:
        runner_logger.setLevel(saved[0])
        optuna.logging.set_verbosity(saved[1])
    _print_summary(study, best)
    return 0


def _tune_in_workers(args, optuna, optimizer_class, space) -> int:
    """``--jobs-per-device K``: K worker processes split ``--trials``; one summary."""
    from deepobs.pytorch.tuner import best_setting
    from deepobs.pytorch.tuner._jobs import run_workers, split_trials, without_option
    from deepobs.pytorch.tuner._study import _open_storage, check_storage_url, default_storage

    total = args.trials
    if total is None and args.grid:
        total = len(space.grid()[args.grid])
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise ValueError(
            f"--trials must be a positive integer, got {total!r}. Pass e.g. --trials 20."
        )
    shares = split_trials(total, args.jobs_per_device)
    storage = args.storage or default_storage(args.output_dir)
    check_storage_url(storage)
    opened = _open_storage(optuna, storage)  # tables made once, not raced by the workers
    argv = without_option(args.argv, "--jobs-per-device")
    if args.storage is None:  # every worker must open the same file whatever its folder
        argv += ["--storage", storage]
    print(f"{len(shares)} workers on device {args.device or 'default'}: {shares} trials")
    codes = run_workers(argv, shares)
    failed = [(i, code) for i, code in enumerate(codes) if code != 0]
    for i, code in failed:
        print(
            f"deepobs: error: worker {i + 1} of {len(codes)} exited with status {code}",
            file=sys.stderr,
        )
    if failed:
        return failed[0][1] if failed[0][1] > 0 else 1
    name = args.study_name or (
        f"{args.testproblem}__{args.optimizer_name or optimizer_class.__name__}"
    )
    study = optuna.load_study(study_name=name, storage=opened)
    _print_summary(study, best_setting(study))
    return 0


def _space(args):
    from deepobs.pytorch.tuner import SearchSpace
    from deepobs.pytorch.tuner.distributions import DEEPOBS_LR_EXPONENTS

    if (args.space is None) == (args.grid is None):
        raise ValueError(
            "Give either --space FILE (a JSON search space) or --grid NAME (e.g. --grid lr: the "
            "DeepOBS learning-rate grid)."
        )
    if args.space is not None:
        return SearchSpace.load(args.space)
    low, high, num = DEEPOBS_LR_EXPONENTS
    entry = {"min": 10**low, "max": 10**high, "scaling": "log", "num": int(num)}
    return SearchSpace.from_dict({args.grid: entry})


def _print_summary(study, best: dict) -> None:
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    print(f"study: {study.study_name} ({states})")
    print(f"best trial: #{best['trial']}, {best['metric']} = {best['value']:.6g}")
    print(
        "best hyperparameters: " + ", ".join(f"{k}={v!r}" for k, v in best["hyperparams"].items())
    )
    print(f"results: {best['results_path']}")
