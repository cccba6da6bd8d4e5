"""Analyse a results tree: check it, pick the best settings, plot and tabulate.

Builds a tiny tree first (SGD and Adam, three learning rates, two seeds, quadratic_deep, a few
epochs), then does what ``deepobs analyze`` does, step by step. Needs the ``analyzer`` extra.
Run it with ``python examples/analyze_results.py [--epochs N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

from deepobs.pytorch.runners import StandardRunner


def make_tree(root: Path, epochs: int) -> None:
    for optimizer in (torch.optim.SGD, torch.optim.Adam):
        runner = StandardRunner(optimizer, {"lr": {"type": float}})
        for lr in (1e-3, 1e-2, 1e-1):
            for seed in (42, 43):
                runner.run(
                    testproblem="quadratic_deep",
                    hyperparams={"lr": lr},
                    num_epochs=epochs,
                    random_seed=seed,
                    output_dir=root,
                    device="cpu",
                )


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", default="analysis")
    args = parser.parse_args(argv)
    from deepobs.pytorch import analyzer  # the analyzer extra: pandas, matplotlib

    out = Path(args.out)
    make_tree(out / "results", args.epochs)
    report = analyzer.check_output(out / "results")
    print(report)
    results = analyzer.read_results(out / "results")  # load_results gives the tidy DataFrame
    best = analyzer.best_setting(results, "quadratic_deep", "SGD")
    print(f"best SGD setting (final validation loss): {best}")
    figure = analyzer.plot_optimizer_performance(out / "results")
    # tex (PGF for \input in LaTeX) needs pdflatex to typeset the text; pdf does not.
    tex = "tex" if shutil.which("pdflatex") else "pdf"
    analyzer.save_figure(figure, out / "performance", formats=["png", tex])
    print(analyzer.plot_results_table(out / "results"))
    return analyzer.analyze(out / "results", out / "all", formats="png")


if __name__ == "__main__":
    main()
