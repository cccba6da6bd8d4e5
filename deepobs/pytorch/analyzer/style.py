r"""Figure styles: sizes and fonts for a paper column or page, colours and markers per line.

A style is a set of ``rcParams`` used only while a figure is built and saved (through
``matplotlib.rc_context``), never set globally. The venue styles take their widths and font
sizes from ``tueplots``' bundles; ``default`` is sized for the text width of LaTeX's standard
``article`` class (345 pt), so a figure fits any one-column document and a ``\linewidth``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

#: Style names accepted by ``deepobs analyze --style``.
STYLES = ("default", "neurips", "icml", "iclr", "jmlr")
#: The tueplots bundle behind each venue style.
_BUNDLES = {
    "neurips": "neurips2024",
    "icml": "icml2024",
    "iclr": "iclr2024",
    "jmlr": "jmlr2001",
}
#: Text width of LaTeX's ``article`` class at 10 pt, in inches (345 pt).
ARTICLE_WIDTH_IN = 345.0 / 72.27
#: Height of one row of panels relative to a panel's width (golden ratio).
_GOLDEN = 0.618

#: Okabe-Ito colours (colour-blind safe), black last; published baselines use greys.
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
GREYS = ("#555555", "#888888", "#AAAAAA", "#333333", "#BBBBBB")
#: Markers paired with the colours, so lines differ without colour too.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
REFERENCE_MARKERS = ("x", "+", "1", "2", "3")
REFERENCE_LINESTYLES = ("--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))

#: rcParams of every style: Type 42 (TrueType) fonts in PDF and PS, no LaTeX needed for text.
BASE_RC = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "text.usetex": False,
    "figure.constrained_layout.use": True,
    "savefig.pad_inches": 0.015,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "legend.frameon": False,
}
_DEFAULT_FONTS = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "figure.titlesize": 9,
}


@dataclass(frozen=True)
class LineStyle:
    """How one legend entry is drawn."""

    color: str
    marker: str
    linestyle: str | tuple = "-"


def check_style(style: str) -> str:
    """Return ``style`` if it is known.

    Raises:
        ValueError: for an unknown style.
    """
    if style not in STYLES:
        raise ValueError(f"Unknown figure style {style!r}. Valid styles: {', '.join(STYLES)}.")
    return style


def _bundle(style: str, column: str) -> dict:
    bundles = importlib.import_module("tueplots.bundles")
    factory = getattr(bundles, _BUNDLES[style])
    if style == "icml":
        return factory(column=column, usetex=False)
    if style == "jmlr":
        return factory()
    return factory(usetex=False)


def style_rc(style: str = "default", *, full_width: bool = False) -> dict:
    """The rcParams of ``style`` (fonts, sizes; ``figure.figsize`` is one column/page wide).

    Args:
        style: One of :data:`STYLES`.
        full_width: The text width of two-column venues (ICML) instead of one column.

    Raises:
        ValueError: for an unknown style.
    """
    check_style(style)
    rc = dict(BASE_RC)
    if style == "default":
        rc.update(_DEFAULT_FONTS)
        rc["figure.figsize"] = (ARTICLE_WIDTH_IN, ARTICLE_WIDTH_IN * _GOLDEN)
        return rc
    bundle = _bundle(style, "full" if full_width else "half")
    keep = ("figure.figsize", "font.family", "font.serif", "font.sans-serif", "mathtext.fontset")
    rc.update({k: v for k, v in bundle.items() if k in keep or "size" in k})
    rc["text.usetex"] = False  # figures must build without a LaTeX installation
    rc["figure.titlesize"] = rc.get("axes.titlesize", 9)
    return rc


def figure_size(
    rc: dict,
    nrows: int,
    ncols: int,
    aspect: float = _GOLDEN,
    legend_rows: int = 2,
    max_row_in: float = 1.4,
) -> tuple[float, float]:
    """Figure size in inches: width from the style, height from the rows of panels.

    The height holds ``nrows`` rows of panels ``width/ncols`` wide (each at most
    ``max_row_in`` high), a title and ``legend_rows`` lines of legend below.
    """
    width = rc["figure.figsize"][0]
    row = min(aspect * width / max(ncols, 1), max_row_in)
    return width, nrows * row + 0.35 + 0.15 * legend_rows


def line_styles(labels: list[str], references: list[str] = ()) -> dict[str, LineStyle]:
    """A colour, a marker and a dash pattern per legend label; references in greys, dashed."""
    styles = {
        label: LineStyle(COLORS[i % len(COLORS)], MARKERS[i % len(MARKERS)], "-")
        for i, label in enumerate(labels)
    }
    for i, label in enumerate(references):
        styles[label] = LineStyle(
            GREYS[i % len(GREYS)],
            REFERENCE_MARKERS[i % len(REFERENCE_MARKERS)],
            REFERENCE_LINESTYLES[i % len(REFERENCE_LINESTYLES)],
        )
    return styles


def plain_log_ticks(axis: object) -> None:
    """Label a log axis with plain numbers (``2``, ``5``, ``10``) instead of ``2 x 10^0``."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())
