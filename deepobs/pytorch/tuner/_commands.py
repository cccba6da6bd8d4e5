"""Command lines for one run each: ``deepobs run ...`` or a DeepOBS runner script."""

from __future__ import annotations

import importlib
import shlex

#: run() keyword -> ``deepobs run`` option taking a value (lists become several values).
VALUE_FLAGS = {
    "num_epochs": "--num-epochs",
    "batch_size": "--batch-size",
    "l2_reg": "--l2-reg",
    "weight_decay": "--l2-reg",
    "data_dir": "--data-dir",
    "device": "--device",
    "train_log_interval": "--train-log-interval",
    "lr_sched_epochs": "--lr-sched-epochs",
    "lr_sched_factors": "--lr-sched-factors",
    "grad_accumulation": "--grad-accumulation",
    "checkpoint_every": "--checkpoint-every",
    "amp": "--amp",
    "eval_batch_size": "--eval-batch-size",
    "tb_log_dir": "--tb-log-dir",
}
#: run() keyword -> ``deepobs run`` switch (written when the value is true).
SWITCHES = {
    "print_train_iter": "--print-train-iter",
    "no_logs": "--no-logs",
    "skip_if_exists": "--skip-if-exists",
    "resume": "--resume",
    "tb_log": "--tb-log",
    "compile": "--compile",
    "channels_last": "--channels-last",
}


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


def _values(value) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _options(kwargs: dict, flags: dict, switches: dict) -> list[str]:
    args = []
    for key, value in kwargs.items():
        if value is None:
            continue
        if key in switches:
            args += [switches[key]] if value else []
        elif key in flags:
            args += [flags[key], *_values(value)]
        else:
            raise ValueError(
                f"Cannot write {key}={value!r} on a command line; known options: "
                f"{sorted({*flags, *switches})}."
            )
    return args


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
    return shlex.join(args + _options(kwargs, VALUE_FLAGS, SWITCHES))


def script_command(
    run_script: str, testproblem: str, hyperparams: dict, random_seed: int, output_dir, **kwargs
) -> str:
    """``python RUN_SCRIPT TESTPROBLEM --<hp> value ...``: a DeepOBS runner script's flags."""
    args = ["python", str(run_script), testproblem]
    for key, value in hyperparams.items():
        if isinstance(value, bool):
            args += [f"--{key}"] if value else []  # store_true flags
        else:
            args += [f"--{key}", *_values(value)]
    args += ["--random_seed", str(random_seed), "--output_dir", str(output_dir)]
    flags = {k: "--" + k for k in VALUE_FLAGS if k not in ("l2_reg", "device")}
    flags["l2_reg"] = "--weight_decay"
    switches = {k: "--" + k for k in ("print_train_iter", "no_logs", "tb_log")}
    return shlex.join(args + _options(kwargs, flags, switches))
