"""The DeepOBS results table: Performance, Speed, Tuneability per problem and optimizer.

Rendered as Markdown, and as LaTeX in the DeepOBS 1.1 style (cells coloured green to red after
scaling each Performance and Speed row to 0-100; needs ``booktabs`` and ``xcolor`` loaded with
the ``table`` option). With the statistics of
:func:`~deepobs.pytorch.analyzer.significance.significance_tables`, Performance is the mean
over seeds ± the half width of its 95 % confidence interval, the best optimizer is bold and
``†`` marks those not significantly different from it (Holm-corrected Welch test).
"""

from __future__ import annotations

import math

import pandas as pd

from deepobs.pytorch.analyzer._naming import order_optimizers, problem_title

QUANTITIES = ("Performance", "Speed", "Tuneability")


def _performance_text(row: pd.Series) -> str:
    mean, std = row["performance"], row["performance_std"]
    if not math.isfinite(mean):
        return f"diverged ({row['n_diverged']}/{row['n_seeds']} seeds)"
    if row["performance_metric"] == "test_accuracies":
        mean, std, unit = 100 * mean, 100 * std, " %"
        text = f"{mean:.2f}"
        spread = f"{std:.2f}"
    else:
        unit, text, spread = "", f"{mean:.4g}", f"{std:.2g}"
    return text + (f" ± {spread}" if math.isfinite(std) else "") + unit


def _speed_text(row: pd.Series) -> str:
    if not math.isfinite(row["speed"]):
        return "N.A."
    text = f"{row['speed']:.0f}"
    return text + " (not reached)" if not row["speed_reached"] else text


def _tuneability_text(row: pd.Series) -> str:
    extra = "" if row["training_params"] in ("{}", "") else f"; {row['training_params']}"
    return row["hyperparams"] + extra


#: The note under a table with statistics.
STATISTICS_NOTE = (
    "Performance: mean over seeds ± half width of the 95 % confidence interval (Student t); "
    "bold: best mean; †: not significantly different from the best (Welch t-test, "
    "Holm-corrected over the problem's pairs, alpha 0.05)."
)


def _significance_text(row: pd.Series, unit_scale: float) -> str:
    """Cell text for a row of :func:`~deepobs.pytorch.analyzer.significance.compare_to_best`.

    ``**0.9123 ± 0.0040**`` (best), ``0.91 ± 0.01 †`` (tied) or plain.
    """
    if not math.isfinite(row["mean"]):
        return f"diverged ({row['n_diverged']}/{row['n_diverged'] + row['n']} seeds)"
    mean = row["mean"] * unit_scale
    half = (row["ci_high"] - row["mean"]) * unit_scale
    if unit_scale == 100:
        text = f"{mean:.2f}" + (f" ± {half:.2f}" if math.isfinite(half) else "") + " %"
    else:
        text = f"{mean:.4g}" + (f" ± {half:.2g}" if math.isfinite(half) else "")
    if row["n_diverged"]:
        text += f" ({row['n_diverged']} diverged)"
    if row["is_best"]:
        return f"**{text}**"
    return text + " †" if row["tied_with_best"] else text


def results_table(summary: pd.DataFrame, significance: pd.DataFrame | None = None) -> pd.DataFrame:
    """Lay out :func:`~deepobs.pytorch.analyzer.metrics.performance_summary` as DeepOBS does.

    Args:
        summary: The performance summary.
        significance: The first frame of
            :func:`~deepobs.pytorch.analyzer.significance.significance_tables`; if given,
            Performance cells show the confidence interval and bold/† marks (see
            :data:`STATISTICS_NOTE`).

    Returns:
        Strings, indexed by ``(testproblem, quantity)`` with quantity in :data:`QUANTITIES`,
        one column per optimizer (SGD, Momentum, Adam first). Empty where an optimizer has no
        results on a problem.
    """
    optimizers = order_optimizers(set(summary["optimizer"]))
    index = pd.MultiIndex.from_product(
        [sorted(set(summary["testproblem"])), QUANTITIES], names=["testproblem", "quantity"]
    )
    table = pd.DataFrame("", index=index, columns=optimizers)
    formatters = dict(zip(QUANTITIES, (_performance_text, _speed_text, _tuneability_text)))
    for _, row in summary.iterrows():
        for quantity, formatter in formatters.items():
            table.loc[(row["testproblem"], quantity), row["optimizer"]] = formatter(row)
    if significance is not None:
        for _, row in significance.iterrows():
            scale = 100 if row["metric"] == "test_accuracies" else 1
            table.loc[(row["testproblem"], "Performance"), row["optimizer"]] = _significance_text(
                row, scale
            )
    return table


def to_markdown(table: pd.DataFrame, note: str | None = None) -> str:
    """Render :func:`results_table` as a Markdown table (``note`` as a paragraph below)."""
    header = ["Problem", "", *table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    previous = None
    for (problem, quantity), cells in table.iterrows():
        name = problem_title(problem) if problem != previous else ""
        previous = problem
        lines.append("| " + " | ".join([name, quantity, *cells]) + " |")
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "†": r"$^\dagger$",
}


def latex_escape(text: str) -> str:
    r"""Escape LaTeX special characters and turn Markdown bold into LaTeX bold.

    ``±`` becomes ``$\pm$``, ``†`` ``$^\dagger$`` and ``**x**`` ``\textbf{x}``.
    """
    text = str(text)
    bold = text.startswith("**") and text.endswith("**") and len(text) > 4
    escaped = "".join(_LATEX_SPECIALS.get(char, char) for char in (text[2:-2] if bold else text))
    return f"\\textbf{{{escaped}}}" if bold else escaped


def _row_shades(summary: pd.DataFrame, problem: str, quantity: str) -> dict[str, float]:
    """0-100 per optimizer (100 = best in the row), for the cell colours."""
    rows = summary[summary["testproblem"] == problem]
    column = {"Performance": "performance", "Speed": "speed"}[quantity]
    values = rows.set_index("optimizer")[column].astype(float)
    values = values[values.map(math.isfinite)]
    if values.empty:
        return {}
    higher = quantity == "Performance" and (rows["performance_metric"] == "test_accuracies").all()
    low, high = values.min(), values.max()
    if high == low:
        return dict.fromkeys(values.index, 100.0)
    scaled = (values - low) / (high - low) * 100
    return (scaled if higher else 100 - scaled).to_dict()


def to_latex(
    table: pd.DataFrame, summary: pd.DataFrame | None = None, note: str | None = None
) -> str:
    """Render :func:`results_table` as a ``booktabs`` LaTeX table.

    Args:
        table: The output of :func:`results_table`.
        summary: The summary it came from; if given, Performance and Speed cells are coloured
            green (best) to red (worst) per row, as in DeepOBS 1.1.
        note: Written as a comment above the table (for the caption).
    """
    columns = list(table.columns)
    lines = [f"% {note}"] if note else []
    lines += [
        "% Needs \\usepackage{booktabs} and \\usepackage[table]{xcolor}.",
        "\\begin{tabular}{ll" + "c" * len(columns) + "}",
        "\\toprule",
        " & & " + " & ".join(latex_escape(c) for c in columns) + " \\\\",
    ]
    for problem in table.index.get_level_values(0).unique():
        lines.append("\\midrule")
        for quantity in QUANTITIES:
            shades = (
                _row_shades(summary, problem, quantity)
                if summary is not None and quantity != "Tuneability"
                else {}
            )
            cells = []
            for optimizer in columns:
                cell = latex_escape(table.loc[(problem, quantity), optimizer])
                if optimizer in shades:
                    cell = f"\\cellcolor{{green!{shades[optimizer]:.0f}!red!35}}{cell}"
                cells.append(cell)
            name = latex_escape(problem_title(problem)) if quantity == QUANTITIES[0] else ""
            lines.append(" & ".join([name, quantity, *cells]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"
