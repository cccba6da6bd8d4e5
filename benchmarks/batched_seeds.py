"""Throughput of batched seeds: ``python -m benchmarks.batched_seeds [--device cpu]``.

For each problem and K, trains K seeds of one setting (SGD, learning rate 0.01) twice: as K
sequential ``StandardRunner`` runs and as one :class:`~deepobs.pytorch.runners.batched.
BatchedSeedRunner` run, and reports the ratio of their times (sequential / batched: the
throughput gain of batching; > 1 is faster) for the training steps alone (``meta.cost.
train_time_s``) and for the whole runs (set-up and evaluations included). The first seed's
curves of both are compared as a check that they did the same work.

Data: ``quadratic_deep`` generates its own; ``mnist_mlp`` runs on fake MNIST files in the real
format (``tests/fake_image_data.py``; 10,240 raw training examples, so 40 steps per epoch at
batch 128) unless ``--data-dir`` holds the real files.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import torch

from benchmarks import _data, harness
from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.runners.batched import BatchedSeedRunner

SGD = {"lr": {"type": float}}
PROBLEMS = {"quadratic_deep": 10, "mnist_mlp": 1}  # epochs per run


def _sequential(name, seeds, epochs, data_dir, device) -> tuple[float, float, dict]:
    train, start, first = 0.0, time.perf_counter(), None
    for seed in seeds:
        result = StandardRunner(torch.optim.SGD, SGD).run(
            testproblem=name,
            hyperparams={"lr": 0.01},
            num_epochs=epochs,
            random_seed=seed,
            data_dir=data_dir,
            no_logs=True,
            device=device,
        )
        train += result["meta"]["cost"]["train_time_s"]
        first = first or result
    return train, time.perf_counter() - start, first


def _batched(name, seeds, epochs, data_dir, device) -> tuple[float, float, dict]:
    start = time.perf_counter()
    results = BatchedSeedRunner(torch.optim.SGD, SGD).run_seeds(
        name, {"lr": 0.01}, seeds, num_epochs=epochs, data_dir=data_dir, no_logs=True, device=device
    )
    return results[0]["meta"]["cost"]["train_time_s"], time.perf_counter() - start, results[0]


def measure(name: str, ks, epochs: int, data_dir, device: str, reps: int) -> dict:
    """Sequential/batched time ratios for each K (medians of interleaved repetitions)."""
    _batched(name, [0, 1], 1, data_dir, device)  # warm-up (vmap, allocator)
    _sequential(name, [0], 1, data_dir, device)
    rows = {}
    for k in ks:
        seeds = list(range(42, 42 + k))
        train_ratios, wall_ratios, seq_train = [], [], []
        for rep in range(reps):
            pair = (_sequential, _batched) if rep % 2 == 0 else (_batched, _sequential)
            out = {f.__name__: f(name, seeds, epochs, data_dir, device) for f in pair}
            (s_train, s_wall, s_first), (b_train, b_wall, b_first) = (
                out["_sequential"],
                out["_batched"],
            )
            train_ratios.append(s_train / b_train)
            wall_ratios.append(s_wall / b_wall)
            seq_train.append(s_train)
        same = all(
            abs(a - b) <= 1e-4 * max(1.0, abs(b))
            for a, b in zip(b_first["test_losses"], s_first["test_losses"], strict=True)
        )
        steps = s_first["meta"]["cost"]["train_steps"]
        rows[k] = {
            "train_ratio": statistics.median(train_ratios),
            "wall_ratio": statistics.median(wall_ratios),
            "sequential_ms_per_seed_step": statistics.median(seq_train) / (k * steps) * 1e3,
            "train_ratios": train_ratios,
            "same_curves": same,
            "steps_per_seed": steps,
        }
    return rows


def main(argv: list[str] | None = None) -> int:
    """Measure, print a Markdown table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ks", default="1,2,4,8", help="numbers of seeds (default 1,2,4,8)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results_batched_seeds.json"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ks = [int(k) for k in args.ks.split(",")]
    report = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "device": args.device,
        "hardware": harness.hardware(args.device),
        "reps": args.reps,
        "problems": {},
    }
    with tempfile.TemporaryDirectory(prefix="deepobs-bench-") as scratch:
        data = _data.prepare(["mnist", "quadratic"], args.data_dir, Path(scratch), quick=True)
        for name, epochs in PROBLEMS.items():
            source = data["quadratic" if name == "quadratic_deep" else "mnist"]
            rows = measure(name, ks, epochs, source["data_dir"], args.device, args.reps)
            report["problems"][name] = {"epochs": epochs, "data": source["source"], "k": rows}
    hw = report["hardware"]
    print(
        f"{report['date']}; {hw['cpu']} ({hw['cpu_count']} cores, torch threads "
        f"{hw['torch_threads']}); device {args.device}; torch {hw['torch']}\n"
    )
    print(
        "| Problem | K | Sequential ms per seed-step | Training: sequential / batched | "
        "Whole run: sequential / batched | Same curves |"
    )
    print("|---|---|---|---|---|---|")
    for name, p in report["problems"].items():
        for k, r in p["k"].items():
            print(
                f"| {name} ({p['data']}) | {k} | {r['sequential_ms_per_seed_step']:.3g} | "
                f"{r['train_ratio']:.2f}x | {r['wall_ratio']:.2f}x | {r['same_curves']} |"
            )
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
