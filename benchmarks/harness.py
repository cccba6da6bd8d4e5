"""Benchmark of the harness: ``python -m benchmarks.harness [--device cpu|cuda] [--quick]``.

Measures, in one process, and prints a Markdown table (and writes a JSON file):

1. **Runner overhead**: StandardRunner seconds per training step over a bare hand-written
   PyTorch loop on the same model, data tensors, augmentation and device (interleaved
   repetitions, medians; evaluation is skipped in both, the training loop is the runner's).
   Both start from the same seed, so their first losses agree: a check that they do the same
   work. Target <= 1.05, goal <= 1.02.
2. **Data pipeline speed-up**: images/s of the in-memory fast path over DeepOBS 1.2's
   pipeline (torchvision CIFAR-10 + PIL transforms + DataLoader, ``num_workers=0`` as in
   DeepOBS 1.2; also with this machine's default workers) on CIFAR-10 with full augmentation.
   Target >= 10 on the CPU.
3. **Epoch and evaluation times** of benchmark problems at their default batch sizes. With
   ``--quick`` a few steps and one evaluation pass are timed on small data and extrapolated to
   the real sizes (marked "extrapolated"). On a GPU also the speed-ups of ``amp="bf16"`` and
   ``compile=True`` (skipped on the CPU, with the reason).

Real data is used where ``--data-dir`` (or the deepobs default) holds it, else fake files in
the real formats; the report says which.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import torch
import torchvision

import deepobs
from benchmarks import _data, _measure
from deepobs.pytorch import config, datasets, testproblems

PROBLEMS = ("quadratic_deep", "mnist_mlp", "cifar10_3c3d", "cifar100_allcnnc", "svhn_wrn164")
#: Problems of the overhead ratio, with the training epochs per repetition (quick, full).
OVERHEAD_PROBLEMS = {"quadratic_deep": (100, 300), "mnist_mlp": (2, 1), "cifar10_3c3d": (1, 1)}
NO_GPU_REASON = (
    "skipped on the CPU: bf16 autocast and torch.compile target GPUs (CPU bf16 "
    "kernels depend on AMX/AVX-512 support; compiling takes minutes)"
)


def split_sizes(name: str) -> dict[str, int]:
    """Real sizes of a data set's splits (DeepOBS 1.2 rule, see ``datasets._image``)."""
    cls = getattr(datasets, name)
    if not cls.requires_files:  # quadratic: 1,000 per split, train_eval = the training set
        return dict.fromkeys(("train", "train_eval", "valid", "test"), 1000)
    n_train, n_test = cls.expected_sizes
    valid = min(cls.eval_size, n_train // 2)
    train = n_train - valid
    return {"train": train, "train_eval": min(cls.eval_size, train), "valid": valid, "test": n_test}


def hardware(device: str) -> dict:
    """CPU model, cores, GPU name and versions, for the report."""
    model = platform.processor() or platform.machine()
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.startswith("Model name")
        )
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else None
    return {
        "cpu": model,
        "cpu_count": len(_affinity()),
        "torch_threads": torch.get_num_threads(),
        "gpu": gpu,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "deepobs": deepobs.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _affinity() -> set:
    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # macOS, Windows
        return set(range(os.cpu_count() or 1))


def measure_problems(data: dict, device: str, quick: bool) -> dict:
    """Epoch and evaluation times (and GPU option speed-ups) of :data:`PROBLEMS`."""
    rows = {}
    for name in PROBLEMS:
        dataset = getattr(testproblems, name).spec.dataset
        row = _measure.problem_times(name, data[dataset], device, full_epochs=not quick)
        sizes = split_sizes(dataset)
        bs = row["batch_size"]
        row["steps_per_epoch"] = sizes["train"] // bs
        if quick:
            row["epoch_s"] = row["s_per_step"] * row["steps_per_epoch"]
            evaluated = sum(sizes[s] // bs * bs for s in ("train_eval", "valid", "test"))
            row["eval_s"] = row["s_per_eval_example"] * evaluated
        row["timing"] = "extrapolated" if quick else "measured"
        row["data"] = data[dataset]["source"]
        if device.startswith("cuda"):  # all three timed the same way: second of two epochs
            base = row if quick else _measure.problem_times(name, data[dataset], device, False)
            for label, options in (("amp_bf16", {"amp": "bf16"}), ("compile", {"compile": True})):
                other = _measure.problem_times(name, data[dataset], device, False, **options)
                row[f"speedup_{label}"] = base["s_per_step"] / other["s_per_step"]
        rows[name] = row
    return rows


def run(args) -> dict:
    """Run every measurement; return the report as a dict."""
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="deepobs-bench-") as scratch:  # fake data
        names = sorted({getattr(testproblems, p).spec.dataset for p in PROBLEMS})
        data = _data.prepare(names, args.data_dir, Path(scratch), args.quick)
        return _measure_all(args, data)


def _measure_all(args, data: dict) -> dict:
    device = args.device
    reps = 7 if args.quick else 9
    report = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "device": device,
        "hardware": hardware(device),
        "data": {k: v["source"] for k, v in data.items()},
    }
    report["pipeline"] = _measure.pipeline_speedup(
        data["cifar10"], device, n_batches=10 if args.quick else 50, reps=reps
    )
    report["overhead"] = {}
    for name, epochs in OVERHEAD_PROBLEMS.items():
        spec = getattr(testproblems, name).spec
        report["overhead"][name] = _measure.runner_overhead(
            name, spec.batch_size, data[spec.dataset], device, reps, epochs[not args.quick]
        )
    report["problems"] = measure_problems(data, device, args.quick)
    report["gpu_options"] = None if device.startswith("cuda") else NO_GPU_REASON
    return report


def _num(x: float) -> str:
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def markdown(report: dict) -> str:
    """The report as Markdown tables."""
    hw = report["hardware"]
    lines = [
        f"Date {report['date']}; {hw['cpu']} ({hw['cpu_count']} cores, torch threads "
        f"{hw['torch_threads']}); device {report['device']}"
        + (f" ({hw['gpu']})" if hw["gpu"] else "")
        + f"; torch {hw['torch']}, torchvision {hw['torchvision']}, Python {hw['python']}; "
        f"data: {', '.join(f'{k} {v}' for k, v in report['data'].items())}"
        + ("; --quick" if report["quick"] else ""),
        "",
        "| Ratio | Value | Target |",
        "|---|---|---|",
    ]
    for name, o in report["overhead"].items():
        lines.append(
            f"| Runner overhead, {name} (runner / bare loop per step; "
            f"{o['runner_s_per_step'] * 1e3:.3g} / {o['bare_s_per_step'] * 1e3:.3g} ms"
            f"{'' if o['same_first_loss'] else '; first losses DIFFER'}) | "
            f"{o['ratio']:.3f} (reps {min(o['ratios']):.3f}-{max(o['ratios']):.3f}) | "
            "<= 1.05 (goal 1.02) |"
        )
    p = report["pipeline"]
    for key, value in p["speedup"].items():
        workers = key.rsplit("_", 1)[1]
        lines.append(
            f"| Data pipeline speed-up vs DeepOBS 1.2 (DataLoader num_workers={workers}; "
            f"{p['images_per_second']['fast']:,.0f} / "
            f"{p['images_per_second'][key]:,.0f} images/s) | {value:.1f}x | >= 10 |"
        )
    lines += [
        "",
        "| Problem | Batch | Steps/epoch | ms/step | Epoch (s) | Evaluation (s) | "
        "Timing | Data | bf16 speed-up | compile speed-up |",
        "|---" * 10 + "|",
    ]
    for name, r in report["problems"].items():
        gpu = [
            f"{r[k]:.2f}x" if k in r else "n/a (CPU)"
            for k in ("speedup_amp_bf16", "speedup_compile")
        ]
        lines.append(
            f"| {name} | {r['batch_size']} | {r['steps_per_epoch']} | "
            f"{_num(r['s_per_step'] * 1e3)} | {_num(r['epoch_s'])} | {_num(r['eval_s'])} | "
            f"{r['timing']} | {r['data']} | {gpu[0]} | {gpu[1]} |"
        )
    if report["gpu_options"]:
        lines += ["", f"bf16/compile: {report['gpu_options']}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, measure, print the Markdown report and write the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="few steps, extrapolated to full epochs (minutes on a CPU)",
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--data-dir", type=Path, help="real data, where present")
    parser.add_argument(
        "--output", type=Path, help="JSON file (default benchmarks/results_<device>[_quick].json)"
    )
    args = parser.parse_args(argv)
    try:
        config.validate_device(args.device)
    except ValueError as err:
        parser.error(str(err))
    report = run(args)
    text = markdown(report)
    print(text)
    suffix = "_quick" if args.quick else ""
    out = args.output or Path(__file__).parent / f"results_{args.device.split(':')[0]}{suffix}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
