"""The device check script: its CPU smoke mode end to end (slow), its report pieces (fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` lives beside the package, not inside it
    sys.path.insert(0, str(ROOT))

from benchmarks import device_check  # noqa: E402


@pytest.mark.slow
def test_cpu_smoke_mode_runs_every_step(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.device_check",
            "--device",
            "cpu",
            "--smoke",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "device_check.json").read_text())
    assert report["tests"]["passed"] and report["tests"]["tests"] == 4
    runs = report["moonshot"]["runs"]
    assert runs["default"]["complete"] and runs["default"]["epochs_done"] == 2
    assert runs["default"]["evaluations_done"] == 3
    assert "synthetic" in report["moonshot"]["data"]
    assert 0 < runs["default"]["eval_share"] < 1 and runs["fast"]["speedup_vs_default"] > 0
    assert report["harness"]["passed"]
    text = (tmp_path / "device_check.md").read_text()
    assert "| default | defaults | 2/2 |" in text and "synthetic" in text


def test_stopwatch_stops_a_run_after_its_time(tmp_path):
    """A run over its time ends after an evaluation; the epochs done are timed."""
    import torch

    from deepobs.pytorch.runners import StandardRunner

    watch = device_check.Stopwatch(deadline=0.0)  # already over: stop at the first check
    runner = StandardRunner(torch.optim.SGD, {"lr": {"type": float}})
    runner.callbacks.append(watch)
    with pytest.raises(device_check.OutOfTime):
        runner.run(
            testproblem="quadratic_deep",
            hyperparams={"lr": 0.01},
            num_epochs=3,
            no_logs=True,
            device="cpu",
        )
    assert len(watch.evals) == 1 and watch.epochs == [] and watch.steps_per_epoch == 7


def test_markdown_report_marks_synthetic_and_partial_runs():
    run = {
        "options": {"amp": "bf16"},
        "epochs_done": 40,
        "epochs_planned": 100,
        "wall_s": 50.0,
        "full_run_s": 120.0,
        "images_per_s": 41000.0,
        "s_per_step": 0.003,
        "eval_share": 0.08,
        "peak_device_memory_bytes": 2**30,
        "speedup_vs_default": 2.5,
        "timing": "partial, extrapolated",
    }
    report = {
        "date": "2026-12-01T00:00:00",
        "device": "cuda",
        "smoke": False,
        "total_s": 280,
        "time_limit_s": 290,
        "hardware": {"gpu": "GPU X", "cpu": "CPU Y", "cpu_count": 16, "torch": "2"},
        "tests": {
            "passed": False,
            "tests": 90,
            "failed": 1,
            "skipped": 0,
            "failures": ["test_gpu::test_compiled_problem[mnist_mlp]"],
        },
        "moonshot": {
            "problem": "cifar10_3c3d",
            "epochs": 100,
            "batch_size": 128,
            "data": "synthetic: random images",
            "runs": {
                "fast": run,
                "only_compile": {"options": {"compile": True}, "skipped": "no time left"},
            },
        },
        "harness": {"passed": True},
    }
    text = device_check.markdown(report)
    assert "Tests: FAILED (90 run, 1 failed" in text and "test_compiled_problem" in text
    assert "| fast | amp=bf16 | 40/100 | 50.0 | 120.0 | 41,000 | 3 | 8.0% | 1,024 | 2.50x |" in text
    assert "partial, extrapolated" in text and "no time left" in text and "synthetic" in text


def test_counts_of_a_run_cut_off_by_the_time_limit():
    log = (
        "tests/test_gpu.py::test_a[x] PASSED [ 1%]\n"
        "tests/test_gpu.py::test_b[y] FAILED [ 2%]\n"
        "tests/test_gpu.py::test_c SKIPPED (needs CUDA) [ 3%]\n"
        "tests/test_gpu.py::test_d \nTIMED OUT after 130 s"
    )
    counts = device_check._verbose_counts(log)
    assert counts["tests"] == 3 and counts["failed"] == 1 and counts["skipped"] == 1
    assert counts["failures"] == ["tests/test_gpu.py::test_b[y]"] and counts["cut_off"]
