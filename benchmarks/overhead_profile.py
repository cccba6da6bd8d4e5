"""Where the runner's per-step overhead goes: ``python -m benchmarks.overhead_profile``.

Times a ladder of training loops on one problem (default ``quadratic_deep``, whose whole step
is a fraction of a millisecond, so Python overhead shows), each adding one piece of what the
standard runner does per step to the bare loop of :func:`benchmarks._measure.bare_loop`:

0. ``bare``: index the in-memory tensors, ``zero_grad``, forward, loss, backward, ``step``.
1. ``phase_api``: batches and loss through the problem's DeepOBS phase API
   (``train_init_op``, ``get_batch_loss_and_accuracy_func()``: the loader iterator, the
   device move, the closure, the loss/L2 dispatch).
2. ``closure``: ``optimizer.step(closure)`` instead of ``step()`` after the backward pass.
3. ``loss_log``: the runner's divergence flag (``poisoned.add_(loss, alpha=0)``) and every
   ``train_log_interval``-th loss kept.
4. ``train_step``: the runner's :class:`~deepobs.pytorch.runners._step.TrainStep` (cost
   sampling, closure wrapper, ``forward_backward``) - the standard runner's inner loop.
5. ``runner``: ``StandardRunner`` itself (evaluation skipped), as in the harness.

Each rung runs ``--epochs`` epochs from the same seed, in interleaved repetitions; the table
gives the minimum and median microseconds per step over the repetitions (the minimum is the
least disturbed by other load on a shared machine) and each rung's increment over the rung
before. ``--cprofile`` adds the top functions of the runner by own time per step.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

import torch

from benchmarks import _measure
from deepobs.pytorch import testproblems
from deepobs.pytorch.runners import _performance, _step

RUNGS = ("bare", "phase_api", "closure", "loss_log", "train_step", "runner")


def _problem(name: str, batch_size: int, seed: int = 42):
    _measure._seed(seed)
    tproblem = getattr(testproblems, name)(batch_size, device="cpu")
    tproblem.set_up()
    return tproblem


def _one_step(rung: str, tproblem, opt, step) -> torch.Tensor:
    """One training step of ``rung`` (raises ``StopIteration`` at the end of the epoch)."""
    if rung == "train_step":
        return step(_step.forward_backward(tproblem, step, 1))
    batch_loss = tproblem.get_batch_loss_and_accuracy_func()
    if rung == "phase_api":
        opt.zero_grad()
        loss, _ = batch_loss()
        loss.backward()
        opt.step()
        return loss.detach()
    first = []  # closure, loss_log

    def closure():
        opt.zero_grad()
        value, _ = batch_loss()
        value.backward()
        first.append(value.detach())
        return value

    opt.step(closure)
    return first[0]


def ladder_loop(rung: str, name: str, batch_size: int, epochs: int, lr: float = 0.01) -> float:
    """Seconds per step of one rung (see the module docstring)."""
    if rung == "runner":
        return _measure.runner_epochs(name, batch_size, None, "cpu", lr, epochs)[0]
    if rung == "bare":
        return _measure.bare_loop(name, batch_size, None, "cpu", lr, epochs)[0]
    tproblem = _problem(name, batch_size)
    opt = torch.optim.SGD(tproblem.model.parameters(), lr=lr)
    step = None
    if rung == "train_step":
        step = _performance.set_up(tproblem, opt, _performance.PerformanceOptions(), 1)
    steps = 0
    start = time.perf_counter()
    for _ in range(epochs):
        tproblem.train_init_op()
        logged, n = [], 0
        poisoned = torch.zeros(())
        while True:
            try:
                loss = _one_step(rung, tproblem, opt, step)
            except StopIteration:
                break
            if rung in ("loss_log", "train_step"):
                poisoned.add_(loss, alpha=0.0)
                if n % 10 == 0:
                    logged.append(loss)
            n += 1
        if logged:
            torch.stack(logged).tolist()
        steps += n
    return (time.perf_counter() - start) / steps


def measure(name: str, batch_size: int, epochs: int, reps: int) -> dict:
    """Per-step times of every rung (interleaved repetitions)."""
    times = {r: [] for r in RUNGS}
    for r in RUNGS:  # warm-up
        ladder_loop(r, name, batch_size, 1)
    for rep in range(reps):
        order = RUNGS if rep % 2 == 0 else tuple(reversed(RUNGS))
        for r in order:
            times[r].append(ladder_loop(r, name, batch_size, epochs))
    rows, previous = {}, None
    for r in RUNGS:
        best, median = min(times[r]), statistics.median(times[r])
        rows[r] = {
            "min_us": best * 1e6,
            "median_us": median * 1e6,
            "increment_min_us": None if previous is None else (best - previous) * 1e6,
        }
        previous = best
    bare = rows["bare"]["min_us"]
    for r in RUNGS:
        rows[r]["ratio_vs_bare_min"] = rows[r]["min_us"] / bare
    return rows


def profile_runner(name: str, batch_size: int, epochs: int, top: int = 15) -> list[dict]:
    """Functions of the runner's loop by own time per step (cProfile; inflates Python)."""
    prof = cProfile.Profile()
    prof.enable()
    _, steps, _ = _measure.runner_epochs(name, batch_size, None, "cpu", 0.01, epochs)
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, func), (_, calls, tottime, _, _) in stats.stats.items():
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({func})",
                "calls_per_step": calls / steps,
                "own_us_per_step": tottime / steps * 1e6,
            }
        )
    return sorted(rows, key=lambda r: -r["own_us_per_step"])[:top]


def main(argv: list[str] | None = None) -> int:
    """Print the ladder (and the profile) as Markdown; write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="quadratic_deep")
    parser.add_argument("--epochs", type=int, default=100, help="epochs per repetition")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--output", type=Path, help="JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    batch = getattr(testproblems, args.problem).spec.batch_size
    rows = measure(args.problem, batch, args.epochs, args.reps)
    print(
        f"{args.problem}, batch {batch}, {args.epochs} epochs x {args.reps} reps, "
        f"{args.threads} thread(s)\n"
    )
    print("| Rung | min us/step | median us/step | + over previous (min) | x bare (min) |")
    print("|---|---|---|---|---|")
    for r, v in rows.items():
        inc = "" if v["increment_min_us"] is None else f"{v['increment_min_us']:+.1f}"
        print(
            f"| {r} | {v['min_us']:.1f} | {v['median_us']:.1f} | {inc} | "
            f"{v['ratio_vs_bare_min']:.3f} |"
        )
    report = {"problem": args.problem, "epochs": args.epochs, "reps": args.reps, "ladder": rows}
    if args.cprofile:
        report["profile"] = profile_runner(args.problem, batch, args.epochs)
        print("\n| Function (runner, cProfile) | calls/step | own us/step |\n|---|---|---|")
        for p in report["profile"]:
            print(f"| {p['function']} | {p['calls_per_step']:.2f} | {p['own_us_per_step']:.1f} |")
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
