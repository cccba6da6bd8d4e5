"""Loading an optimizer class from a dotted path and parsing ``--hp name=value`` pairs."""

from __future__ import annotations

import ast
import importlib
import inspect


def import_optimizer(path: str) -> type:
    """Import ``torch.optim.SGD`` or ``my_module:MyOptimizer``.

    Raises:
        ValueError: if the path does not import or does not name a class.
    """
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(
            f"Invalid optimizer path {path!r}. Use a dotted path such as torch.optim.SGD "
            "or module:Class."
        )
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(
            f"Cannot import optimizer {path!r}: {err}. Check the spelling, and that the module "
            "is importable (e.g. on PYTHONPATH); use torch.optim.SGD or module:Class."
        ) from err
    if not inspect.isclass(obj):
        raise ValueError(f"Optimizer {path!r} is not a class (got {type(obj).__name__}).")
    return obj


def parse_value(text: str) -> object:
    """``"0.1" -> 0.1``, ``"True" -> True``, ``"(0.9,0.99)" -> (0.9, 0.99)``, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_hyperparams(pairs: list[str] | None) -> dict:
    """Turn ``["lr=0.1", "momentum=0.9"]`` into a dict, with a clear error for bad pairs."""
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"Invalid --hp {pair!r}: write NAME=VALUE, e.g. --hp lr=0.1.")
        out[name.strip()] = parse_value(value.strip())
    return out


def optimizer_hyperparameters(optimizer_class: type) -> tuple[list[str], bool]:
    """Keyword names the optimizer's constructor takes (besides ``params``) and ``**kwargs``."""
    sig = inspect.signature(optimizer_class.__init__)
    names, var_kw = [], False
    for i, (name, param) in enumerate(sig.parameters.items()):
        if param.kind is param.VAR_KEYWORD:
            var_kw = True
        elif i >= 2 and param.kind is not param.VAR_POSITIONAL:  # skip self and params
            names.append(name)
    return names, var_kw


def check_hyperparams(optimizer_class: type, hyperparams: dict) -> None:
    """Raise ``ValueError`` naming the valid hyperparameters if one is unknown."""
    valid, var_kw = optimizer_hyperparameters(optimizer_class)
    unknown = sorted(set(hyperparams) - set(valid))
    if unknown and not var_kw:
        raise ValueError(
            f"Unknown hyperparameter(s) {', '.join(unknown)} for {optimizer_class.__name__}. "
            f"Valid: {', '.join(valid)}."
        )
