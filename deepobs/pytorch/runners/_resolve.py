"""Resolving a run's arguments: Python > command line > problem defaults, then validation.

Every bad input fails here, before any training: the message names the value, what is valid
and how to fix it.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from deepobs.pytorch import config
from deepobs.pytorch.results import naming
from deepobs.pytorch.runners import options
from deepobs.pytorch.testproblems import get_testproblem_class

DEFAULTS = {
    name: options.BY_NAME[name].default
    for name in options.RUN_ARGUMENTS
    if options.BY_NAME[name].default is not None
}
#: NumPy's seed range (``np.random.seed``).
MAX_SEED = 2**32 - 1


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
    skip_if_exists: bool = False
    #: How the run executes, not what it computes (checkpoints): in ``meta``, not the folder.
    run_options: dict = field(default_factory=dict)

    @property
    def setting_name(self) -> str:
        """Folder name of this setting (DeepOBS ``develop`` scheme, :mod:`..results.naming`)."""
        return naming.setting_folder_name(
            self.num_epochs,
            self.batch_size,
            self.hyperparams,
            options.name_params(self.training_params),
            self.l2_reg,
        )

    def identity(self, optimizer_name: str, optimizer_class) -> dict:
        """What a checkpoint must match to be resumed by this run."""
        values = {
            "testproblem": self.testproblem,
            "optimizer_name": optimizer_name,
            "optimizer_class": naming.describe(optimizer_class),
            "setting": self.setting_name,
            "hyperparams": {
                k: naming.hyperparameter_value(v) for k, v in sorted(self.hyperparams.items())
            },
        }
        for name in options.identity_names():
            if hasattr(self, name):
                value = getattr(self, name)
            else:
                value = self.training_params.get(name, options.BY_NAME[name].default)
            values[name] = list(value) if isinstance(value, tuple) else value
        return values


def resolve_arguments(runner, given: dict, hyperparams, training_params: dict, cli) -> RunArguments:
    """Merge, default and validate the arguments of ``runner.run``."""
    values = dict(given)
    hyperparams = _hyperparams_dict(hyperparams)
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
    check_option_types({**training_params, **values})
    for key, default in DEFAULTS.items():
        if values.get(key) is None:
            values[key] = default
    if values["testproblem"] is None:
        raise ValueError(
            "No test problem given. Pass testproblem='quadratic_deep' (or a name "
            "from `deepobs list`)."
        )
    problem_class = get_testproblem_class(values["testproblem"])
    spec = getattr(problem_class, "spec", None)
    run_options = split_run_options(runner, training_params, values["no_logs"])
    naming.check_path_component("optimizer_name", runner._optimizer_name)
    return RunArguments(
        testproblem=values["testproblem"],
        problem_class=problem_class,
        batch_size=_positive_int("batch_size", _default(runner, values, spec, "batch_size")),
        num_epochs=_epochs(_default(runner, values, spec, "num_epochs")),
        random_seed=_seed(values["random_seed"]),
        hyperparams=_hyperparams(runner, hyperparams),
        training_params=_training_params(runner, training_params),
        l2_reg=_l2_reg(values["l2_reg"]),
        data_dir=None if values["data_dir"] is None else Path(values["data_dir"]).expanduser(),
        output_dir=_output_dir(values["output_dir"], values["no_logs"]),
        no_logs=bool(values["no_logs"]),
        train_log_interval=_positive_int("train_log_interval", values["train_log_interval"]),
        print_train_iter=bool(values["print_train_iter"]),
        tb_log=bool(values["tb_log"]),
        tb_log_dir=None if values["tb_log_dir"] is None else os.fspath(values["tb_log_dir"]),
        device=(
            config.validate_device(values["device"])
            if values["device"] is not None
            else config.get_default_device()
        ),
        run_options=run_options,
        skip_if_exists=bool(values.get("skip_if_exists")),
    )


def split_run_options(runner, training_params: dict, no_logs: bool) -> dict:
    """Pop the run options (``checkpoint_every``, ``resume``) from ``training_params``.

    Only runners that list an option in their ``run_options`` attribute take it; for other
    runners it stays a training parameter (and is refused as unknown).

    Raises:
        ValueError: for a bad ``checkpoint_every``/``resume``, or either with ``no_logs``.
    """
    names = [n for n in getattr(runner, "run_options", ()) if n in training_params]
    found = {n: training_params.pop(n) for n in names}
    every = found.get("checkpoint_every")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise ValueError(
            f"checkpoint_every must be a positive number of epochs, got {every!r}. "
            "Use e.g. checkpoint_every=10 (CLI: --checkpoint-every 10)."
        )
    if found.get("resume") is not None and not isinstance(found["resume"], bool):
        raise ValueError(f"resume must be True or False, got {found['resume']!r}.")
    if no_logs and (every or found.get("resume")):
        raise ValueError(
            "checkpoint_every/resume keep the checkpoint next to the results file, but "
            "no_logs=True writes no results. Drop no_logs (CLI: --no-logs) to checkpoint."
        )
    return {k: v for k, v in found.items() if v not in (None, False)}


def check_option_types(values: dict) -> None:
    """Refuse a switch that is not a bool, or a path that is not a path (from the table).

    ``values`` maps option names (``run()`` keywords, training parameters, run options) to
    what was given; ``None`` means not given.

    Raises:
        ValueError: for a switch (``no_logs``, ``resume``, ...) given a non-bool.
        TypeError: for a path option (``data_dir``, ...) given something else than a path.
    """
    for option in options.OPTIONS:
        value = values.get(option.name)
        if value is None or option.kind == "cli":
            continue
        if option.is_switch and not isinstance(value, bool):
            raise ValueError(
                f"{option.name} must be True or False, got {_short(value)}. Pass "
                f"{option.name}=True (CLI: {option.cli_flag}) or leave it out."
            )
        if option.path and not isinstance(value, str | os.PathLike):
            raise TypeError(
                f"{option.name} must be a path (str or os.PathLike), got {_short(value)}. "
                f"Pass e.g. {option.name}='./{option.name.removesuffix('_dir')}' "
                f"(CLI: {option.cli_flag})."
            )


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- optimizer
def check_optimizer_class(optimizer_class, label: str | None = None) -> None:
    """Refuse what cannot be an optimizer class (``X is not an optimizer``).

    An optimizer class is ``torch.optim.Optimizer``'s subclass (not the base itself) or any
    class with ``step`` and ``zero_grad`` taking ``(params, **hyperparams)``.

    Raises:
        TypeError: naming the object and what is expected.
    """
    name = label or naming.describe(optimizer_class)
    if not inspect.isclass(optimizer_class):
        raise TypeError(
            f"{name} is not an optimizer class (got a {type(optimizer_class).__name__}). Pass "
            "a class such as torch.optim.SGD, not an instance or a function."
        )
    base = optimizer_class is torch.optim.Optimizer
    duck = all(callable(getattr(optimizer_class, m, None)) for m in ("step", "zero_grad"))
    if base or not duck:
        raise TypeError(
            f"{name} is not an optimizer: "
            + ("it is the abstract base class" if base else "it has no step() and zero_grad()")
            + ". Pass an optimizer class such as torch.optim.SGD or torch.optim.Adam."
        )


def optimizer_hyperparameters(optimizer_class) -> tuple[list[str], bool]:
    """Keyword names the optimizer's constructor takes (besides ``params``) and ``**kwargs``."""
    try:
        sig = inspect.signature(optimizer_class.__init__)
    except (TypeError, ValueError):
        return [], True
    names, var_kw = [], False
    for i, (name, param) in enumerate(sig.parameters.items()):
        if param.kind is param.VAR_KEYWORD:
            var_kw = True
        elif i >= 2 and param.kind is not param.VAR_POSITIONAL:  # skip self and params
            names.append(name)
    return names, var_kw


def check_hyperparameter_names(optimizer_class, names) -> None:
    """Raise ``ValueError`` naming the valid hyperparameters if one is unknown to the class."""
    valid, var_kw = optimizer_hyperparameters(optimizer_class)
    unknown = sorted(set(names) - set(valid))
    if unknown and not var_kw:
        raise ValueError(
            f"Unknown hyperparameter(s) {', '.join(unknown)} for "
            f"{getattr(optimizer_class, '__name__', optimizer_class)}. "
            f"Valid: {', '.join(valid)}."
        )


# --------------------------------------------------------------------------- helpers
def _hyperparams_dict(hyperparams) -> dict:
    if hyperparams is None:
        return {}
    if not isinstance(hyperparams, dict):
        raise TypeError(f"hyperparams must be a dict such as {{'lr': 0.1}}, got {hyperparams!r}.")
    return dict(hyperparams)


def _merge_command_line(runner, values, hyperparams, training_params, cli: dict) -> None:
    for key in list(values):
        if values[key] is None and cli.get(key) is not None:
            values[key] = cli[key]
    for name, spec in runner._hyperparameter_names.items():
        if name not in hyperparams and cli.get(name) is not None:
            value = cli[name]
            hyperparams[name] = tuple(value) if spec.get("type") in (tuple, list) else value
    taken = set(values) | set(runner._hyperparameter_names) | {"testproblem", "hyperparams"}
    for key, value in cli.items():
        if key not in taken and value is not None and key not in training_params:
            training_params[key] = value


def _default(runner, values: dict, spec, key: str):
    """The given value, else ``runner._use_default`` (config table, then registry spec)."""
    if values.get(key) is not None:
        return values[key]
    try:
        default = runner._use_default(values["testproblem"], key)
    except (KeyError, ValueError):  # a subclass's own ``_use_default`` may raise KeyError
        default = None
    if default is None:
        default = getattr(spec, key, None)
    if default is None:
        flag = options.BY_NAME[key].cli_flag
        raise ValueError(
            f"Test problem {values['testproblem']!r} has no default {key}; pass {key}=... "
            f"(CLI: {flag}), or add it to deepobs.config.DEFAULT_TEST_PROBLEMS_SETTINGS."
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


def _seed(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise ValueError(
            f"random_seed must be an integer in [0, {MAX_SEED}], got {value!r}. "
            "Use e.g. random_seed=42 (CLI: --random-seed 42)."
        )
    return value


def _epochs(value) -> int:
    if _int("num_epochs", value) < 0:
        raise ValueError(f"num_epochs must be >= 0, got {value!r}. Use e.g. num_epochs=10.")
    return value


def _l2_reg(value):
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and value >= 0)
    ):
        raise ValueError(
            f"l2_reg must be a finite number >= 0, got {value!r}. Use e.g. l2_reg=0.0005, or "
            "leave it out for the problem's default."
        )
    return value


def _check_declared_type(name: str, value, spec: dict) -> None:
    """A hyperparameter declared ``float`` takes a number (an int too), ``int`` an integer.

    A bool is not a number. Values are kept as given (``lr=1`` names the folder ``lr__1``, as
    ``deepobs run --hp lr=1`` does).
    """
    kind = spec.get("type")
    if value is None or kind not in (float, int):
        return
    wanted = numbers.Real if kind is float else numbers.Integral
    if isinstance(value, bool) or not isinstance(value, wanted):
        what = "a number (float)" if kind is float else "an integer (int)"
        example = "0.01" if kind is float else "1"
        raise TypeError(
            f"hyperparameter {name} must be {what}, got {_short(value)}. Pass e.g. "
            f"hyperparams={{'{name}': {example}}}, or declare another type in "
            "hyperparameter_names."
        )


def _check_hyperparameter_value(name: str, value) -> None:
    values = value if isinstance(value, list | tuple) else [value]
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(
                f"Hyperparameter {name}={value!r} is not a finite number. Pass a finite value "
                f"(e.g. {name}=0.01)."
            )
        if isinstance(v, str) and (
            "/" in v or "\\" in v or v in (".", "..") or Path(v).is_absolute()
        ):
            raise ValueError(
                f"Hyperparameter {name}={v!r} would be part of the results path; a string "
                "value must not contain '/' or '\\' or be '.' or '..'."
            )


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
        _check_declared_type(name, resolved[name], spec)
        _check_hyperparameter_value(name, resolved[name])
    check_hyperparameter_names(runner._optimizer_class, resolved)
    return resolved


def _training_params(runner, training_params: dict) -> dict:
    accepted, var_kw = runner.accepted_training_params()
    unknown = sorted(k for k in training_params if k not in accepted)
    if unknown and not var_kw:
        raise ValueError(
            f"Unknown training parameter(s) {unknown} for {type(runner).__name__}; "
            f"it accepts {sorted(accepted) or 'none'}."
        )
    if "data_order" in training_params and (
        training_params["data_order"] not in options.DATA_ORDERS
    ):
        raise ValueError(
            f"data_order must be one of {list(options.DATA_ORDERS)}, got "
            f"{training_params['data_order']!r}. Use data_order='fixed' (CLI: --data-order "
            "fixed) to replay one training order per run."
        )
    # A value equal to the default is the default run: same record, same folder name.
    defaults = {k: p.default for k, p in inspect.signature(runner.training).parameters.items()}
    return {
        k: v
        for k, v in training_params.items()
        if v is not None
        and not options.is_default(k, v)
        and not _is_default(v, defaults.get(k, inspect.Parameter.empty))
    }


def _is_default(value, default) -> bool:
    return (
        isinstance(default, bool | int | float | str)
        and type(value) is type(default)
        and (value == default)
    )


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
