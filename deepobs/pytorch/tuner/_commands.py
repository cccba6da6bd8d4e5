"""Command lines for one run each: ``deepobs run ...`` or a DeepOBS runner script.

The option flags come from the one table of options (:mod:`deepobs.pytorch.runners.options`),
so every option a command line carries is one the receiving parser accepts.
"""

from __future__ import annotations

import importlib
import shlex

from deepobs.pytorch.runners import options


def importable_path(cls: type) -> str:
    """The shortest dotted path that imports ``cls`` (``torch.optim.SGD``).

    Raises:
        ValueError: for a class that another process cannot import (``__main__``, local).
    """
    module, name = cls.__module__, cls.__qualname__
    if module == "__main__" or "<locals>" in name:
        raise ValueError(
            f"Optimizer class {name!r} is defined in {module!r}, which `deepobs run` cannot "
            "import. Define it in an importable module (on PYTHONPATH)."
        )
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        candidate = ".".join(parts[:i])
        try:
            if getattr(importlib.import_module(candidate), name, None) is cls:
                return f"{candidate}.{name}"
        except ImportError:
            continue
    return f"{module}.{name}"


def deepobs_run_command(
    testproblem: str,
    optimizer_class: type,
    hyperparams: dict,
    random_seed: int,
    output_dir,
    **kwargs,
) -> str:
    """``deepobs run TESTPROBLEM --optimizer ... --hp name=value ...`` for one run.

    ``kwargs`` are ``run()`` arguments (``num_epochs``, ``device``, training parameters) and
    ``optimizer_name``.
    """
    args = ["deepobs", "run", testproblem, "--optimizer", importable_path(optimizer_class)]
    name = kwargs.pop("optimizer_name", None)
    if name is not None and name != optimizer_class.__name__:
        args += ["--optimizer-name", name]
    for key, value in hyperparams.items():
        args += ["--hp", f"{key}={value!r}"]
    args += ["--random-seed", str(random_seed), "--output-dir", str(output_dir)]
    return shlex.join(args + options.command_flags(kwargs, script=False))


def script_command(
    run_script: str, testproblem: str, hyperparams: dict, random_seed: int, output_dir, **kwargs
) -> str:
    """``python RUN_SCRIPT TESTPROBLEM --<hp> value ...``: a DeepOBS runner script's flags."""
    args = ["python", str(run_script), testproblem]
    for key, value in hyperparams.items():
        if isinstance(value, bool):
            args += [f"--{key}"] if value else []  # store_true flags
        else:
            args += (
                [f"--{key}", *(str(v) for v in value)]
                if isinstance(value, list | tuple)
                else [f"--{key}", str(value)]
            )
    args += ["--random_seed", str(random_seed), "--output_dir", str(output_dir)]
    return shlex.join(args + options.command_flags(kwargs, script=True))
