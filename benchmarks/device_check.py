"""Device check: ``python -m benchmarks.device_check --device cuda --out DIR [--smoke]``.

One unattended script (no prompts, no download, a hard time limit; default 290 s) that proves
a device works and measures the speed of a full benchmark run:

1. **Tests**: the ``gpu``-marked tests of ``tests/test_gpu.py`` (every registered problem
   trains and evaluates on the device as on the CPU, with ``amp="bf16"``, ``channels_last``
   and, for three problems, ``compile=True``; data-parallel with NCCL at world size 1;
   checkpoint/resume bit for bit with the CUDA random state), run by pytest in a subprocess.
2. **Moonshot**: a full 100-epoch ``cifar10_3c3d`` run (101 evaluations, batch 128, SGD with
   learning rate 0.01) on full-size *synthetic* CIFAR-10 files (50,000 + 10,000 random images
   written in the real pickle format), with the default options and with the fast options
   (``amp="bf16"``, ``compile=True``, ``channels_last=True``), then short runs with each
   option alone for its speed-up. A run that would pass its share of the time limit stops
   after an evaluation and is extrapolated from its epochs (marked "partial").
3. **Harness**: ``python -m benchmarks.harness --device DEVICE --quick`` in a subprocess with
   the time that is left (marked "timed out" if it does not finish).

Writes ``device_check.json`` and ``device_check.md`` (wall time, images/s, time per step,
evaluation share, peak memory, speed-up of each option) plus the logs to ``--out``; prints
the Markdown. Exit status 0 if every step passed, 1 otherwise.

``--device cpu --smoke`` runs a one-minute version of the same steps on the CPU for CI: a few
of the test checks called directly on the CPU (the ``gpu`` tests themselves skip without a
GPU), a small synthetic CIFAR-10 (2 epochs; ``compile`` and ``bf16`` left out on the CPU) and
one overhead measurement of the harness.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import torch

from benchmarks import harness
from deepobs.pytorch import config
from deepobs.pytorch.datasets._image import ImageDataSet
from deepobs.pytorch.runners import StandardRunner

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PROBLEM, BATCH, LR = "cifar10_3c3d", 128, 0.01
FULL = {"epochs": 100, "n_train": 50_000, "n_test": 10_000}
SMOKE = {"epochs": 2, "n_train": 768, "n_test": 128}
FAST_GPU = {"amp": "bf16", "compile": True, "channels_last": True}
FAST_CPU = {"channels_last": True}  # bf16 convolutions and compiling are slow on a CPU
#: Seconds of the time limit each step may use at most (cuda); the rest goes to the harness.
SHARES = {"tests": 130, "default": 55, "fast": 50, "option": 12}


class OutOfTime(Exception):
    """Raised by :class:`Stopwatch` when a run has used its time."""


class Stopwatch:
    """A runner callback: times each evaluation and epoch; stops the run at ``deadline``."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.evals: list[float] = []
        self.epochs: list[float] = []
        self.steps_per_epoch = 0
        self._last = time.perf_counter()

    def on_run_start(self, run) -> None:
        self.steps_per_epoch = len(run.tproblem.data.train_loader)
        self._last = time.perf_counter()

    def on_evaluation(self, run) -> None:
        now = time.perf_counter()
        self.evals.append(now - self._last)
        self._last = now
        if now > self.deadline and run.epoch < run.num_epochs:
            raise OutOfTime

    def on_epoch_end(self, run) -> None:
        now = time.perf_counter()
        self.epochs.append(now - self._last)
        self._last = now


# ------------------------------------------------------------------ 1. tests
def run_tests(device: str, out: Path, smoke: bool, seconds: float) -> dict:
    """The ``gpu`` tests in a pytest subprocess (smoke: a few checks in this process)."""
    if smoke:
        return _smoke_checks(out)
    env = {**os.environ, "DEEPOBS_CHECK_DEVICE": device, "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-v",
        "-m",
        "gpu",
        str(TESTS / "test_gpu.py"),
        "-p",
        "no:cacheprovider",
        f"--junitxml={out / 'tests.xml'}",
        "-rfE",
    ]
    try:
        done = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds
        )
        log, code = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired as err:
        log = "".join(
            x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
            for x in (err.stdout, err.stderr)
        )
        log, code = log + f"\nTIMED OUT after {seconds:.0f} s", -1
    (out / "tests.log").write_text(log)
    counts = _junit_counts(out / "tests.xml") or _verbose_counts(log)
    return {
        "passed": code == 0 and counts.get("failed", 0) == 0 and counts.get("tests", 0) > 0,
        "returncode": code,
        **counts,
        "log": "tests.log",
    }


def _junit_counts(path: Path) -> dict:
    if not path.exists():
        return {}
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    failed = [
        c.get("classname", "") + "::" + c.get("name", "")
        for c in suite.iter("testcase")
        if c.find("failure") is not None or c.find("error") is not None
    ]
    return {
        "tests": int(suite.get("tests", 0)),
        "failed": len(failed),
        "skipped": int(suite.get("skipped", 0)),
        "failures": failed,
    }


def _verbose_counts(log: str) -> dict:
    """Counts from ``pytest -v`` lines (a run cut off by the time limit writes no XML)."""
    done = [
        line
        for line in log.splitlines()
        if "::" in line and any(w in line for w in (" PASSED", " FAILED", " ERROR", " SKIPPED"))
    ]
    failed = [line.split(" ")[0] for line in done if " FAILED" in line or " ERROR" in line]
    return {
        "tests": len(done),
        "failed": len(failed),
        "skipped": sum(" SKIPPED" in line for line in done),
        "failures": failed,
        "cut_off": True,
    }


def _smoke_checks(out: Path) -> dict:
    """Call a few of the test checks on the CPU (they are the same functions)."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    checks = importlib.import_module("test_gpu")
    fake = importlib.import_module("fake_image_data")
    results, failures = {}, []
    with tempfile.TemporaryDirectory(prefix="deepobs-check-") as scratch:
        root = Path(scratch)
        fake.write_fake("mnist", root, 64, 32, seed=0, learnable=True)
        steps = {
            "quadratic_deep_matches": lambda: checks.check_against_cpu(
                "quadratic_deep", "cpu", root
            ),
            "mnist_mlp_channels_last": lambda: checks.check_option(
                "mnist_mlp",
                "cpu",
                root,
                checks.run_problem("mnist_mlp", "cpu", root),
                channels_last=True,
            ),
            "data_parallel_world_size_1": lambda: checks.check_data_parallel_world_size_1(
                "cpu", root / "ddp"
            ),
            "resume_bit_identical": lambda: checks.check_resume_bit_identical(
                "cpu", root, root / "resume", name="mnist_mlp"
            ),
        }
        for name, check in steps.items():
            try:
                check()
                results[name] = "passed"
            except Exception:  # noqa: BLE001 - recorded, the other checks still run
                results[name] = "failed"
                failures.append(name)
                (out / f"tests_{name}.log").write_text(traceback.format_exc())
    return {
        "passed": not failures,
        "tests": len(steps),
        "failed": len(failures),
        "skipped": 0,
        "failures": failures,
        "checks": results,
    }


# ------------------------------------------------------------------ 2. moonshot
def write_synthetic_cifar10(root: Path, n_train: int, n_test: int) -> None:
    """Random uint8 images in CIFAR-10's on-disk pickle format (the test suite's writer)."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    importlib.import_module("fake_image_data").write_cifar10(
        root, n_train, n_test, seed=0, learnable=False
    )


def timed_run(device: str, data_dir: Path, epochs: int, seconds: float, **options) -> dict:
    """Train ``cifar10_3c3d`` for ``epochs`` epochs; stop after ``seconds`` (extrapolated)."""
    watch = Stopwatch(time.perf_counter() + seconds)
    runner = StandardRunner(torch.optim.SGD, {"lr": {"type": float}})
    runner.callbacks.append(watch)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(torch.device(device))
    start = time.perf_counter()
    complete = True
    try:
        runner.run(
            testproblem=PROBLEM,
            hyperparams={"lr": LR},
            batch_size=BATCH,
            num_epochs=epochs,
            random_seed=42,
            data_dir=data_dir,
            no_logs=True,
            device=device,
            **options,
        )
    except OutOfTime:
        complete = False
    wall = time.perf_counter() - start
    n_epochs, steps_per_epoch = len(watch.epochs), watch.steps_per_epoch
    steady = watch.epochs[1:] or watch.epochs  # the first epoch pays warm-up (compile)
    epoch_s = statistics.median(steady) if steady else float("nan")
    eval_s = statistics.median(watch.evals[1:] or watch.evals)
    full_s = (
        wall
        if complete
        else (
            sum(watch.epochs)
            + sum(watch.evals)
            + (epochs - n_epochs) * epoch_s
            + (epochs + 1 - len(watch.evals)) * eval_s
        )
    )
    train_s, evals_s = sum(watch.epochs), sum(watch.evals)
    peak = (
        torch.cuda.max_memory_allocated(torch.device(device)) if device.startswith("cuda") else None
    )
    return {
        "options": options,
        "epochs_planned": epochs,
        "epochs_done": n_epochs,
        "evaluations_done": len(watch.evals),
        "complete": complete,
        "wall_s": wall,
        "full_run_s": full_s,
        "timing": "measured" if complete else "partial, extrapolated",
        "s_per_step": epoch_s / steps_per_epoch,
        "images_per_s": BATCH * steps_per_epoch / epoch_s,
        "epoch_s_median": epoch_s,
        "first_epoch_s": watch.epochs[0] if watch.epochs else None,
        "eval_s_median": eval_s,
        "eval_share": evals_s / (train_s + evals_s),
        "peak_device_memory_bytes": peak,
        "steps_per_epoch": steps_per_epoch,
    }


def run_moonshot(device: str, smoke: bool, deadline: float) -> dict:
    """Default and fast full runs, then each option alone (see the module docstring)."""
    sizes, cuda = (SMOKE if smoke else FULL), device.startswith("cuda")
    fast = FAST_GPU if cuda else FAST_CPU
    report = {
        "problem": PROBLEM,
        "batch_size": BATCH,
        "lr": LR,
        "epochs": sizes["epochs"],
        "data": f"synthetic: random uint8 images in the CIFAR-10 pickle format "
        f"({sizes['n_train']:,} + {sizes['n_test']:,})",
        "runs": {},
    }
    with tempfile.TemporaryDirectory(prefix="deepobs-cifar10-") as scratch, _fake_files_allowed():
        root = Path(scratch)
        t = time.perf_counter()
        write_synthetic_cifar10(root, sizes["n_train"], sizes["n_test"])
        report["write_data_s"] = time.perf_counter() - t
        left = lambda: deadline - time.perf_counter()  # noqa: E731
        plan = [
            ("default", {}, sizes["epochs"], SHARES["default"]),
            ("fast", fast, sizes["epochs"], SHARES["fast"]),
        ]
        if len(fast) > 1:  # each option alone (two epochs: the second is steady state)
            plan += [(f"only_{k}", {k: v}, 2, SHARES["option"]) for k, v in fast.items()]
        for name, options, epochs, share in plan:
            budget = min(share, left() - 5) if cuda else left() - 5
            if budget < 3:
                report["runs"][name] = {"options": options, "skipped": "no time left"}
                continue
            try:
                report["runs"][name] = timed_run(device, root, epochs, budget, **options)
            except Exception as err:  # noqa: BLE001 - recorded; the other runs still run
                report["runs"][name] = {"options": options, "error": repr(err)}
    base = report["runs"].get("default", {}).get("s_per_step")
    for run in report["runs"].values():
        if base and run.get("s_per_step"):
            run["speedup_vs_default"] = base / run["s_per_step"]
    report["passed"] = all("error" not in r for r in report["runs"].values())
    return report


class _fake_files_allowed:  # noqa: N801 - used as a context manager
    """Let the image data sets read the synthetic files (no checksum checks)."""

    def __enter__(self):
        self.before = ImageDataSet._verify_files
        ImageDataSet._verify_files = False

    def __exit__(self, *exc):
        ImageDataSet._verify_files = self.before


# ------------------------------------------------------------------ 3. harness
def run_harness(device: str, out: Path, smoke: bool, seconds: float) -> dict:
    """The harness in a subprocess (smoke: one overhead measurement in this process)."""
    if smoke:
        from benchmarks import _measure

        t = time.perf_counter()
        o = _measure.runner_overhead(
            "quadratic_deep", 128, {"data_dir": None}, device, reps=1, epochs=20
        )
        return {
            "passed": o["same_first_loss"],
            "overhead_quadratic_deep": o["ratio"],
            "seconds": time.perf_counter() - t,
            "note": "smoke: overhead measurement only",
        }
    if seconds < 30:
        return {"passed": False, "skipped": f"only {seconds:.0f} s left"}
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.harness",
        "--device",
        device,
        "--quick",
        "--output",
        str(out / "harness.json"),
    ]
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return {"passed": False, "timed_out": True, "seconds": seconds}
    (out / "harness.md").write_text(done.stdout)
    (out / "harness.log").write_text(done.stderr)
    return {
        "passed": done.returncode == 0,
        "returncode": done.returncode,
        "markdown": "harness.md",
        "json": "harness.json",
    }


# ------------------------------------------------------------------ report
def _mib(value) -> str:
    return "n/a (CPU)" if value is None else f"{value / 2**20:,.0f}"


def markdown(report: dict) -> str:
    """The report as Markdown."""
    hw = report["hardware"]
    lines = [
        f"Device check {report['date']}: device {report['device']}"
        + (f" ({hw['gpu']})" if hw.get("gpu") else "")
        + f"; {hw['cpu']} ({hw['cpu_count']} cores); torch {hw['torch']}"
        + ("; **smoke mode**" if report["smoke"] else "")
        + f"; total {report['total_s']:.0f} s of {report['time_limit_s']:.0f} s",
        "",
    ]
    t = report["tests"]
    lines.append(
        f"Tests: {'PASSED' if t.get('passed') else 'FAILED'} ({t.get('tests', 0)} run, "
        f"{t.get('failed', 0)} failed, {t.get('skipped', 0)} skipped)"
        + (f"; failures: {', '.join(t['failures'])}" if t.get("failures") else "")
    )
    m = report["moonshot"]
    lines += [
        "",
        f"`{m.get('problem')}`, {m.get('epochs')} epochs, batch {m.get('batch_size')}, "
        f"data {m.get('data')} — results are for synthetic data:",
        "",
        "| Run | Options | Epochs done | Wall (s) | Full run (s) | Images/s | ms/step | "
        "Eval share | Peak memory (MiB) | Speed-up vs default | Timing |",
        "|---" * 11 + "|",
    ]
    for name, r in m.get("runs", {}).items():
        opts = ", ".join(f"{k}={v}" for k, v in r.get("options", {}).items()) or "defaults"
        if "s_per_step" not in r:
            lines.append(
                f"| {name} | {opts} | "
                + " | ".join(["–"] * 8)
                + f" | {r.get('error') or r.get('skipped')} |"
            )
            continue
        speed = r.get("speedup_vs_default")
        lines.append(
            f"| {name} | {opts} | {r['epochs_done']}/{r['epochs_planned']} | {r['wall_s']:.1f} | "
            f"{r['full_run_s']:.1f} | {r['images_per_s']:,.0f} | {r['s_per_step'] * 1e3:.3g} | "
            f"{r['eval_share']:.1%} | {_mib(r['peak_device_memory_bytes'])} | "
            f"{'' if speed is None else f'{speed:.2f}x'} | {r['timing']} |"
        )
    h = report["harness"]
    lines += [
        "",
        "Harness: "
        + ("PASSED" if h.get("passed") else "NOT PASSED")
        + " "
        + json.dumps({k: v for k, v in h.items() if k != "passed"}),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the steps within the time limit; write the JSON and Markdown reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda[:N] or cpu (default cuda)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the reports")
    parser.add_argument("--smoke", action="store_true", help="the one-minute CPU version")
    parser.add_argument(
        "--time-limit",
        type=float,
        help="seconds for everything (default 290; smoke 300, a guard: the "
        "smoke run takes about a minute on an idle 2-core machine)",
    )
    args = parser.parse_args(argv)
    try:
        device = config.validate_device(args.device)
    except ValueError as err:
        parser.error(str(err))
    if device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {device}: CUDA is not available here. Use --device cpu --smoke.")
    limit = args.time_limit or (300.0 if args.smoke else 290.0)
    start = time.perf_counter()
    deadline = start + limit
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "device": device,
        "smoke": args.smoke,
        "time_limit_s": limit,
        "hardware": harness.hardware(device),
    }
    cuda = device.startswith("cuda")
    report["tests"] = _guard(
        run_tests,
        device,
        args.out,
        args.smoke,
        min(SHARES["tests"], limit * 0.45) if cuda else limit,
    )
    report["moonshot"] = _guard(run_moonshot, device, args.smoke, deadline - (60 if cuda else 10))
    report["harness"] = _guard(
        run_harness, device, args.out, args.smoke, deadline - time.perf_counter()
    )
    report["total_s"] = time.perf_counter() - start
    (args.out / "device_check.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    text = markdown(report)
    (args.out / "device_check.md").write_text(text + "\n")
    print(text)
    ok = all(report[k].get("passed") for k in ("tests", "moonshot", "harness"))
    return 0 if ok else 1


def _guard(step, *args) -> dict:
    try:
        return step(*args)
    except Exception as err:  # noqa: BLE001 - one failing step must not lose the others
        return {"passed": False, "error": repr(err), "traceback": traceback.format_exc()}


if __name__ == "__main__":
    sys.exit(main())
