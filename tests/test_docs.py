"""Documentation cannot rot: generated files are current, links resolve, examples run."""

from __future__ import annotations

import importlib.util
import math
import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(
    [
        *ROOT.glob("*.md"),
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("benchmarks/*.md"),
        ROOT / "data" / "README.md",
    ]
)


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("relative", ["API_REFERENCE.md", "docs/testproblems.md"])
def test_generated_document_is_current(relative):
    expected = _generator().OUTPUTS[relative]()
    actual = (ROOT / relative).read_text(encoding="utf-8")
    assert actual == expected, f"{relative} is out of date: run `python docs/generate.py`"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc):
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (doc.parent / target).exists(), f"{doc.name}: broken link {target}"


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _decreased(losses) -> bool:
    return all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]


def _check_analyze_results(outputs, tmp_path):
    seeds = list((tmp_path / "analysis" / "results" / "quadratic_deep").glob("*/*/*.json"))
    assert len(seeds) == 2 * 3 * 2  # optimizers x learning rates x seeds
    assert (tmp_path / "analysis" / "performance.png").stat().st_size > 0
    assert outputs and all(Path(p).is_file() for p in outputs)


def _check_custom_optimizer(result, tmp_path):
    assert result["optimizer_name"] == "SignSGD"
    assert result["optimizer_hyperparams"] == {"lr": 1e-3, "momentum": 0.9}
    assert _decreased(result["test_losses"])
    assert result["test_accuracies"][-1] > result["test_accuracies"][0]
    assert list((tmp_path / "results" / "mnist_logreg" / "SignSGD").glob("*/*.json"))


def _check_device_selection(result, tmp_path):
    from deepobs.pytorch import config

    assert result["meta"]["device"] == config.available_device()
    assert _decreased(result["test_losses"])


def _check_loop(losses, tmp_path):  # direct_loop and phase_api_loop
    assert math.isfinite(losses["after"]) and losses["after"] < losses["before"]


def _check_grad_accumulation(runs, tmp_path):
    whole, split = runs["whole"]["test_losses"], runs["split"]["test_losses"]
    assert _decreased(whole) and split == pytest.approx(whole, rel=1e-5)
    assert runs["split"]["training_params"] == {"grad_accumulation": 4}


def _check_lr_schedule(result, tmp_path):
    assert result["training_params"]["lr_sched_epochs"] == [2, 3]
    assert result["training_params"]["lr_sched_factors"] == [0.1, 0.01]
    assert len(result["test_losses"]) == 5 and _decreased(result["test_losses"])
    assert list((tmp_path / "results" / "quadratic_deep" / "MomentumSchedule").glob("*/*.json"))


def _check_tuning_study(best, tmp_path):
    assert math.isfinite(best["value"]) and 1e-3 <= best["hyperparams"]["lr"] <= 0.05
    assert Path(best["results_path"]).is_file()
    assert (tmp_path / "results" / "optuna.db").is_file()


#: What each example must produce in its default setting (its ``main()``'s return value).
EXAMPLE_CHECKS = {
    "analyze_results.py": _check_analyze_results,
    "custom_optimizer.py": _check_custom_optimizer,
    "device_selection.py": _check_device_selection,
    "direct_loop.py": _check_loop,
    "grad_accumulation.py": _check_grad_accumulation,
    "lr_schedule.py": _check_lr_schedule,
    "phase_api_loop.py": _check_loop,
    "tuning_study.py": _check_tuning_study,
}


def test_every_example_has_a_check():
    assert sorted(EXAMPLE_CHECKS) == [p.name for p in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example, tmp_path, monkeypatch):
    """Each example runs in its tiny default setting (MNIST a small fake copy) and does what
    it says: its ``main()`` result is checked."""
    from fake_image_data import allow_fake_files, write_fake

    write_fake("mnist", tmp_path / "data", n_train=1200, n_test=256, learnable=True)
    allow_fake_files(monkeypatch)
    monkeypatch.setenv("DEEPOBS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(example)])
    namespace = runpy.run_path(str(example), run_name="example")  # defines main(), runs nothing
    EXAMPLE_CHECKS[example.name](namespace["main"]([]), tmp_path)


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """README.md's 15-line example, exactly as printed (it trains quadratic_deep)."""
    monkeypatch.chdir(tmp_path)
    (block,) = _python_blocks(ROOT / "README.md")
    exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
    assert list(tmp_path.glob("results/quadratic_deep/MyOptimizer/*/*.json"))


@pytest.mark.parametrize("doc", ["README_PYTORCH.md", "MIGRATION_GUIDE.md", "EXAMPLES.md"])
def test_guide_python_blocks_compile(doc):
    """Guide snippets use real data sets and full-length runs; they must at least parse."""
    for block in _python_blocks(ROOT / doc):
        compile(block, doc, "exec")
