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
    "deepobs.config",
    "deepobs.pytorch.config",
    "deepobs.pytorch.testproblems",
    "deepobs.pytorch.testproblems.testproblem",
    "deepobs.pytorch.testproblems.testproblems_modules",
    "deepobs.pytorch.testproblems.testproblems_utils",
    "deepobs.pytorch.datasets",
    "deepobs.pytorch.datasets.dataset",
    "deepobs.pytorch.runners",
    "deepobs.pytorch.runners.options",
    "deepobs.pytorch.results.naming",
    "deepobs.pytorch.results.write",
    "deepobs.pytorch.results.read",
    "deepobs.pytorch.results.select",
    "deepobs.pytorch.analyzer",
    "deepobs.pytorch.tuner",
    "deepobs.pytorch.baselines",
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
        names = [
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and inspect.isfunction(v) and v.__module__ == module.__name__
        ]
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
        lines += [
            "Test-problem classes (see docs/testproblems.md): "
            + ", ".join(f"`{p}`" for p in problems)
            + ".",
            "",
        ]
    return lines


def api_reference() -> str:
    """The whole API_REFERENCE.md text."""
    lines = [HEADER]
    for name in MODULES:
        lines += module_section(name)
    return "\n".join(lines).rstrip() + "\n"


#: The problems added to DeepOBS' set: name(s), network, parameters, defaults.
LADDER_ROWS = (
    (
        "`cifar10_resnet32`, `cifar100_resnet32`",
        "ResNet-32 (He et al., 2016; option-A shortcuts)",
        "464,154 / 470,004",
        "128, 200, 1e-4",
    ),
    (
        "`cifar10_resnet56`, `cifar100_resnet56`",
        "ResNet-56 (option-A shortcuts)",
        "853,018 / 858,868",
        "128, 200, 1e-4",
    ),
    ("`cifar10_resnet18`", "pre-activation ResNet-18", "11,172,170", "128, 200, 5e-4"),
    ("`mnist1d_mlp`", "MLP of the MNIST-1D paper", "15,210", "100, 200, none"),
    ("`mnist1d_cnn`", "CNN of the MNIST-1D paper", "5,210", "100, 200, none"),
    (
        "`ptb_transformer`",
        "decoder-only pre-norm transformer, 6 blocks of width 384, context 256",
        "384·V + 10,720,128",
        "64, 16, none",
    ),
)

#: The section on the additions and the ladder, above the table of docs/testproblems.md.
LADDER_INTRO = "\n".join(
    [
        "## Additions: the problem ladder",
        "",
        "Eight registered problems extend DeepOBS' set towards current networks. None has",
        "published DeepOBS baselines; their defaults follow the training recipe published with",
        "each network (He et al. for the ResNets, the MNIST-1D paper, nanoGPT's character model",
        "for the transformer); each problem's docstring gives the source.",
        "",
        "| Problem | Network | Parameters | Defaults (batch, epochs, L2) |",
        "|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in LADDER_ROWS),
        "",
        "V is the number of characters of the Penn Treebank vocabulary (about 50). MNIST-1D is",
        'generated locally by the `mnist1d` package (`pip install "deepobs[mnist1d]"`,',
        "`deepobs download mnist1d`), never downloaded: 3,000 training, 1,000 validation, 1,000",
        "`train_eval` (taken from the training signals) and 1,000 test signals.",
        "",
        'The *ladder* (`deepobs.pytorch.testproblems._sets.PROBLEM_SETS["ladder"]`) is one',
        "problem per step of cost: `quadratic_deep` → `mnist1d_mlp` → `fmnist_2c2d` →",
        "`cifar10_3c3d` → `cifar10_resnet32` → `ptb_transformer`. One training step at the",
        "default batch size on one thread of a heavily loaded 2-core CPU took about 0.001 s,",
        "0.002 s, 1.8 s, 2.5 s, 10 s and 160 s respectively (`LADDER_COST` in the same",
        "module); the last three rungs need a GPU for full runs, and GPU times have not been",
        "measured.",
        "`ptb_transformer(num_layers=2, width=128, num_heads=2)` is a CPU-sized variant",
        "(128·V + 426,624 parameters). The transformer's `param_groups_hint()` sorts its",
        "parameters into matrices, embeddings, norms and biases, for optimizers that treat them",
        "differently (e.g. weight decay on the matrices only).",
        "",
    ]
)


def testproblems_table() -> str:
    """The whole docs/testproblems.md text (the registry as ``deepobs list --format markdown``)."""
    from deepobs.pytorch._cli.list import markdown_table

    return (
        "# Test problems\n\nGenerated from the registry (`deepobs list --format markdown`); "
        "do not edit by hand.\n\n" + LADDER_INTRO + "\n" + markdown_table()
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
