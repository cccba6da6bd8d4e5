"""``deepobs list [PATTERN]``: the registered test problems and whether their data is here."""

from __future__ import annotations

from deepobs.pytorch import config, datasets
from deepobs.pytorch.testproblems import get_testproblem_class, list_testproblems

COLUMNS = ("name", "dataset", "batch size", "epochs", "L2", "metric", "data")


def register(subparsers) -> None:
    """Add the ``list`` sub-command."""
    p = subparsers.add_parser("list", help="list the test problems")
    p.add_argument("pattern", nargs="?", default="*", help="glob pattern, e.g. 'cifar*'")
    p.add_argument("--format", choices=("table", "markdown"), default="table")
    p.add_argument("--data-dir", default=None, help="data directory to check for data sets")
    p.set_defaults(func=run)


def data_status(dataset: str, data_dir=None) -> str:
    """``generated``, ``present`` or ``missing`` for a data set name."""
    cls = datasets.DATASETS.get(dataset)
    if cls is None:
        return "unknown"
    if not cls.requires_files:
        return "generated"
    return "present" if cls.is_available(config.resolve_data_dir(data_dir)) else "missing"


def rows(pattern: str = "*", data_dir=None, with_data: bool = True) -> list[tuple[str, ...]]:
    """One row of strings per problem matching ``pattern``."""
    out = []
    for name in list_testproblems(pattern):
        s = get_testproblem_class(name).spec
        out.append(
            (
                name,
                s.dataset,
                str(s.batch_size or "-"),
                str(s.num_epochs or "-"),
                "-" if s.l2_reg is None else f"{s.l2_reg:g}",
                s.metric.replace("_", " "),
                data_status(s.dataset, data_dir) if with_data else "",
            )
        )
    return out


def markdown_table(pattern: str = "*") -> str:
    """The problem table in Markdown (without the local data column), for the docs."""
    header = COLUMNS[:-1] + ("description",)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows(pattern, with_data=False):
        summary = get_testproblem_class(row[0]).spec.summary
        lines.append("| " + " | ".join((f"`{row[0]}`", *row[1:-1], summary)) + " |")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    """Print the table."""
    if args.format == "markdown":
        print(markdown_table(args.pattern), end="")
        return 0
    table = rows(args.pattern, args.data_dir)
    if not table:
        raise ValueError(f"No test problem matches {args.pattern!r}. Try `deepobs list`.")
    widths = [max(len(r[i]) for r in [COLUMNS, *table]) for i in range(len(COLUMNS))]
    for row in [COLUMNS, *table]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0
