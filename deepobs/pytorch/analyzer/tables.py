"""The DeepOBS results table: Performance, Speed, Tuneability per problem and optimizer.

Rendered as Markdown, and as LaTeX in the DeepOBS 1.1 style (cells coloured green to red after
scaling each Performance and Speed row to 0-100; needs ``booktabs`` and ``xcolor`` loaded with
the ``table`` option).
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


def results_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Lay out :func:`~deepobs.pytorch.analyzer.metrics.performance_summary` as DeepOBS does.

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
    return table


def to_markdown(table: pd.DataFrame) -> str:
    """Render :func:`results_table` as a Markdown table."""
    header = ["Problem", "", *table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    previous = None
    for (problem, quantity), cells in table.iterrows():
        name = problem_title(problem) if problem != previous else ""
        previous = problem
        lines.append("| " + " | ".join([name, quantity, *cells]) + " |")
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
}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters (and write ``±`` as ``$\\pm$``)."""
    return "".join(_LATEX_SPECIALS.get(char, char) for char in str(text))


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


def to_latex(table: pd.DataFrame, summary: pd.DataFrame | None = None) -> str:
    """Render :func:`results_table` as a ``booktabs`` LaTeX table.

    Args:
        table: The output of :func:`results_table`.
        summary: The summary it came from; if given, Performance and Speed cells are coloured
            green (best) to red (worst) per row, as in DeepOBS 1.1.
    """
    columns = list(table.columns)
    lines = [
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
