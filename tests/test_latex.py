"""Exported figures compile with pdflatex: alone, two in one document, and in a venue's column.

Every kind of figure ``deepobs analyze`` writes is exported as ``.tex`` (PGF) and typeset with
the documented preamble; the log must be free of errors, overfull boxes, oversized floats and
multiply-defined labels, and the PDF's text must name every optimizer of the legend. Needs
``pdflatex``, ``pdftotext`` and ``pdfinfo`` (CI installs them); without them the tests skip
locally and fail in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("pandas", reason="the analyzer extra is not installed")

from paper_tree import OPTIMIZERS, write_paper_tree  # noqa: E402

from deepobs.pytorch.analyzer import (  # noqa: E402
    analyze,
    plot_hyperparameter_sensitivity,
    plot_testset_performances,
    read_results,
    save_figure,
)
from deepobs.pytorch.analyzer.tikz import LATEX_PREAMBLE  # noqa: E402

# Typesetting takes tens of seconds: part of the slow set, which CI runs too.
pytestmark = [pytest.mark.latex, pytest.mark.slow]

_TOOLS = ("pdflatex", "pdftotext", "pdfinfo")
_MISSING = [tool for tool in _TOOLS if shutil.which(tool) is None]
#: Figure kinds every analysis of the paper tree writes (one file each per problem or set).
KINDS = ("performance", "lr_sensitivity", "tuning_budget", "benchmark_small", "performance_profile")


@pytest.fixture(scope="module", autouse=True)
def _latex_tools():
    if _MISSING:
        message = (
            f"{', '.join(_MISSING)} not installed (apt-get install texlive-latex-base "
            "texlive-pictures texlive-latex-extra poppler-utils)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the LaTeX tests: {message}")
        pytest.skip(message)


@pytest.fixture(scope="module")
def tex_figures(tmp_path_factory) -> dict[str, list[Path]]:
    """The paper tree analysed into .tex figures: default style, and ICML's column widths."""
    root = write_paper_tree(tmp_path_factory.mktemp("tree"))
    out = tmp_path_factory.mktemp("tex")
    written = analyze(root, out / "default", "tex")
    figures = {
        "default": sorted(
            p for p in written if p.suffix == ".tex" and not p.name.startswith("results_table")
        )
    }
    results = read_results(root)
    icml = [
        (
            plot_hyperparameter_sensitivity(results, testproblem="fmnist_2c2d", style="icml"),
            "fmnist_2c2d_lr_sensitivity",
        ),
        (plot_testset_performances(results, style="icml"), "benchmark_small"),
    ]
    figures["icml"] = [save_figure(fig, out / "icml" / name, "tex")[0] for fig, name in icml]
    return figures


def _compile(folder: Path, name: str, figures: list[Path], geometry: str = "") -> tuple:
    """Typeset ``figures`` (one float each) with the documented preamble; return (log, text,
    pages)."""
    body = "\n".join(
        f"\\begin{{figure}}[p]\\centering\\input{{{fig.as_posix()}}}"
        f"\\caption{{{fig.stem.replace('_', ' ')}}}\\label{{fig:{i}}}\\end{{figure}}"
        for i, fig in enumerate(figures)
    )
    source = (
        f"\\documentclass{{article}}\n{LATEX_PREAMBLE}{geometry}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )
    (folder / f"{name}.tex").write_text(source, encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = (folder / f"{name}.log").read_text(encoding="latin-1")
    assert done.returncode == 0, log[-3000:]
    pdf = folder / f"{name}.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return log, text, pages


def _assert_clean(log: str) -> None:
    for problem in (
        "Overfull \\hbox",
        "Overfull \\vbox",
        "Float too large",
        "multiply defined",
        "Multiply defined",
        "! ",
        "Undefined control",
    ):
        assert problem not in log, f"{problem!r} in the LaTeX log"


def test_every_kind_is_exported(tex_figures):
    names = [p.stem for p in tex_figures["default"]]
    for kind in KINDS:
        assert any(kind in name for name in names), (kind, names)
    assert len(names) == 2 * 3 + 2  # 2 problems x (performance, sensitivity, budget) + 2


def test_each_figure_compiles_alone(tex_figures, tmp_path):
    for fig in tex_figures["default"]:
        log, text, pages = _compile(tmp_path, fig.stem, [fig])
        _assert_clean(log)
        assert pages == 1, fig.name
        for optimizer in OPTIMIZERS:  # the legend names every optimizer (my_opt escaped)
            assert optimizer in text, (fig.name, optimizer)
        assert "\\label" not in fig.read_text(encoding="utf-8")


def test_two_figures_in_one_document(tex_figures, tmp_path):
    performance = [p for p in tex_figures["default"] if p.stem.endswith("_performance")]
    log, text, pages = _compile(tmp_path, "two", performance)
    _assert_clean(log)
    assert pages <= 2 and text.count("line: mean, band: ±1 std over 3 seeds") == 2


def test_venue_widths_fit_their_columns(tex_figures, tmp_path):
    """ICML: one-problem figures fit its 3.25 in column, grids its 6.75 in text width."""
    single = [p for p in tex_figures["icml"] if not p.stem.startswith("benchmark")]
    column = "\\setlength{\\textwidth}{3.25in}\\setlength{\\oddsidemargin}{0in}"
    log, text, _ = _compile(tmp_path, "column", single, column)
    _assert_clean(log)
    full = "\\setlength{\\textwidth}{6.75in}\\setlength{\\oddsidemargin}{-0.5in}"
    grid = [p for p in tex_figures["icml"] if p.stem.startswith("benchmark")]
    log, _, _ = _compile(tmp_path, "full", grid, full)
    _assert_clean(log)
    # The same grid at the default width does not fit a 3.25 in column: the check can fail.
    narrow = [p for p in tex_figures["default"] if p.stem.startswith("benchmark")]
    log, _, _ = _compile(tmp_path, "narrow", narrow, column)
    assert "Overfull \\hbox" in log
