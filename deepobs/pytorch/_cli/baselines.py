"""``deepobs baselines list|fetch``: the published DeepOBS 1.1 baselines, on demand."""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    """Add the ``baselines`` sub-command with its ``list`` and ``fetch`` actions."""
    p = subparsers.add_parser(
        "baselines",
        help="list or fetch the published DeepOBS 1.1 baselines",
        description="The result files DeepOBS 1.1 published (TensorFlow, 2019; "
        "fsschneider/DeepOBS_Baselines at a pinned commit): 8 problems x SGD, Momentum, Adam, "
        "36 learning rates with seed 42 and the chosen setting with seeds 42-51. Fetched "
        "files are verified by their git blob SHA-1. Draw them beside your runs with "
        "`deepobs analyze RESULTS --baselines deepobs-1.1`.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="problems, optimizers, settings and seeds available, with sizes"
    )
    fetch = actions.add_parser(
        "fetch",
        help="download result files into the cache (resumable)",
        description="Download the seeds of the setting DeepOBS chose (or, with "
        "--all-settings, the whole learning-rate grid) into the cache. Files already there "
        "and verified are skipped, so an interrupted fetch resumes.",
    )
    fetch.add_argument(
        "problems", nargs="*", metavar="PROBLEM", help="test problems (default: all eight)"
    )
    fetch.add_argument(
        "--all-settings",
        action="store_true",
        help="also fetch every learning rate of the grid (seed 42); about 4x the size",
    )
    for sub in (listing, fetch):
        sub.add_argument(
            "--cache",
            default=None,
            metavar="DIR",
            help="cache folder (default: <data dir>/baselines/deepobs-1.1)",
        )
        sub.add_argument(
            "--source",
            default=None,
            metavar="DIR",
            help="read from a local copy of the repository instead of GitHub",
        )
    p.set_defaults(func=run)


def run(args) -> int:
    """List or fetch; network problems are one ``deepobs: error:`` line and exit 2."""
    from deepobs.pytorch.baselines import BaselinesUnavailableError, LocalSource

    source = LocalSource(args.source) if args.source else None
    try:
        return _fetch(args, source) if args.action == "fetch" else _list(args, source)
    except BaselinesUnavailableError as err:
        print(f"deepobs: error: {err}", file=sys.stderr)
        return 2


def _list(args, source) -> int:
    from deepobs.pytorch.baselines import default_cache, load_catalog
    from deepobs.pytorch.baselines.fetch import is_verified

    catalog = load_catalog(source)
    cache = default_cache() if args.cache is None else Path(args.cache)
    rows = catalog.summary()
    print(
        f"{'problem':<18} {'optimizer':<25} {'lrs':>3}  {'chosen lr':>16}  "
        f"{'seeds':<7} {'MB':>6} {'grid MB':>8}  cached"
    )
    for row in rows:
        best = catalog.settings[(row["testproblem"], row["optimizer"])][row["best_setting"]]
        cached = sum(is_verified(cache / f.path, f) for f in best)
        seeds = row["best_seeds"]
        lr = row["best_setting"].rsplit("lr__", 1)[-1]
        print(
            f"{row['testproblem']:<18} {row['optimizer']:<25} {row['n_settings']:>3}  "
            f"{lr:>16}  {seeds[0]}-{seeds[-1]:<4} {row['best_bytes'] / 1e6:>6.1f} "
            f"{row['all_bytes'] / 1e6:>8.1f}  {cached}/{len(best)}"
        )
    best_total = sum(r["best_bytes"] for r in rows) / 1e6
    all_total = sum(r["all_bytes"] for r in rows) / 1e6
    print(
        f"{len(rows)} problem-optimizer pairs; chosen settings' seeds: {best_total:.1f} MB, "
        f"with the whole grid: {all_total:.1f} MB. Cache: {cache}"
    )
    return 0


def _fetch(args, source) -> int:
    from deepobs.pytorch.baselines import NAME, fetch_baselines

    report = fetch_baselines(
        args.problems or None,
        all_settings=args.all_settings,
        cache=args.cache,
        source=source,
        progress=sys.stderr.isatty(),
    )
    print(
        f"{len(report.downloaded)} file(s) downloaded ({report.bytes_downloaded / 1e6:.1f} MB), "
        f"{len(report.present)} already present and verified, in {report.cache}"
    )
    where = NAME if args.cache is None else report.cache
    print(f"Draw them beside your runs: deepobs analyze RESULTS --baselines {where}")
    return 0
