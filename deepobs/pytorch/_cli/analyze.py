"""``deepobs analyze RESULTS_DIR``: plots, tables and TikZ for a results tree."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    """Add the ``analyze`` sub-command."""
    p = subparsers.add_parser(
        "analyze",
        help="plot and tabulate a results tree (needs the analyzer extra)",
        description="Check a results tree, then write the performance plot and learning-rate "
        "sensitivity of every problem, the benchmark-set plots and the results table "
        "(Markdown, LaTeX, CSV).",
    )
    p.add_argument("results_dir", metavar="RESULTS_DIR", help="output_dir of your runs")
    p.add_argument(
        "--out",
        default=None,
        help="folder for the figures and tables "
        "(default: RESULTS_DIR_analysis next to RESULTS_DIR)",
    )
    p.add_argument(
        "--format",
        default="png",
        help="comma-separated figure formats out of "
        "png, pdf, svg, tex (TikZ/pgfplots); default: png",
    )
    p.add_argument(
        "--mode",
        choices=("final", "best", "most"),
        default="final",
        help="how the best setting is chosen (default: final)",
    )
    p.add_argument(
        "--metric",
        default=None,
        help="selection metric, e.g. valid_accuracies "
        "(default: validation accuracy, else validation loss)",
    )
    p.add_argument(
        "--baselines",
        default=None,
        metavar="NAME|DIR",
        help="results drawn as baselines: deepobs-1.1 (the published DeepOBS 1.1 runs, "
        "fetched with `deepobs baselines fetch`) or a results folder",
    )
    p.add_argument(
        "--style",
        default="default",
        choices=("default", "neurips", "icml", "iclr", "jmlr"),
        help="figure size and fonts: default (fits LaTeX's article) or a venue's column "
        "(tueplots); default: default",
    )
    p.add_argument(
        "--relative",
        action="store_true",
        help="sensitivity plots show DeepOBS 1.1's relative performance (each optimizer "
        "divided by its own best setting)",
    )
    p.add_argument(
        "--band",
        default="std",
        choices=("std", "ci", "minmax", "quartiles"),
        help="band around each curve over seeds (default: std; ci: 95 %% confidence interval)",
    )
    p.set_defaults(func=run)


def reference_path(baselines: str | None) -> Path | None:
    """``--baselines``: a published set's cache folder (``deepobs-1.1``), or a results folder."""
    from deepobs.pytorch.baselines import NAME, resolve_baselines

    return (
        resolve_baselines(baselines)
        if baselines == NAME
        else (Path(baselines) if baselines else None)
    )


def run(args) -> int:
    """Check the tree, write everything, print the paths."""
    from deepobs.pytorch.analyzer import analyze, check_output  # pandas/matplotlib: only here
    from deepobs.pytorch.analyzer.tikz import parse_formats

    formats = parse_formats(args.format)  # fail on a typo before reading anything
    results_dir = Path(args.results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(
            f"Results folder {str(results_dir)!r} not found. Pass the "
            "output_dir of your runs, e.g. `deepobs analyze ./results`."
        )
    out = (
        Path(args.out)
        if args.out
        else results_dir.resolve().with_name(f"{results_dir.resolve().name}_analysis")
    )
    reference = reference_path(args.baselines)
    check_output(results_dir)  # logs the summary (settings, seeds, diverged, invalid files)
    written = analyze(
        results_dir,
        out,
        formats,
        mode=args.mode,
        metric=args.metric,
        reference_path=reference,
        style=args.style,
        relative=args.relative,
        band=args.band,
    )
    print(f"Wrote {len(written)} file(s) to {out}:")
    for path in written:
        print(f"  {path}")
    return 0
