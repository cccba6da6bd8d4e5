"""The one table of run, training and command-line options.

Each :class:`Option` says once what it is (name, type, default, help, flags), where it goes
and who takes it. Everything else is generated from :data:`OPTIONS`:

* the runner script's parser (DeepOBS script mode, :func:`add_script_flags`);
* ``deepobs run``'s flags (:func:`add_cli_flags`) and their mapping to ``run()`` keywords;
* the tuner's command lines (:func:`command_flags`);
* a checkpoint's identity (:func:`identity_names`) and the setting folder name
  (:func:`name_params`).

Kinds:

* ``"run"``: an argument of ``run()`` (batch size, seed, output folder, ...);
* ``"training"``: a training parameter, a keyword of ``training()`` recorded in
  ``training_params``; ``in_name`` ones change what is measured and go into the setting
  folder's name when they differ from their default;
* ``"run_option"``: how a run executes, not what it computes (checkpoints): in ``meta``;
* ``"cli"``: only ``deepobs run`` has it (the optimizer, its hyperparameters).

To add an option: add a row here and read it where it acts (the training loop, a callback).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Runner kinds an option can be restricted to.
STANDARD = "standard"
LR_SCHEDULE = "lr_schedule"
ALL_RUNNERS = frozenset({STANDARD, LR_SCHEDULE})

AMP_CHOICES = ("off", "bf16", "fp16")
DATA_ORDERS = ("reshuffle", "fixed")


@dataclass(frozen=True)
class Option:
    """One option (see the module docstring).

    Attributes:
        name: ``run()`` keyword and ``argparse`` destination.
        kind: ``"run"``, ``"training"``, ``"run_option"`` or ``"cli"``.
        type: Value type (``bool`` options are switches).
        default: The value used when the option is not given.
        help: One line for ``--help``.
        flags: Command-line spellings; the first ``--dash-form`` is ``deepobs run``'s, the
            first ``--snake_form`` the runner script's (DeepOBS spelling).
        nargs: ``"+"`` for list options.
        choices: Valid values, if restricted.
        in_name: Goes into the setting folder name when not the default.
        identity: A checkpoint must match it to be resumed.
        per_worker: May differ between parallel tuner workers of one study (not shared).
        runners: The runner kinds that take it.
        metavar: Shown in ``--help``.
        path: A file-system path (``str`` or ``os.PathLike``).
    """

    name: str
    kind: str
    type: type
    default: object
    help: str
    flags: tuple[str, ...]
    nargs: str | None = None
    choices: tuple | None = None
    in_name: bool = False
    identity: bool = False
    per_worker: bool = False
    runners: frozenset = field(default=ALL_RUNNERS)
    metavar: str | None = None
    path: bool = False

    @property
    def cli_flag(self) -> str:
        """The ``deepobs run`` spelling (``--batch-size``)."""
        dashed = [f for f in self.flags if f.startswith("--") and "_" not in f]
        return dashed[0] if dashed else self.flags[0]

    @property
    def script_flag(self) -> str:
        """The runner script spelling (``--batch_size``, DeepOBS)."""
        snake = [f for f in self.flags if f.startswith("--") and "-" not in f[2:]]
        return snake[0] if snake else self.cli_flag

    @property
    def is_switch(self) -> bool:
        """Whether the option is a flag without a value."""
        return self.type is bool


def _o(name, kind, type_, default, help_, *flags, **extra) -> Option:
    return Option(name, kind, type_, default, help_, tuple(flags), **extra)


OPTIONS: tuple[Option, ...] = (
    # ---- run() arguments
    _o(
        "batch_size",
        "run",
        int,
        None,
        "mini-batch size (default: the problem's)",
        "--batch-size",
        "--batch_size",
        "--bs",
        identity=True,
    ),
    _o(
        "num_epochs",
        "run",
        int,
        None,
        "training epochs (default: the problem's)",
        "--num-epochs",
        "--num_epochs",
        "-N",
        identity=True,
    ),
    _o(
        "random_seed",
        "run",
        int,
        42,
        "seed of Python, NumPy, torch and the data order",
        "--random-seed",
        "--random_seed",
        "-r",
        identity=True,
    ),
    _o(
        "l2_reg",
        "run",
        float,
        None,
        "L2 regularisation factor (default: the problem's)",
        "--l2-reg",
        "--weight_decay",
        "--l2_reg",
        "--weight-decay",
        "--wd",
        identity=True,
    ),
    _o(
        "data_dir",
        "run",
        str,
        None,
        "data directory (default: $DEEPOBS_DATA_DIR or ./data)",
        "--data-dir",
        "--data_dir",
        per_worker=True,
        path=True,
    ),
    _o(
        "output_dir",
        "run",
        str,
        "./results",
        "results folder",
        "--output-dir",
        "--output_dir",
        path=True,
    ),
    _o(
        "device",
        "run",
        str,
        None,
        "cpu, cuda, cuda:N or mps (default: the best available)",
        "--device",
        per_worker=True,
    ),
    _o(
        "train_log_interval",
        "run",
        int,
        10,
        "log the mini-batch loss every N steps",
        "--train-log-interval",
        "--train_log_interval",
        identity=True,
        per_worker=True,
    ),
    _o(
        "print_train_iter",
        "run",
        bool,
        False,
        "print the logged mini-batch losses",
        "--print-train-iter",
        "--print_train_iter",
        per_worker=True,
    ),
    _o(
        "no_logs",
        "run",
        bool,
        False,
        "do not write a results file",
        "--no-logs",
        "--no_logs",
        per_worker=True,
    ),
    _o(
        "tb_log",
        "run",
        bool,
        False,
        "write TensorBoard logs",
        "--tb-log",
        "--tb_log",
        per_worker=True,
    ),
    _o(
        "tb_log_dir",
        "run",
        str,
        None,
        "TensorBoard folder (default: the run's results folder)",
        "--tb-log-dir",
        "--tb_log_dir",
        per_worker=True,
        path=True,
    ),
    _o(
        "skip_if_exists",
        "run",
        bool,
        False,
        "do nothing if this seed's result already exists",
        "--skip-if-exists",
        "--skip_if_exists",
        per_worker=True,
    ),
    # ---- training parameters
    _o(
        "data_order",
        "training",
        str,
        "reshuffle",
        "training order: reshuffle (new permutation per epoch) or fixed (one per run, as the "
        "published TF baselines)",
        "--data-order",
        "--data_order",
        choices=DATA_ORDERS,
        in_name=True,
        identity=True,
    ),
    _o(
        "grad_accumulation",
        "training",
        int,
        1,
        "split each batch into K micro-batches (memory; same results)",
        "--grad-accumulation",
        "--grad_accumulation",
        metavar="K",
        identity=True,
    ),
    _o(
        "amp",
        "training",
        str,
        "off",
        "mixed precision (autocast) of the forward pass",
        "--amp",
        choices=AMP_CHOICES,
        in_name=True,
        identity=True,
    ),
    _o("compile", "training", bool, False, "torch.compile the model", "--compile", identity=True),
    _o(
        "channels_last",
        "training",
        bool,
        False,
        "channels-last memory layout for the model and image inputs",
        "--channels-last",
        "--channels_last",
        identity=True,
    ),
    _o(
        "eval_batch_size",
        "training",
        int,
        None,
        "most examples evaluated at once (default 4x batch; same examples)",
        "--eval-batch-size",
        "--eval_batch_size",
        metavar="N",
        identity=True,
    ),
    _o(
        "lr_sched_epochs",
        "training",
        int,
        None,
        "epochs where the learning rate changes",
        "--lr-sched-epochs",
        "--lr_sched_epochs",
        nargs="+",
        in_name=True,
        identity=True,
        runners=frozenset({LR_SCHEDULE}),
    ),
    _o(
        "lr_sched_factors",
        "training",
        float,
        None,
        "factors of the base learning rate",
        "--lr-sched-factors",
        "--lr_sched_factors",
        nargs="+",
        in_name=True,
        identity=True,
        runners=frozenset({LR_SCHEDULE}),
    ),
    # ---- run options
    _o(
        "checkpoint_every",
        "run_option",
        int,
        None,
        "save a checkpoint next to the results every N epochs",
        "--checkpoint-every",
        "--checkpoint_every",
        metavar="N",
        per_worker=True,
    ),
    _o(
        "resume",
        "run_option",
        bool,
        False,
        "continue from this run's checkpoint if there is one; a finished seed is done",
        "--resume",
        per_worker=True,
    ),
    # ---- deepobs run only
    _o(
        "optimizer",
        "cli",
        str,
        None,
        "optimizer class: dotted path (torch.optim.SGD), module:Class or file.py:Class",
        "--optimizer",
    ),
    _o(
        "hp",
        "cli",
        str,
        None,
        "optimizer hyperparameter, once per name (e.g. --hp lr=0.1)",
        "--hp",
        metavar="NAME=VALUE",
    ),
    _o(
        "optimizer_name",
        "cli",
        str,
        None,
        "name in the results tree (default: class name)",
        "--optimizer-name",
        "--optimizer_name",
    ),
)

BY_NAME = {o.name: o for o in OPTIONS}
#: ``run()`` arguments (besides ``testproblem`` and ``hyperparams``).
RUN_ARGUMENTS = tuple(o.name for o in OPTIONS if o.kind == "run")
TRAINING_PARAMS = tuple(o.name for o in OPTIONS if o.kind == "training")
RUN_OPTIONS = tuple(o.name for o in OPTIONS if o.kind == "run_option")


def runner_kind(runner) -> str:
    """``"lr_schedule"`` for a ``LearningRateScheduleRunner`` (or subclass), else standard."""
    names = {cls.__name__ for cls in type(runner).__mro__}
    return LR_SCHEDULE if "LearningRateScheduleRunner" in names else STANDARD


def options_for(runner, kinds: Iterable[str]) -> list[Option]:
    """Table rows of ``kinds`` that ``runner`` takes.

    A training parameter counts when the runner's ``training`` accepts it; a run option when
    the runner lists it in ``run_options``.
    """
    kinds = set(kinds)
    accepted, _ = runner.accepted_training_params()
    run_options = set(getattr(runner, "run_options", ()))
    found = []
    for option in OPTIONS:
        if option.kind not in kinds:
            continue
        if option.kind == "training" and option.name not in accepted:
            continue
        if option.kind == "run_option" and option.name not in run_options:
            continue
        found.append(option)
    return found


def _argparse_kwargs(option: Option, script: bool) -> dict:
    kwargs: dict = {"dest": option.name, "default": None, "help": option.help}
    if option.is_switch:
        kwargs["action"] = "store_true"
        return kwargs
    kwargs["type"] = option.type
    if option.nargs:
        kwargs["nargs"] = option.nargs
    if option.choices:
        kwargs["choices"] = list(option.choices)
    if option.metavar:
        kwargs["metavar"] = option.metavar
    if option.name == "hp":
        kwargs["action"] = "append"
        kwargs.pop("type")
    return kwargs


def add_flags(parser: argparse.ArgumentParser, options: Iterable[Option]) -> None:
    """Add every spelling of ``options`` to ``parser`` (all default to ``None``)."""
    for option in options:
        parser.add_argument(*option.flags, **_argparse_kwargs(option, script=True))


def add_script_flags(parser: argparse.ArgumentParser, runner) -> None:
    """The runner script's flags: ``run()`` arguments, and the runner's run options."""
    add_flags(parser, options_for(runner, ("run", "run_option")))


def training_flags(runner) -> list[Option]:
    """The training parameters ``runner`` takes (its script-mode training flags)."""
    return options_for(runner, ("training",))


def add_cli_flags(parser: argparse.ArgumentParser) -> None:
    """``deepobs run``'s flags: every option of every runner, dash spelling first."""
    add_flags(parser, OPTIONS)


def cli_values(namespace: argparse.Namespace, kinds: Iterable[str]) -> dict:
    """The options of ``kinds`` given on a command line (not ``None``)."""
    kinds = set(kinds)
    return {
        o.name: getattr(namespace, o.name)
        for o in OPTIONS
        if o.kind in kinds and getattr(namespace, o.name, None) is not None
    }


def command_flags(kwargs: dict, script: bool) -> list[str]:
    """Command-line words for ``run()`` keywords (tuner commands); switches when true.

    Raises:
        ValueError: for a keyword that is not an option.
    """
    words: list[str] = []
    for key, value in kwargs.items():
        if value is None:
            continue
        option = BY_NAME.get("l2_reg" if key == "weight_decay" else key)
        if option is None or option.kind == "cli":
            known = sorted(o.name for o in OPTIONS if o.kind != "cli")
            raise ValueError(
                f"Cannot write {key}={value!r} on a command line; known options: {known}."
            )
        flag = option.script_flag if script else option.cli_flag
        if option.is_switch:
            words += [flag] if value else []
        elif isinstance(value, list | tuple):
            words += [flag, *(str(v) for v in value)]
        else:
            words += [flag, str(value)]
    return words


def per_worker_names() -> frozenset[str]:
    """``run()`` keywords that may differ between the workers of one tuning study."""
    return frozenset(o.name for o in OPTIONS if o.per_worker)


def identity_names() -> tuple[str, ...]:
    """Options a checkpoint must match (besides problem, optimizer, setting and seed)."""
    return tuple(o.name for o in OPTIONS if o.identity)


def is_default(name: str, value: object) -> bool:
    """Whether ``value`` is the table default of option ``name`` (unknown names: False)."""
    option = BY_NAME.get(name)
    if option is None:
        return False
    default = option.default
    if isinstance(default, bool | int | float | str) and type(value) is type(default):
        return value == default
    return value is None and default is None


def name_params(training_params: dict) -> dict:
    """The training parameters that belong in the setting folder name.

    Table options: those marked ``in_name`` that differ from their default. Other (user)
    training parameters: as DeepOBS ``develop`` names them (values that are not plain are
    dropped by the naming itself).
    """
    out = {}
    for key, value in training_params.items():
        option = BY_NAME.get(key)
        if value is None:
            continue
        if option is None or (option.in_name and not is_default(key, value)):
            out[key] = value
    return out
