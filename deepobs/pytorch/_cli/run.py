"""``deepobs run TESTPROBLEM --optimizer torch.optim.SGD --hp lr=0.1``: one training run."""

from __future__ import annotations

from deepobs.pytorch._cli._optimizer import check_hyperparams, import_optimizer, parse_hyperparams
from deepobs.pytorch.runners import LearningRateScheduleRunner, StandardRunner


def register(subparsers) -> None:
    """Add the ``run`` sub-command."""
    p = subparsers.add_parser("run", help="train one optimizer setting on one test problem")
    p.add_argument("testproblem", help="test problem name (see `deepobs list`)")
    p.add_argument("--optimizer", required=True,
                   help="optimizer class: dotted path (torch.optim.SGD) or module:Class")
    p.add_argument("--hp", action="append", metavar="NAME=VALUE",
                   help="optimizer hyperparameter, repeatable (e.g. --hp lr=0.1)")
    p.add_argument("--optimizer-name", help="name in the results tree (default: class name)")
    p.add_argument("--num-epochs", "-N", type=int, help="default: the problem's")
    p.add_argument("--batch-size", type=int, help="default: the problem's")
    p.add_argument("--random-seed", "-r", type=int, default=42)
    p.add_argument("--l2-reg", type=float, help="L2 factor (default: the problem's)")
    p.add_argument("--output-dir", default="./results")
    p.add_argument("--data-dir", help="data directory (default: $DEEPOBS_DATA_DIR or ./data)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best available)")
    p.add_argument("--train-log-interval", type=int, default=10)
    p.add_argument("--print-train-iter", action="store_true")
    p.add_argument("--no-logs", action="store_true", help="do not write a results file")
    p.add_argument("--skip-if-exists", action="store_true",
                   help="do nothing if this seed's result already exists")
    p.add_argument("--lr-sched-epochs", type=int, nargs="+", help="epochs where the lr changes")
    p.add_argument("--lr-sched-factors", type=float, nargs="+", help="factors of the base lr")
    p.add_argument("--grad-accumulation", type=int, metavar="K",
                   help="split each batch into K micro-batches (memory; same results)")
    p.add_argument("--amp", choices=["off", "bf16", "fp16"],
                   help="mixed precision (autocast) of the forward pass; default off")
    p.add_argument("--compile", action="store_true", default=None, help="torch.compile the model")
    p.add_argument("--channels-last", action="store_true", default=None,
                   help="channels-last memory layout for the model and image inputs")
    p.add_argument("--eval-batch-size", type=int, metavar="N",
                   help="most examples evaluated at once (default 4x batch; same examples)")
    p.add_argument("--checkpoint-every", type=int, metavar="N",
                   help="save a checkpoint next to the results every N epochs")
    p.add_argument("--resume", action="store_true", default=None,
                   help="continue from this run's checkpoint if there is one")
    p.add_argument("--tb-log", action="store_true", help="write TensorBoard logs")
    p.add_argument("--tb-log-dir", help="TensorBoard folder (default: the run's results folder)")
    p.set_defaults(func=run)


def training_params(args) -> dict:
    """The training parameters given on the command line (``None`` = not given)."""
    params = {"lr_sched_epochs": args.lr_sched_epochs, "lr_sched_factors": args.lr_sched_factors,
              "grad_accumulation": args.grad_accumulation, "amp": args.amp,
              "compile": args.compile, "channels_last": args.channels_last,
              "eval_batch_size": args.eval_batch_size, "checkpoint_every": args.checkpoint_every,
              "resume": args.resume}
    return {k: v for k, v in params.items() if v is not None}


def run(args) -> int:
    """Resolve the optimizer, run, and print where the result went."""
    optimizer_class = import_optimizer(args.optimizer)
    hyperparams = parse_hyperparams(args.hp)
    check_hyperparams(optimizer_class, hyperparams)
    params = training_params(args)
    runner_class = LearningRateScheduleRunner if "lr_sched_epochs" in params else StandardRunner
    runner = runner_class(
        optimizer_class,
        {name: {"type": type(value)} for name, value in hyperparams.items()},
        optimizer_name=args.optimizer_name,
    )
    result = runner.run(
        testproblem=args.testproblem, hyperparams=hyperparams, batch_size=args.batch_size,
        num_epochs=args.num_epochs, random_seed=args.random_seed, data_dir=args.data_dir,
        output_dir=args.output_dir, l2_reg=args.l2_reg, no_logs=args.no_logs,
        train_log_interval=args.train_log_interval, print_train_iter=args.print_train_iter,
        skip_if_exists=args.skip_if_exists, device=args.device, tb_log=args.tb_log,
        tb_log_dir=args.tb_log_dir, **params,
    )
    if result is None:
        print("skipped: a result for this seed already exists")
        return 0
    print(f"status: {result['status']}")
    print(f"results: {runner.last_results_path or '(not written: --no-logs, or not rank 0)'}")
    return 0
