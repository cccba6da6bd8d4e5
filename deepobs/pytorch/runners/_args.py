"""The DeepOBS runner script's command line, generated from :mod:`.options`.

``python my_script.py quadratic_deep --lr 0.1 --num_epochs 10``: one flag per ``run()``
argument (DeepOBS spellings and ``--dash-forms``), one per hyperparameter, and the training
parameters the runner takes (added by ``PTRunner._add_training_params_to_argparse``).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from deepobs.pytorch.runners import options


def _add_hyperparameter(parser: argparse.ArgumentParser, name: str, spec: Mapping) -> None:
    kind = spec.get("type", float)
    flag = f"--{name}"
    if kind is bool:
        parser.add_argument(flag, action="store_true", default=None, help=f"{name} (flag)")
    elif kind in (tuple, list):
        parser.add_argument(flag, nargs="+", type=float, default=None, help=f"{name} (values)")
    else:
        name_of = getattr(kind, "__name__", str(kind))
        parser.add_argument(flag, type=kind, default=None, help=f"{name} ({name_of})")


def build_run_parser(
    runner, hyperparameter_names: Mapping[str, Mapping], extra: Sequence[tuple[tuple, dict]] = ()
) -> argparse.ArgumentParser:
    """Parser for a runner script (every flag defaults to ``None``).

    Values given in Python and the problem's defaults fill the gaps. ``extra`` are a runner's
    own ``(flags, argparse kwargs)`` (``training_param_flags``).
    """
    p = argparse.ArgumentParser(
        description="Run an optimizer on a DeepOBS test problem.",
        allow_abbrev=False,
        exit_on_error=False,
    )
    p.add_argument("testproblem", nargs="?", default=None, help="name of the test problem")
    options.add_script_flags(p, runner)
    for name, spec in hyperparameter_names.items():
        _add_hyperparameter(p, name, spec)
    for flags, kwargs in extra:
        try:
            p.add_argument(*flags, **kwargs)
        except argparse.ArgumentError:  # already in the table (same option)
            continue
    return p
