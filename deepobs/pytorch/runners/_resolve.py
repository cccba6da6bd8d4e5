"""Resolving a run's arguments: Python > command line > problem defaults, then validation.

Every bad input fails here, before any training: the message names the value, what is valid
and how to fix it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path

from deepobs.pytorch import config
from deepobs.pytorch.runners import _checkpoint, _naming
from deepobs.pytorch.testproblems import get_testproblem_class

DEFAULTS = {"random_seed": 42, "output_dir": "./results", "no_logs": False,
            "train_log_interval": 10, "print_train_iter": False, "tb_log": False}


@dataclass
class RunArguments:
    """Every setting of one run, resolved and checked."""

    testproblem: str
    problem_class: type
    batch_size: int
    num_epochs: int
    random_seed: int
    hyperparams: dict
    training_params: dict = field(default_factory=dict)
    l2_reg: float | None = None
    data_dir: Path | None = None
    output_dir: Path = Path("./results")
    no_logs: bool = False
    train_log_interval: int = 10
    print_train_iter: bool = False
    tb_log: bool = False
    tb_log_dir: str | None = None
    device: str = "cpu"
    #: How the run executes, not what it computes (checkpoints): in ``meta``, not the folder.
    run_options: dict = field(default_factory=dict)

    @property
    def setting_name(self) -> str:
        """Folder name of this setting (DeepOBS 1.2 scheme)."""
        return _naming.setting_folder_name(self.num_epochs, self.batch_size, self.hyperparams,
                                           self.training_params, self.l2_reg)


def resolve_arguments(runner, given: dict, hyperparams, training_params: dict, cli) -> RunArguments:
    """Merge, default and validate the arguments of ``runner.run``."""
    values = dict(given)
    hyperparams = dict(hyperparams or {})
    training_params = dict(training_params)
    if cli is not None:
        _merge_command_line(runner, values, hyperparams, training_params, cli)
    if values.get("weight_decay") is not None:
        if values.get("l2_reg") not in (None, values["weight_decay"]):
            raise ValueError(
                f"Got l2_reg={values['l2_reg']!r} and weight_decay={values['weight_decay']!r}; "
                "they are one setting under two names. Pass only l2_reg."
            )
        values["l2_reg"] = values["weight_decay"]
    for key, default in DEFAULTS.items():
        if values.get(key) is None:
            values[key] = default
    if values["testproblem"] is None:
        raise ValueError("No test problem given. Pass testproblem='quadratic_deep' (or a name "
                         "from `deepobs list`).")
    problem_class = get_testproblem_class(values["testproblem"])
    spec = getattr(problem_class, "spec", None)
    run_options = _checkpoint.split_run_options(runner, training_params, values["no_logs"])
    return RunArguments(
        testproblem=values["testproblem"],
        problem_class=problem_class,
        batch_size=_positive_int("batch_size", _default(values, spec, "batch_size")),
        num_epochs=_epochs(_default(values, spec, "num_epochs")),
        random_seed=_int("random_seed", values["random_seed"]),
        hyperparams=_hyperparams(runner, hyperparams),
        training_params=_training_params(runner, training_params),
        l2_reg=values["l2_reg"],
        data_dir=None if values["data_dir"] is None else Path(values["data_dir"]),
        output_dir=_output_dir(values["output_dir"], values["no_logs"]),
        no_logs=bool(values["no_logs"]),
        train_log_interval=_positive_int("train_log_interval", values["train_log_interval"]),
        print_train_iter=bool(values["print_train_iter"]),
        tb_log=bool(values["tb_log"]),
        tb_log_dir=values["tb_log_dir"],
        device=(config.validate_device(values["device"]) if values["device"] is not None
                else config.get_default_device()),
        run_options=run_options,
    )


def _merge_command_line(runner, values, hyperparams, training_params, cli: dict) -> None:
    for key in list(values):
        if values[key] is None and cli.get(key) is not None:
            values[key] = cli[key]
    for name, spec in runner._hyperparameter_names.items():
        if name not in hyperparams and cli.get(name) is not None:
            value = cli[name]
            hyperparams[name] = tuple(value) if spec.get("type") in (tuple, list) else value
    for flags, kwargs in runner.training_param_flags:
        dest = kwargs.get("dest") or flags[-1].lstrip("-").replace("-", "_")
        if dest not in training_params and cli.get(dest) is not None:
            training_params[dest] = cli[dest]


def _default(values: dict, spec, key: str):
    if values.get(key) is not None:
        return values[key]
    default = getattr(spec, key, None)
    if default is None:
        flag = "--batch-size" if key == "batch_size" else "--num-epochs"
        raise ValueError(
            f"Test problem {values['testproblem']!r} has no default {key}; pass {key}=... "
            f"(CLI: {flag})."
        )
    return default


def _int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    return value


def _positive_int(name: str, value) -> int:
    if _int(name, value) <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


def _epochs(value) -> int:
    if _int("num_epochs", value) < 0:
        raise ValueError(f"num_epochs must be >= 0, got {value!r}. Use e.g. num_epochs=10.")
    return value


def _hyperparams(runner, hyperparams: dict) -> dict:
    names = runner._hyperparameter_names
    unknown = sorted(set(hyperparams) - set(names))
    if unknown:
        raise ValueError(
            f"Unknown hyperparameter(s) {unknown} for {runner._optimizer_name}; this runner "
            f"was built with hyperparameter_names {sorted(names)}. Add them there or remove them."
        )
    resolved = {}
    for name, spec in names.items():
        if name in hyperparams:
            resolved[name] = hyperparams[name]
        elif "default" in spec:
            resolved[name] = spec["default"]
        else:
            raise ValueError(
                f"Hyperparameter {name!r} has no default and was not given. Pass "
                f"hyperparams={{'{name}': ...}} or --{name} on the command line."
            )
    return resolved


def _training_params(runner, training_params: dict) -> dict:
    accepted, var_kw = runner.accepted_training_params()
    unknown = sorted(k for k in training_params if k not in accepted)
    if unknown and not var_kw:
        raise ValueError(
            f"Unknown training parameter(s) {unknown} for {type(runner).__name__}; "
            f"it accepts {sorted(accepted) or 'none'}."
        )
    # A value equal to the default is the default run: same record, same folder name.
    defaults = {k: p.default for k, p in inspect.signature(runner.training).parameters.items()}
    return {k: v for k, v in training_params.items()
            if v is not None and not _is_default(v, defaults.get(k, inspect.Parameter.empty))}


def _is_default(value, default) -> bool:
    return isinstance(default, bool | int | float | str) and type(value) is type(default) and (
        value == default)


def _output_dir(output_dir, no_logs) -> Path:
    path = Path(output_dir).expanduser()
    if no_logs:
        return path
    for parent in (path, *path.parents):
        if parent.exists() and not parent.is_dir():
            raise NotADirectoryError(
                f"output_dir {str(path)!r} cannot be used: {str(parent)!r} is a file. "
                "Pass a directory path (it is created if missing)."
            )
    return path
