"""``deepobs benchmark`` end to end: two optimizers (one from a file) x quadratic_deep and
two_d_rosenbrock x 3 seeds, one-epoch runs; the report, resuming, the dry run, bad input.

The end-to-end run is EXAMPLES.md's "From optimizer to paper" walk-through, run as printed
(its optimizer file, search space and commands), so the documentation cannot rot.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from pathlib import Path

import pytest
import torch

pytest.importorskip("pandas", reason="the analyzer extra is not installed")

from deepobs.pytorch import cli  # noqa: E402
from deepobs.pytorch._cli.benchmark import run_seconds, sample_settings  # noqa: E402
from deepobs.pytorch.tuner.space import SearchSpace  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "EXAMPLES.md"


def walkthrough() -> dict[str, object]:
    """The python, json and bash blocks of EXAMPLES.md's "From optimizer to paper"."""
    text = EXAMPLES.read_text(encoding="utf-8").split("## From optimizer to paper", 1)[1]
    text = text.split("\n## ", 1)[0]
    blocks = dict(re.findall(r"```(python|json|bash)\n(.*?)```", text, flags=re.S))
    commands = [
        shlex.split(line)[1:] for line in blocks["bash"].splitlines() if line.startswith("deepobs ")
    ]
    return {"optimizer": blocks["python"], "space": blocks["json"], "commands": commands}


class _OneThread:
    def __enter__(self):
        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.threads)


@pytest.fixture(scope="module")
def benchmark_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    doc = walkthrough()
    (folder / "myopt.py").write_text(doc["optimizer"], encoding="utf-8")
    (folder / "space.json").write_text(doc["space"], encoding="utf-8")
    return folder


def _argv(folder: Path, *extra: str) -> list[str]:
    """The walk-through's dry run with absolute paths and ``extra`` appended."""
    argv = walkthrough()["commands"][0]
    argv = [str(folder / "space.json") if a == "space.json" else a for a in argv]
    argv = [
        f"{folder / 'myopt.py'}:HalfMomentum" if a.startswith("./myopt.py") else a for a in argv
    ]
    return [*argv, "--out", str(folder / "out"), *extra]


def test_examples_walkthrough_end_to_end_and_resume(benchmark_dir, capsys, monkeypatch):
    dry_run, benchmark, analyze = walkthrough()["commands"]
    assert dry_run == [*benchmark, "--dry-run"] and benchmark[0] == "benchmark"
    monkeypatch.chdir(benchmark_dir)
    with _OneThread():
        assert cli.main([*benchmark, "-q"]) == 0
    printed = capsys.readouterr().out
    assert "2 optimizer(s) x 2 problem(s): 16 runs" in printed
    results = benchmark_dir / "bench" / "results"
    files = sorted(results.rglob("*.json"))
    assert len(files) == 16  # 2 x 2 x (2 trials + 2 more seeds of the best)
    seeds = {}
    for path in files:
        data = json.loads(path.read_text())
        key = (data["testproblem"], data["optimizer_name"], data["optimizer_hyperparams"]["lr"])
        seeds.setdefault(key, set()).add(data["random_seed"])
    assert sorted(len(s) for s in seeds.values()) == [1, 1, 1, 1, 3, 3, 3, 3]  # best: 3 seeds
    report = benchmark_dir / "bench" / "report"
    page = (report / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2 * 3 + 1  # per problem 3 figures, the profile (no set has two)
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert "HalfMomentum" in page and "Adam" in page and "<b>" in page  # bold best
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert "| Quadratic Deep | Performance |" in markdown and "2D Rosenbrock" in markdown
    for png in re.findall(r"\]\(([^)]+\.png)\)", markdown):
        assert (report / png).is_file()
    stats = (report / "statistics.csv").read_text().splitlines()
    assert stats[0].startswith("testproblem,metric,optimizer,mean,ci_low,ci_high")
    assert len(stats) == 1 + 4
    # Resume: a second call runs nothing new and rewrites the report.
    mtimes = {p: p.stat().st_mtime_ns for p in files}
    with _OneThread():
        assert cli.main([*benchmark, "-q"]) == 0
    assert {p: p.stat().st_mtime_ns for p in results.rglob("*.json")} == mtimes
    # The paper figures: ICML's column, 95 % CI bands.
    assert cli.main(analyze) == 0
    paper = benchmark_dir / "paper"
    assert (paper / "quadratic_deep_performance.pdf").read_bytes()[:4] == b"%PDF"
    assert "95 % confidence interval" in (paper / "results_table.md").read_text()


def test_dry_run_counts_and_estimates(benchmark_dir, capsys):
    with _OneThread():
        assert cli.main(_argv(benchmark_dir, "--out", str(benchmark_dir / "dry"))) == 0
    printed = capsys.readouterr().out
    assert "16 runs" in printed and "estimated wall time" in printed
    assert re.search(r"quadratic_deep: 8 runs x 1 epochs, about [\d.]+ s per run", printed)
    assert not (benchmark_dir / "dry").exists()  # nothing written


def test_run_seconds_scales_the_measured_epoch():
    result = {"meta": {"wall_time_s": 10.0, "cost": {"train_time_s": 2.0, "eval_time_s": 4.0}}}
    # fixed 4 s; per epoch 2 s of training and one 2 s evaluation; plus the epoch-0 evaluation
    assert run_seconds(result, 5, 10.0) == pytest.approx(4 + 6 * 2 + 5 * 2)
    assert run_seconds({}, 5, 3.0) == 15.0


def test_sampled_settings_are_reproducible_and_in_range():
    space = SearchSpace.from_dict(
        {"lr": {"min": 1e-4, "max": 1.0, "scaling": "log"}, "momentum": {"choices": [0.0, 0.9]}}
    )
    first, again = sample_settings(space, 20, 7), sample_settings(space, 20, 7)
    assert first == again and first != sample_settings(space, 20, 8)
    assert all(1e-4 <= s["lr"] <= 1.0 and s["momentum"] in (0.0, 0.9) for s in first)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--problems", "no_such_problem"], "Unknown test problem"),
        (["--trials", "0"], "--trials and --seeds must be >= 1"),
        (["--space", "a.json"], "one --space for all optimizers or one per --optimizer"),
    ],
)
def test_bad_input_is_one_line(benchmark_dir, extra, message, capsys):
    argv = _argv(benchmark_dir)
    if extra[0] == "--space":
        argv += ["--space", str(benchmark_dir / "space.json")] * 2
    else:
        argv += extra
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepobs: error:") and message in err
