"""``deepobs benchmark``: tune optimizers on problems, rerun the best with seeds, write a report.

For each problem and optimizer: ``--trials`` random settings from ``--space`` (seeded, so a
second call draws the same ones) with seed ``--seed``, then the best setting (final validation
metric) with ``--seeds`` seeds in all. Every run writes its results file under ``OUT/results``
and is skipped when that file exists, so an interrupted benchmark resumes where it stopped.
``OUT/report`` gets the figures, tables, statistics, ``report.html`` and ``report.md``.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from pathlib import Path

import numpy as np

from deepobs.pytorch._cli._optimizer import import_optimizer
from deepobs.pytorch.testproblems._sets import PROBLEM_SETS

#: The named problem sets (DeepOBS P1-P4 ``small``, P5-P8 ``large``, and the ``ladder``).
SETS = PROBLEM_SETS
logger = logging.getLogger("deepobs.benchmark")


def register(subparsers) -> None:
    """Add the ``benchmark`` sub-command."""
    p = subparsers.add_parser(
        "benchmark",
        help="tune optimizers on problems, rerun the best with seeds, write a report",
        description="Random-search each optimizer on each problem, rerun its best setting "
        "with several seeds, and write figures, tables, statistics, report.html and report.md "
        "to OUT/report. Completed runs are skipped, so the command resumes.",
    )
    p.add_argument(
        "--optimizer",
        action="append",
        required=True,
        metavar="PATH",
        help="optimizer class, repeatable: torch.optim.Adam, module:Class or ./my_file.py:Class",
    )
    p.add_argument(
        "--space",
        action="append",
        required=True,
        metavar="FILE",
        help='JSON search space, e.g. {"lr": {"min": 1e-4, "max": 1, '
        '"scaling": "log"}}; one for all optimizers or one per --optimizer',
    )
    p.add_argument(
        "--problems",
        nargs="+",
        default=["small"],
        metavar="NAME",
        help="small, large, ladder or test problem names (default: small)",
    )
    p.add_argument(
        "--trials",
        type=int,
        default=10,
        metavar="N",
        help="random settings per optimizer and problem (default 10)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=3,
        metavar="K",
        help="seeds of the best setting, the tuning seed included (default 3)",
    )
    p.add_argument("--seed", type=int, default=42, help="tuning seed; reruns use the next ones")
    p.add_argument("--num-epochs", "-N", type=int, help="default: each problem's")
    p.add_argument("--batch-size", type=int, help="default: each problem's")
    p.add_argument(
        "--baselines",
        metavar="NAME|DIR",
        help="reference runs in the report: deepobs-1.1 or a results folder",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder of results and report")
    p.add_argument("--data-dir", help="data directory (default: $DEEPOBS_DATA_DIR or ./data)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best available)")
    p.add_argument("--format", default="png,pdf", help="figure formats (png always)")
    p.add_argument(
        "--style", default="default", choices=("default", "neurips", "icml", "iclr", "jmlr")
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the number of runs and an estimated wall time, run nothing",
    )
    p.set_defaults(func=run)


def _problems(names: list[str]) -> list[str]:
    from deepobs.pytorch.testproblems import list_testproblems

    known = set(list_testproblems())
    problems = [p for name in names for p in SETS.get(name, (name,))]
    unknown = [p for p in problems if p not in known]
    if unknown:
        raise ValueError(
            f"Unknown test problem(s) {unknown}. Valid: small, large, ladder or names "
            "from `deepobs list`."
        )
    return list(dict.fromkeys(problems))


def _spaces(paths: list[str], n_optimizers: int) -> list:
    from deepobs.pytorch.tuner.space import SearchSpace

    if len(paths) not in (1, n_optimizers):
        raise ValueError(
            f"Give one --space for all optimizers or one per --optimizer; got "
            f"{len(paths)} for {n_optimizers} optimizers."
        )
    spaces = [SearchSpace.load(p) for p in paths]
    return spaces * n_optimizers if len(spaces) == 1 else spaces


def sample_settings(space, n: int, seed: int) -> list[dict]:
    """``n`` settings drawn uniformly (log-uniformly for log ranges) from ``space``."""
    rng = np.random.default_rng(seed)
    settings = []
    for _ in range(n):
        setting = {}
        for name, dim in space.dimensions.items():
            if dim.choices is not None:
                setting[name] = dim.choices[int(rng.integers(len(dim.choices)))]
            elif dim.integer:
                setting[name] = int(rng.integers(dim.low, dim.high + 1))
            elif dim.log:
                setting[name] = float(math.exp(rng.uniform(math.log(dim.low), math.log(dim.high))))
            else:
                setting[name] = float(rng.uniform(dim.low, dim.high))
        settings.append(
            {k: float(f"{v:.6g}") if isinstance(v, float) else v for k, v in setting.items()}
        )
    return settings


class _Plan:
    """What the benchmark runs: per (problem, optimizer) the tuning settings."""

    def __init__(self, args) -> None:
        self.classes = [import_optimizer(path) for path in args.optimizer]
        names = [cls.__name__ for cls in self.classes]
        if len(set(names)) != len(names):
            raise ValueError(f"Optimizer names {names} repeat; give each class a unique name.")
        self.names = names
        self.spaces = _spaces(args.space, len(self.classes))
        self.problems = _problems(args.problems)
        if args.trials < 1 or args.seeds < 1:
            raise ValueError(
                f"--trials and --seeds must be >= 1, got {args.trials} and {args.seeds}."
            )
        self.args = args

    @property
    def n_runs(self) -> int:
        per_pair = self.args.trials + self.args.seeds - 1
        return len(self.problems) * len(self.classes) * per_pair

    def settings(self, index: int, problem: str) -> list[dict]:
        seed = self.args.seed + 1000 * index + sum(map(ord, problem))
        return sample_settings(self.spaces[index], self.args.trials, seed)


def _runner(cls, name: str, hyperparams: dict):
    from deepobs.pytorch.runners import StandardRunner

    return StandardRunner(
        cls, {k: {"type": type(v)} for k, v in hyperparams.items()}, optimizer_name=name
    )


def _run_one(plan: _Plan, cls, name: str, problem: str, hyperparams: dict, seed: int) -> None:
    args = plan.args
    runner = _runner(cls, name, hyperparams)
    runner.run(
        testproblem=problem,
        hyperparams=dict(hyperparams),
        random_seed=seed,
        num_epochs=args.num_epochs,
        batch_size=args.batch_size,
        output_dir=Path(args.out) / "results",
        data_dir=args.data_dir,
        device=args.device,
        skip_if_exists=True,
    )


def _best(out: Path, problem: str, name: str) -> dict:
    from deepobs.pytorch.analyzer import read_results
    from deepobs.pytorch.analyzer.select import rank_settings

    results = read_results(out / "results" / problem / name)
    setting = rank_settings(results, problem, name)["setting"].iloc[0]
    return results.groups()[(problem, name, setting)][0].hyperparams


def run_seconds(result: dict, epochs: int, measured: float) -> float:
    """Seconds of a run of ``epochs`` epochs, estimated from a 1-epoch run's result.

    Its fixed cost (set-up, data) counts once, then per epoch the measured training steps and
    one evaluation.
    """
    meta = result.get("meta", {}) if isinstance(result, dict) else {}
    cost = meta.get("cost") or {}
    train, evaluation = cost.get("train_time_s"), cost.get("eval_time_s")
    if not isinstance(train, int | float) or not isinstance(evaluation, int | float):
        return measured * epochs
    total = meta.get("wall_time_s", measured)
    fixed = max(0.0, total - train - evaluation)
    return fixed + (epochs + 1) * evaluation / 2 + epochs * train


def _estimate(plan: _Plan) -> list[str]:
    """Time a 1-epoch run per problem and scale it to the benchmark's epochs and runs.

    The training steps and the evaluation are measured by the runner.
    """
    from deepobs.pytorch.testproblems import get_testproblem_class

    lines, total = [], 0.0
    per_pair = plan.args.trials + plan.args.seeds - 1
    runner_log = logging.getLogger("deepobs.pytorch.runners")
    level = runner_log.level
    runner_log.setLevel(logging.WARNING)
    try:
        for problem in plan.problems:
            epochs = plan.args.num_epochs or get_testproblem_class(problem).spec.num_epochs or 1
            setting = plan.settings(0, problem)[0]
            runner = _runner(plan.classes[0], plan.names[0], setting)
            start = time.perf_counter()
            try:
                result = runner.run(
                    testproblem=problem,
                    hyperparams=dict(setting),
                    num_epochs=1,
                    batch_size=plan.args.batch_size,
                    data_dir=plan.args.data_dir,
                    device=plan.args.device,
                    no_logs=True,
                )
            except (FileNotFoundError, RuntimeError, ValueError) as err:
                lines.append(f"  {problem}: cannot measure ({str(err).splitlines()[0]})")
                continue
            per_run = run_seconds(result, epochs, time.perf_counter() - start)
            runs = per_pair * len(plan.classes)
            total += per_run * runs
            lines.append(
                f"  {problem}: {runs} runs x {epochs} epochs, about {per_run:.1f} s "
                f"per run (measured: one epoch of {plan.names[0]})"
            )
    finally:
        runner_log.setLevel(level)
    device = plan.args.device or "the default device"
    lines.append(f"estimated wall time on {device}: about {_duration(total)} in one process")
    return lines


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def run(args) -> int:
    """Plan, (dry-)run, analyse, report."""
    plan = _Plan(args)
    out = Path(args.out)
    print(
        f"benchmark: {len(plan.names)} optimizer(s) x {len(plan.problems)} problem(s): "
        f"{plan.n_runs} runs ({args.trials} trials + {args.seeds - 1} more seeds each)"
    )
    if args.dry_run:
        for line in _estimate(plan):
            print(line)
        return 0
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    runner_log = logging.getLogger("deepobs.pytorch.runners")
    level = runner_log.level
    runner_log.setLevel(logging.WARNING)  # one overall bar instead of per-epoch lines
    bar = tqdm(
        total=plan.n_runs,
        unit="run",
        desc="benchmark",
        file=sys.stderr,
        disable=getattr(args, "quiet", False),
        dynamic_ncols=True,
    )
    try:
        with logging_redirect_tqdm(loggers=[logging.getLogger("deepobs")]):
            for problem in plan.problems:
                for index, (cls, name) in enumerate(zip(plan.classes, plan.names)):
                    for hyperparams in plan.settings(index, problem):
                        bar.set_postfix_str(f"{problem} {name} tuning")
                        _run_one(plan, cls, name, problem, hyperparams, args.seed)
                        bar.update()
                    best = _best(out, problem, name)
                    for seed in range(args.seed + 1, args.seed + args.seeds):
                        bar.set_postfix_str(f"{problem} {name} seed {seed}")
                        _run_one(plan, cls, name, problem, best, seed)
                        bar.update()
    finally:
        bar.close()
        runner_log.setLevel(level)
    reference = _reference(args.baselines)
    from deepobs.pytorch.analyzer.report import write_report

    lines = [
        f"optimizers: {', '.join(plan.names)}; problems: {', '.join(plan.problems)}",
        f"{args.trials} random trials per optimizer and problem, best setting rerun with "
        f"{args.seeds} seeds; {plan.n_runs} runs",
    ]
    written = write_report(
        out / "results",
        out / "report",
        reference_path=reference,
        formats=args.format,
        style=args.style,
        summary_lines=lines,
        title="DeepOBS benchmark: " + " vs ".join(plan.names),
    )
    print(f"report: {out / 'report' / 'report.html'} ({len(written)} files in {out / 'report'})")
    return 0


def _reference(baselines: str | None) -> Path | None:
    if not baselines:
        return None
    from deepobs.pytorch._cli.analyze import reference_path

    return reference_path(baselines)
