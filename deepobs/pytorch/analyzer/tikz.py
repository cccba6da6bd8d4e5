"""Saving figures as PNG/PDF and as pgfplots/TikZ code (``.tex``).

TikZ export uses ``matplot2tikz``, the maintained successor of ``tikzplotlib`` (whose last
release does not import with current matplotlib); it has the same ``get_tikz_code`` API and is
imported only when a ``.tex`` file is asked for.
"""

from __future__ import annotations

import importlib
import logging
import warnings
from collections.abc import Iterable
from pathlib import Path

from matplotlib.figure import Figure

from deepobs.pytorch.analyzer._deps import INSTALL_HINT

logger = logging.getLogger(__name__)

FORMATS = ("png", "pdf", "svg", "tex")


def figure_to_tikz(fig: Figure, **kwargs: object) -> str:
    """Return ``fig`` as a pgfplots ``tikzpicture`` (LaTeX needs ``pgfplots`` and ``groupplots``).

    Args:
        fig: The figure.
        **kwargs: Passed to ``matplot2tikz.get_tikz_code`` (e.g. ``axis_width``).

    Raises:
        ImportError: if ``matplot2tikz`` is not installed.
    """
    try:
        matplot2tikz = importlib.import_module("matplot2tikz")
    except ImportError as err:
        raise ImportError(
            f"TikZ export needs 'matplot2tikz'. Install the analyzer extra: {INSTALL_HINT}"
        ) from err
    with warnings.catch_warnings():
        # Legends in switched-off panels and similar layout details only affect positioning.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)  # masked (NaN) points in matplot2tikz
        code = matplot2tikz.get_tikz_code(figure=fig, include_disclaimer=False, **kwargs)
    return code


def parse_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """``"png,pdf"`` or ``["png", "tex"]`` -> validated tuple of formats.

    Raises:
        ValueError: for a format not in :data:`FORMATS`.
    """
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    items = [f.strip().lower().lstrip(".") for f in items if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise ValueError(
            f"Unknown figure format(s) {bad or formats!r}. "
            f"Valid formats: {', '.join(FORMATS)} (comma-separated)."
        )
    return tuple(dict.fromkeys(items))


def save_figure(
    fig: Figure, stem: str | Path, formats: str | Iterable[str] = ("png",), dpi: int = 150
) -> list[Path]:
    """Write ``fig`` as ``<stem>.<format>`` for each format; return the paths written.

    Raises:
        ValueError: for an unknown format.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in parse_formats(formats):
        path = stem.with_name(f"{stem.name}.{fmt}")
        if fmt == "tex":
            path.write_text(figure_to_tikz(fig), encoding="utf-8")
        else:
            fig.savefig(path, format=fmt, dpi=dpi)
        written.append(path)
        logger.debug("wrote %s", path)
    return written
