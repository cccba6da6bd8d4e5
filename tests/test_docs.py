"""Documentation cannot rot: generated files are current, links resolve, examples run."""

from __future__ import annotations

import importlib.util
import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("benchmarks/*.md"),
               ROOT / "data" / "README.md"])


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


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example, tmp_path, monkeypatch):
    """Each example runs in its tiny default setting, MNIST being a small fake copy."""
    from fake_image_data import allow_fake_files, write_fake

    write_fake("mnist", tmp_path / "data", n_train=1200, n_test=256, learnable=True)
    allow_fake_files(monkeypatch)
    monkeypatch.setenv("DEEPOBS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(example)])
    runpy.run_path(str(example), run_name="__main__")


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
