"""A benchmark report: every figure, the results table and the statistics in one page.

``report.html`` embeds the PNG figures as data URIs, so it opens from disk without a server;
``report.md`` links the same PNGs (beside it) and includes the tables as Markdown.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from deepobs.pytorch.analyzer.result_analysis import analyze, write_text_atomic
from deepobs.pytorch.analyzer.tables import STATISTICS_NOTE

#: Captions of the figure kinds, by file name ending.
CAPTIONS = {
    "_performance": "Loss (and accuracy) per epoch of each optimizer's best setting.",
    "_lr_sensitivity": "Final validation metric against the learning rate; x: diverged.",
    "_tuning_budget": "Expected best validation metric after k random tuning trials "
    "(Dodge et al. 2019).",
    "benchmark_": "The benchmark set: every problem with results.",
    "performance_profile": "Performance profile: fraction of problems each optimizer reaches "
    "the target within tau times the fastest optimizer's epochs.",
}
_CSS = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
    "img{max-width:100%;border:1px solid #ddd}figure{margin:1.5em 0}"
    "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:.2em .5em}"
    "figcaption{font-size:90%;color:#444}"
)


def _caption(name: str) -> str:
    return next((text for key, text in CAPTIONS.items() if key in name), name)


def _markdown_cells(text: str) -> str:
    """Markdown bold to HTML bold in an escaped cell."""
    escaped = html.escape(text)
    if escaped.startswith("**") and escaped.endswith("**"):
        return f"<b>{escaped[2:-2]}</b>"
    return escaped


def _table_html(markdown: str) -> str:
    rows = [
        line.strip().strip("|").split("|")
        for line in markdown.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(c.strip())}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{_markdown_cells(c.strip())}</td>" for c in row) + "</tr>"
        for row in rows[1:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(
    results_dir: str | Path,
    out_dir: str | Path,
    *,
    title: str = "DeepOBS benchmark",
    reference_path: str | Path | None = None,
    formats: str = "png,pdf",
    summary_lines: list[str] | None = None,
    **options: object,
) -> list[Path]:
    """Analyse ``results_dir`` into ``out_dir`` and add ``report.html`` and ``report.md``.

    Args:
        results_dir: The results tree.
        out_dir: Folder of the report.
        title: Page title.
        reference_path: Reference runs drawn beside yours (e.g. the DeepOBS 1.1 baselines).
        formats: Figure formats; ``png`` is always written (the report shows it).
        summary_lines: Lines shown at the top (e.g. the command and the run counts).
        **options: Passed on to :func:`~deepobs.pytorch.analyzer.result_analysis.analyze`.

    Returns:
        Every path written.
    """
    out = Path(out_dir)
    fmts = ",".join(dict.fromkeys(["png", *[f for f in formats.split(",") if f]]))
    written = analyze(results_dir, out, fmts, reference_path=reference_path, **options)
    pngs = [p for p in written if p.suffix == ".png"]
    table_md = (out / "results_table.md").read_text(encoding="utf-8")
    csvs = [p for p in written if p.suffix == ".csv"]
    lines = summary_lines or []

    md = [f"# {title}", "", *[f"- {line}" for line in lines], "", "## Results", "", table_md]
    md += ["## Figures", ""]
    for png in pngs:
        md += [f"![{png.stem}]({png.name})", "", f"*{_caption(png.stem)}*", ""]
    md += ["## Data", "", *[f"- [{p.name}]({p.name})" for p in csvs], ""]
    statistics = pd.read_csv(out / "statistics.csv")
    md += [
        "## Statistics",
        "",
        STATISTICS_NOTE,
        "",
        statistics.to_markdown(index=False) if _has_tabulate() else statistics.to_csv(index=False),
        "",
    ]
    write_text_atomic(out / "report.md", "\n".join(md))

    figures = "".join(
        f'<figure><img alt="{html.escape(p.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode("ascii")}">'
        f"<figcaption>{html.escape(p.stem)}: {html.escape(_caption(p.stem))}</figcaption>"
        "</figure>"
        for p in pngs
    )
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in lines)
        + f"<h2>Results</h2>{_table_html(table_md)}<p>{html.escape(STATISTICS_NOTE)}</p>"
        + f"<h2>Figures</h2>{figures}"
        + "<h2>Statistics (per optimizer against the best)</h2>"
        + statistics.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
        + "<h2>Data</h2><ul>"
        + "".join(f"<li>{html.escape(p.name)}</li>" for p in csvs)
        + "</ul></body></html>"
    )
    write_text_atomic(out / "report.html", page)
    return [*written, out / "report.md", out / "report.html"]


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401  (pandas' to_markdown needs it)
    except ImportError:
        return False
    return True
