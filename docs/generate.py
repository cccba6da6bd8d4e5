"""Generate API_REFERENCE.md (from docstrings) and docs/testproblems.md (from the registry).

Run ``python docs/generate.py`` after changing a public signature or docstring;
``tests/test_docs.py`` fails when either file is out of date.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Public modules, in the order the reference lists them. Each documents its ``__all__``
#: (or its public functions when it has none).
MODULES = (
    "deepobs.pytorch.config",
    "deepobs.pytorch.testproblems",
    "deepobs.pytorch.datasets",
    "deepobs.pytorch.runners",
    "deepobs.pytorch.analyzer",
    "deepobs.pytorch.tuner",
)

HEADER = """# API reference

Generated from the docstrings by `python docs/generate.py`; do not edit by hand.
The test problems themselves are listed in [docs/testproblems.md](docs/testproblems.md).
"""


def _first_paragraph(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip()


def _signature(obj) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_")
                 and inspect.isfunction(v) and v.__module__ == module.__name__]
    return sorted(names)


def _is_problem_class(obj) -> bool:
    return inspect.isclass(obj) and getattr(obj, "spec", None) is not None


def _class_entry(qualname: str, cls) -> list[str]:
    lines = [f"### `{qualname}{_signature(cls)}`", "", _first_paragraph(cls), ""]
    for name, member in sorted(vars(cls).items()):
        if name.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
            continue
        target = member.fget if isinstance(member, property) else member
        sig = "" if isinstance(member, property) else _signature(member)
        lines.append(f"- `{name}{sig}`: {_first_paragraph(target)}")
    return [*lines, ""] if lines[-1] else lines


def module_section(module_name: str) -> list[str]:
    """Markdown lines documenting one module."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    lines = [f"## `{module_name}`", "", _first_paragraph(module), ""]
    problems = []
    for name in _public_names(module):
        obj = getattr(module, name)
        qualname = f"{module_name}.{name}"
        if _is_problem_class(obj):
            problems.append(name)
        elif inspect.isclass(obj):
            lines += _class_entry(qualname, obj)
        elif callable(obj):
            lines += [f"### `{qualname}{_signature(obj)}`", "", _first_paragraph(obj), ""]
    if problems:
        lines += ["Test-problem classes (see docs/testproblems.md): "
                  + ", ".join(f"`{p}`" for p in problems) + ".", ""]
    return lines


def api_reference() -> str:
    """The whole API_REFERENCE.md text."""
    lines = [HEADER]
    for name in MODULES:
        lines += module_section(name)
    return "\n".join(lines).rstrip() + "\n"


def testproblems_table() -> str:
    """The whole docs/testproblems.md text (the registry as ``deepobs list --format markdown``)."""
    from deepobs.pytorch._cli.list import markdown_table

    return (
        "# Test problems\n\nGenerated from the registry (`deepobs list --format markdown`); "
        "do not edit by hand.\n\n" + markdown_table()
    )


OUTPUTS = {"API_REFERENCE.md": api_reference, "docs/testproblems.md": testproblems_table}


def main() -> int:
    """Write every generated document."""
    for relative, make in OUTPUTS.items():
        (ROOT / relative).write_text(make(), encoding="utf-8")
        sys.stdout.write(f"wrote {relative}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
