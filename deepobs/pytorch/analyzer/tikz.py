r"""Saving figures as PNG/PDF/SVG and as PGF code for LaTeX (``.tex``).

The ``tex`` format uses matplotlib's own PGF backend: the file is the figure as drawn for the
PNG (legend, colours, markers and layout included) in PGF commands, with its text typeset by
your document's LaTeX, and it defines no ``\label``, so any number of figures can share a
document. Include it with ``\input{figure.tex}`` after this preamble (:data:`LATEX_PREAMBLE`)::

    \usepackage[T1]{fontenc}
    \usepackage{lmodern}
    \usepackage{pgf}

Writing it needs ``pdflatex`` on the ``PATH`` (matplotlib measures the text with it); the other
formats do not. PDFs embed TrueType (Type 42) fonts, as ACM and IEEE checks require.
"""

from __future__ import annotations

import io
import logging
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.text import Text

from deepobs.pytorch.analyzer.style import BASE_RC

logger = logging.getLogger(__name__)

FORMATS = ("png", "pdf", "svg", "tex")
#: The LaTeX preamble a document needs for ``\input`` of an exported ``.tex`` figure.
LATEX_PREAMBLE = "\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n\\usepackage{pgf}\n"
#: The TeX program matplotlib measures text with while writing PGF.
TEX_SYSTEM = "pdflatex"
_PGF_RC = {
    "pgf.texsystem": TEX_SYSTEM,
    "pgf.rcfonts": False,
    "pgf.preamble": "\\usepackage[T1]{fontenc}\\usepackage{lmodern}",
}
_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def tex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text (math between ``$`` is kept as is)."""
    parts = text.split("$")
    if len(parts) % 2 == 0:  # unbalanced: treat every dollar as a character
        parts = [text.replace("$", "\\$")]
    return "$".join(
        part if i % 2 else "".join(_TEX_SPECIALS.get(c, c) for c in part)
        for i, part in enumerate(parts)
    )


@contextmanager
def _tex_safe_texts(fig: Figure) -> Iterator[None]:
    """Escape every text of ``fig`` for LaTeX while the block runs, then restore them."""
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    originals = [t.get_text() for t in texts]
    try:
        for text, original in zip(texts, originals):
            text.set_text(tex_escape(original))
        yield
    finally:
        for text, original in zip(texts, originals):
            text.set_text(original)


def figure_to_pgf(fig: Figure) -> str:
    r"""Return ``fig`` as PGF code for ``\input`` (needs the preamble :data:`LATEX_PREAMBLE`).

    Raises:
        FileNotFoundError: if ``pdflatex`` is not installed (matplotlib measures text with it).
    """
    if shutil.which(TEX_SYSTEM) is None:
        raise FileNotFoundError(
            f"The tex figure format needs {TEX_SYSTEM!r} on the PATH (matplotlib typesets the "
            "text with it). Install a TeX distribution, e.g. `apt-get install "
            "texlive-latex-base texlive-latex-extra`, or export pdf instead (--format pdf)."
        )
    buffer = io.StringIO()
    with mpl.rc_context({**BASE_RC, **_PGF_RC}), _tex_safe_texts(fig):
        fig.savefig(buffer, format="pgf")
    # matplotlib wraps math in \\mathdefault{}, defined only in its own measuring preamble;
    # dropping it makes the file need nothing beyond LATEX_PREAMBLE.
    return buffer.getvalue().replace("\\mathdefault{", "{")


def figure_to_tikz(fig: Figure, **_: object) -> str:
    """Alias of :func:`figure_to_pgf`; keyword arguments are ignored.

    PGF is the layer TikZ draws with; the code runs in any document that loads ``pgf`` or
    ``tikz``.
    """
    return figure_to_pgf(fig)


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
    fig: Figure, stem: str | Path, formats: str | Iterable[str] = ("png",), dpi: int = 200
) -> list[Path]:
    """Write ``fig`` as ``<stem>.<format>`` for each format; return the paths written.

    Files are written to a temporary name and renamed, so an interrupted export leaves no
    half-written figure.

    Raises:
        ValueError: for an unknown format.
        FileNotFoundError: for ``tex`` without ``pdflatex``.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in parse_formats(formats):
        path = stem.with_name(f"{stem.name}.{fmt}")
        partial = path.with_name(f".{path.name}.partial")
        if fmt == "tex":
            partial.write_text(figure_to_pgf(fig), encoding="utf-8")
        else:
            with mpl.rc_context(BASE_RC):
                fig.savefig(partial, format=fmt, dpi=dpi)
        partial.replace(path)
        written.append(path)
        logger.debug("wrote %s", path)
    return written
