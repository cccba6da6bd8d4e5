"""Loading an optimizer class and parsing ``--hp name=value`` pairs for ``deepobs run``."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import math
import sys
from pathlib import Path

from deepobs.pytorch.runners._resolve import (
    check_hyperparameter_names,
    check_optimizer_class,
)


def _load_file(path: Path):
    if not path.is_file():
        raise ValueError(
            f"Optimizer file {str(path)!r} does not exist. Pass an existing file, e.g. "
            "--optimizer ./my_optimizer.py:MyOptimizer."
        )
    name = f"deepobs_user_optimizer_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"Cannot load optimizer file {str(path)!r}: not a Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def import_optimizer(path: str) -> type:
    """Import ``torch.optim.SGD``, ``my_module:MyOptimizer`` or ``./my_file.py:MyOptimizer``.

    Raises:
        ValueError: if the path does not import or does not name a class.
        TypeError: if it names something that is not an optimizer class.
    """
    module_name, sep, attr = path.rpartition(":") if ".py:" in path else path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(
            f"Invalid optimizer path {path!r}. Use a dotted path such as torch.optim.SGD, "
            "module:Class or file.py:Class."
        )
    try:
        if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
            module = _load_file(Path(module_name).expanduser())
        else:
            module = importlib.import_module(module_name)
        obj = getattr(module, attr)
    except (ImportError, AttributeError, SyntaxError) as err:
        raise ValueError(
            f"Cannot import optimizer {path!r}: {err}. Check the spelling, and that the module "
            "is importable (e.g. on PYTHONPATH); use torch.optim.SGD, module:Class or "
            "file.py:Class."
        ) from err
    if not inspect.isclass(obj):
        raise ValueError(f"Optimizer {path!r} is not a class (got {type(obj).__name__}).")
    check_optimizer_class(obj, path)
    return obj


def parse_value(text: str) -> object:
    """``"0.1" -> 0.1``, ``"True" -> True``, ``"(0.9,0.99)" -> (0.9, 0.99)``, else the string.

    ``nan``/``inf`` become floats (refused later as non-finite).
    """
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return float(text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def parse_hyperparams(pairs: list[str] | None) -> dict:
    """Turn ``["lr=0.1", "momentum=0.9"]`` into a dict, with a clear error for bad pairs.

    Raises:
        ValueError: for a pair without ``=``, an empty name or value, or a repeated name.
    """
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise ValueError(f"Invalid --hp {pair!r}: write NAME=VALUE, e.g. --hp lr=0.1.")
        if not value:
            raise ValueError(f"--hp {pair!r} has no value: write e.g. --hp {name}=0.1.")
        if name in out:
            raise ValueError(
                f"--hp {name} is given twice ({out[name]!r} and {value!r}); give each "
                "hyperparameter once."
            )
        out[name] = parse_value(value)
    return out


def optimizer_hyperparameters(optimizer_class: type) -> tuple[list[str], bool]:
    """Keyword names the optimizer's constructor takes (besides ``params``) and ``**kwargs``."""
    from deepobs.pytorch.runners._resolve import optimizer_hyperparameters as names_of

    return names_of(optimizer_class)


def _default_of(optimizer_class: type, name: str):
    try:
        param = inspect.signature(optimizer_class.__init__).parameters.get(name)
    except (TypeError, ValueError):
        return None
    return None if param is None else param.default


def check_hyperparams(optimizer_class: type, hyperparams: dict) -> None:
    """Refuse unknown names, non-finite numbers and text where the optimizer takes a number.

    Raises:
        ValueError: naming the hyperparameter, its value and what is valid.
    """
    check_hyperparameter_names(optimizer_class, hyperparams)
    for name, value in hyperparams.items():
        if value is None:  # a placeholder (e.g. a name the tuner searches)
            continue
        default = _default_of(optimizer_class, name)
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        if numeric and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(
                f"--hp {name}={value!r} is not a number; {optimizer_class.__name__} takes a "
                f"number for {name} (default {default!r}). Write e.g. --hp {name}={default!r}."
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"--hp {name}={value!r} is not a finite number. Pass a finite value.")
