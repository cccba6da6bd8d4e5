"""``PTRunner``: the DeepOBS runner base class (set-up, evaluation, results).

Subclass it and override :meth:`PTRunner.training` to write your own training loop, as the
DeepOBS documentation describes; :class:`~deepobs.pytorch.runners.StandardRunner` is such a
subclass. ``run()`` resolves the arguments (Python > command line > problem defaults), seeds
Python, NumPy and torch, builds the problem, calls ``training()`` and writes one JSON file.

Extension points of DeepOBS ``develop`` (used by e.g. cockpit and backobs):

* ``self._run_directory`` and ``self._file_name`` are set before ``training()`` is called;
  the results go to ``<_run_directory>/<_file_name>.json`` (never overwriting a file);
* ``_post_process_output(output, testproblem, batch_size, num_epochs, random_seed, l2_reg,
  hyperparams, **training_params)`` turns ``training()``'s output into what is written and
  returned;
* ``_add_training_params_to_argparse(parser, args, training_params)`` reads training
  parameters from the command line in script mode (``args[name] = value`` adds one);
* ``_add_training_params_to_output_dir_name(training_params, run_folder_name)`` and
  ``_add_hyperparams_to_output_dir_name(hyperparams, run_folder_name)`` name the setting
  folder;
* ``_abort_routine(...)``, ``_use_default(testproblem, key)`` and ``run_exists(...)``.

A value JSON cannot hold (a function, a class, a ``functools.partial``, a set, a tensor) never
loses a run: it is written as a readable description (:func:`~deepobs.pytorch.results.write.
to_json_value`). Everything about one run is in ``self.training_run``
(:class:`~deepobs.pytorch.runners.training_run.TrainingRun`).
"""

from __future__ import annotations

import abc
import argparse
import contextlib
import copy
import inspect
import logging
import random
import signal
import sys
import threading
import time
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from deepobs.pytorch import config
from deepobs.pytorch.results import naming, write
from deepobs.pytorch.runners import _args, _checkpoint, _data_order, _distributed, options
from deepobs.pytorch.runners._resolve import (
    RunArguments,
    check_optimizer_class,
    resolve_arguments,
)
from deepobs.pytorch.runners.training_run import TrainingRun

logger = logging.getLogger(__name__)

_PHASES = {
    "train": "train_eval_init_op",
    "train_eval": "train_eval_init_op",
    "valid": "valid_init_op",
    "test": "test_init_op",
}


class PTRunner(abc.ABC):
    """Base class of the PyTorch runners.

    Args:
        optimizer_class: A ``torch.optim.Optimizer`` subclass (or any class with ``step`` and
            ``zero_grad`` taking ``(params, **hyperparams)``).
        hyperparameter_names: ``{name: {"type": t, "default": d}}``, the learning rate
            included; ``default`` is optional (required hyperparameter).
        optimizer_name: Name used in the results tree (default: the class name). Set it to
            tell e.g. plain SGD and Momentum apart.

    Raises:
        TypeError: if ``optimizer_class`` is not an optimizer class or
            ``hyperparameter_names`` is malformed.
    """

    #: Extra command-line flags for training parameters: ``[(flags, argparse kwargs)]``.
    training_param_flags: tuple = ()
    #: Run options this runner takes (see :mod:`deepobs.pytorch.runners.options`).
    run_options: tuple = ()

    def __init__(self, optimizer_class, hyperparameter_names, optimizer_name: str | None = None):
        check_optimizer_class(optimizer_class)
        self._optimizer_class = optimizer_class
        self._optimizer_name = optimizer_name or getattr(
            optimizer_class, "__name__", type(optimizer_class).__name__
        )
        self._hyperparameter_names = _normalise_hyperparameter_names(hyperparameter_names)
        self.last_results_path: Path | None = None
        #: Objects with training-loop hooks (see :mod:`deepobs.pytorch.runners._callbacks`).
        self.callbacks: list = []
        #: The current (or last) run (:class:`TrainingRun`).
        self.training_run: TrainingRun | None = None
        self._run_directory: str | None = None
        self._file_name: str | None = None

    # ------------------------------------------------------------------ run
    def run(
        self,
        testproblem=None,
        hyperparams=None,
        batch_size=None,
        num_epochs=None,
        random_seed=None,
        data_dir=None,
        output_dir=None,
        l2_reg=None,
        no_logs=None,
        train_log_interval=None,
        print_train_iter=None,
        tb_log=None,
        tb_log_dir=None,
        skip_if_exists=False,
        *,
        weight_decay=None,
        device=None,
        **training_params,
    ):
        """Train ``testproblem`` with this runner's optimizer and write the results.

        Arguments left ``None`` are read from the command line when ``testproblem`` or a
        hyperparameter is missing (the DeepOBS script mode), otherwise from the problem's
        defaults. Extra keyword arguments are training parameters passed to
        :meth:`training` and recorded in the result.

        Returns:
            The results dictionary (also written as JSON unless ``no_logs``), or ``None``
            when ``skip_if_exists`` found an existing result, or ``resume`` found this seed
            finished (``self.last_results_path`` is then that file).
        """
        args = self._resolve(
            testproblem,
            hyperparams,
            batch_size,
            num_epochs,
            random_seed,
            data_dir,
            output_dir,
            l2_reg,
            no_logs,
            train_log_interval,
            print_train_iter,
            tb_log,
            tb_log_dir,
            weight_decay,
            device,
            training_params,
            skip_if_exists,
        )
        folder = self._setting_folder(args)
        found = [] if args.no_logs else naming.existing_results(folder, args.random_seed)
        if args.skip_if_exists and found:
            logger.warning(
                "Skipping run: a result for random_seed=%s already exists at %s. "
                "Pass skip_if_exists=False (CLI: leave out --skip-if-exists) to run again.",
                args.random_seed,
                found[0],
            )
            self.last_results_path = found[0]
            return None
        if args.run_options.get("resume") and found:
            logger.warning(
                "Seed %s is finished: its result is %s. Nothing to resume.",
                args.random_seed,
                found[0],
            )
            self.last_results_path = found[0]
            return None
        return self._run_resolved(args, folder)

    def run_exists(
        self,
        testproblem=None,
        hyperparams=None,
        batch_size=None,
        num_epochs=None,
        random_seed=None,
        data_dir=None,
        output_dir=None,
        l2_reg=None,
        no_logs=None,
        train_log_interval=None,
        print_train_iter=None,
        tb_log=None,
        tb_log_dir=None,
        *,
        weight_decay=None,
        device=None,
        **training_params,
    ):
        """Whether a results file of this run (setting and seed) exists (DeepOBS ``develop``).

        Returns:
            ``(exists, paths)``: whether one exists, and the matching files.
        """
        args = self._resolve(
            testproblem,
            hyperparams,
            batch_size,
            num_epochs,
            random_seed,
            data_dir,
            output_dir,
            l2_reg,
            no_logs,
            train_log_interval,
            print_train_iter,
            tb_log,
            tb_log_dir,
            weight_decay,
            device,
            training_params,
        )
        matches = [
            str(p) for p in naming.existing_results(self._setting_folder(args), args.random_seed)
        ]
        return bool(matches), matches

    def _resolve(
        self,
        testproblem,
        hyperparams,
        batch_size,
        num_epochs,
        random_seed,
        data_dir,
        output_dir,
        l2_reg,
        no_logs,
        train_log_interval,
        print_train_iter,
        tb_log,
        tb_log_dir,
        weight_decay,
        device,
        training_params,
        skip_if_exists=False,
    ) -> RunArguments:
        given = dict(
            skip_if_exists=None if skip_if_exists is False else skip_if_exists,
            testproblem=testproblem,
            batch_size=batch_size,
            num_epochs=num_epochs,
            random_seed=random_seed,
            data_dir=data_dir,
            output_dir=output_dir,
            l2_reg=l2_reg,
            weight_decay=weight_decay,
            no_logs=no_logs,
            train_log_interval=train_log_interval,
            print_train_iter=print_train_iter,
            tb_log=tb_log,
            tb_log_dir=tb_log_dir,
            device=device,
        )
        cli = None
        if self._wants_command_line(given, hyperparams):
            cli = self._parse_command_line(
                strict=testproblem is None, training_params=training_params
            )
        return resolve_arguments(self, given, hyperparams, training_params, cli)

    def _setting_folder(self, args: RunArguments) -> Path:
        name = f"num_epochs__{args.num_epochs}__batch_size__{args.batch_size}"
        if args.l2_reg is not None:
            name += f"__l2_reg__{naming.float2str(args.l2_reg)}"
        name = self._add_hyperparams_to_output_dir_name(args.hyperparams, name)
        name = self._add_training_params_to_output_dir_name(args.training_params, name)
        return naming.run_folder(args.output_dir, args.testproblem, self._optimizer_name, name)

    def _add_hyperparams_to_output_dir_name(self, optimizer_hyperparams, run_folder_name):
        """Append ``__<hp>__<value>`` per hyperparameter, sorted by name (override to change).

        Returns:
            The new run folder name.
        """
        for name in sorted(optimizer_hyperparams):
            value = naming.hyperparameter_value(optimizer_hyperparams[name])
            run_folder_name += f"__{name}__{value}"
        return run_folder_name

    def _add_training_params_to_output_dir_name(self, training_params, run_folder_name):
        """Append the training parameters that change what is measured (override to change).

        Table options (:mod:`.options`) go in when ``in_name`` and not the default (an LR
        schedule, a non-default ``amp`` or ``data_order``); a user's own training
        parameters go in as DeepOBS ``develop`` names them, if plain and short.

        Returns:
            The new run folder name.
        """
        kept = options.name_params(training_params)
        for name in sorted(kept):
            text = naming.plain_value(kept[name])
            if text is not None:
                run_folder_name += f"__{name}__{text}"
        if len(run_folder_name.encode()) > naming.MAX_FOLDER_BYTES:
            raise ValueError(
                f"The setting folder name would be {len(run_folder_name.encode())} bytes "
                f"({run_folder_name[:60]}...); file systems allow 255. Use fewer or shorter "
                "hyperparameter values."
            )
        return run_folder_name

    def _run_resolved(self, args: RunArguments, folder: Path) -> dict:
        if not args.no_logs:
            write.check_writable(folder)  # fail now, not after training
            write.remove_stale_temp_files(
                folder,
                (
                    naming.file_stem_prefix(args.random_seed),
                    naming.checkpoint_path(folder, args.random_seed).name,
                    write.PROBE_NAME,
                ),
            )
        _seed_everything(args.random_seed)
        config.apply_determinism()
        start, t0 = datetime.now(), time.perf_counter()
        run = TrainingRun(
            args=args,
            folder=folder,
            start=start,
            runner=self,
            file_name=naming.result_file_stem(args.random_seed, start),
        )
        self.training_run = run
        self._run_directory, self._file_name = str(folder), run.file_name
        hyperparams_before = copy.deepcopy(args.hyperparams)
        training_params_before = _copy_params(args.training_params)
        with _distributed.join(args) as parallel, _interrupt_message(run):
            run.parallel = parallel
            tproblem = self.create_testproblem(args)
            _data_order.apply(
                tproblem, args.training_params.get("data_order", "reshuffle"), args.random_seed
            )
            run.tproblem = parallel.prepare(tproblem)
            output = self.training(
                run.tproblem,
                dict(args.hyperparams),
                args.num_epochs,
                args.print_train_iter,
                args.train_log_interval,
                args.tb_log,
                args.tb_log_dir,
                **args.training_params,
            )
        run.meta["wall_time_s"] = time.perf_counter() - t0
        result = self._post_process_output(
            output,
            args.testproblem,
            args.batch_size,
            args.num_epochs,
            args.random_seed,
            args.l2_reg,
            hyperparams_before,
            **training_params_before,
        )
        result = write.to_json_value(result)
        if not args.no_logs and parallel.is_main:
            self.last_results_path = write.write_result(
                result, Path(self._run_directory), args.random_seed, start, self._file_name
            )
            _checkpoint.remove_checkpoint(folder, args.random_seed)  # once the results exist
        return result

    def _post_process_output(
        self,
        output,
        testproblem,
        batch_size,
        num_epochs,
        random_seed,
        l2_reg,
        hyperparams,
        **training_params,
    ):
        """Turn ``training()``'s output into the results dictionary (written and returned).

        Override it (DeepOBS ``develop``) to change what is written; the default assembles the
        schema-1.2 keys, ``status`` and ``meta`` (:func:`deepobs.pytorch.results.write.
        assemble`).
        """
        run = self.training_run
        tproblem = run.tproblem
        spec = getattr(tproblem, "spec", None)
        output = dict(output)
        has_acc = (
            spec.has_accuracy
            if spec is not None
            else any(v is not None for k in write.ACCURACIES for v in output.get(k, []))
        )
        args = run.args
        meta = {
            "train_log_interval": args.train_log_interval,
            "data_dir": None if args.data_dir is None else str(args.data_dir),
            **(run.parallel.meta if run.parallel is not None else {}),
        }
        return write.assemble(
            output,
            testproblem=testproblem,
            batch_size=batch_size,
            num_epochs=num_epochs,
            random_seed=random_seed,
            l2_reg=l2_reg,
            effective_l2_reg=_effective_l2(tproblem, l2_reg),
            optimizer_name=self._optimizer_name,
            optimizer_class=self._optimizer_class,
            hyperparams=hyperparams,
            training_params=training_params,
            has_accuracy=has_acc,
            device=args.device,
            start=run.start,
            wall_time=run.meta.get("wall_time_s"),
            meta=meta,
        )

    def _wants_command_line(self, given: dict, hyperparams) -> bool:
        if given["testproblem"] is None or hyperparams is None:
            return True
        required = [n for n, s in self._hyperparameter_names.items() if "default" not in s]
        return any(n not in hyperparams for n in required)

    def _parse_command_line(self, strict: bool, training_params: dict | None = None) -> dict:
        """Parse ``sys.argv``; lenient (unknown flags ignored) when called with a problem.

        A script that leaves everything to the command line gets strict parsing (a typo is an
        error); a Python caller that names the problem may run inside another program (pytest,
        Jupyter) whose arguments are not ours.
        """
        parser = _args.build_run_parser(self, self._hyperparameter_names, self.training_param_flags)
        extra: dict = {}
        self._add_training_params_to_argparse(parser, extra, dict(training_params or {}))
        if strict:
            try:
                parsed = vars(parser.parse_args(sys.argv[1:]))
            except argparse.ArgumentError as err:
                parser.error(str(err))  # usage message and exit 2, as a script expects
        else:
            try:
                parsed = vars(parser.parse_known_args(sys.argv[1:])[0])
            except (argparse.ArgumentError, SystemExit):
                # Another program's arguments (e.g. pytest's ``-rs``) that look like ours.
                logger.debug("command line %s not understood; using defaults", sys.argv[1:])
                parsed = {}
        return {**extra, **{k: v for k, v in parsed.items() if v is not None}}

    def _add_training_params_to_argparse(self, parser, args, training_params):
        """Add this runner's training parameters to the script parser (DeepOBS ``develop``).

        Args:
            parser: The ``argparse.ArgumentParser`` of the script mode.
            args: A dict; ``args[name] = value`` sets a training parameter directly.
            training_params: The training parameters given in Python.
        """
        flags = [o for o in options.training_flags(self) if o.name not in training_params]
        options.add_flags(parser, flags)

    def create_testproblem(self, args: RunArguments):
        """Build and set up the test problem of a resolved run.

        The data dir and device are given to the problem; nothing process-global is changed.
        """
        kwargs = {} if args.l2_reg is None else {"l2_reg": args.l2_reg}
        params = _init_parameters(args.problem_class)
        for key, value in (("device", args.device), ("data_dir", args.data_dir)):
            if key in params and value is not None:
                kwargs[key] = value
        tproblem = args.problem_class(args.batch_size, **kwargs)
        if "device" not in params:  # a DeepOBS-style problem without the keyword
            tproblem._device = torch.device(args.device)
        if "data_dir" in params or args.data_dir is None:
            tproblem.set_up()
            return tproblem
        tproblem._data_dir = args.data_dir
        with _data_dir_during(args.data_dir):  # its data sets may read only the config
            tproblem.set_up()
        return tproblem

    @staticmethod
    def _use_default(testproblem, key):
        """The default ``key`` (``batch_size``, ``num_epochs``) of ``testproblem``.

        Read from :data:`deepobs.config.DEFAULT_TEST_PROBLEMS_SETTINGS` (where users add
        their own problems, as in DeepOBS ``develop``), else from the registry's spec.

        Raises:
            ValueError: naming the problem and the argument to pass, if it has no default.
        """
        import deepobs.config

        try:
            value = deepobs.config.get_testproblem_default_setting(testproblem).get(key)
        except (KeyError, ValueError):
            value = None
        if value is None:
            from deepobs.pytorch.testproblems import get_testproblem_class

            with contextlib.suppress(KeyError, ValueError):
                value = getattr(
                    getattr(get_testproblem_class(testproblem), "spec", None), key, None
                )
        if value is None:
            raise ValueError(_no_default_message(testproblem, key))
        return value

    @staticmethod
    def _abort_routine(
        epoch_count,
        num_epochs,
        train_losses,
        valid_losses,
        test_losses,
        train_accuracies,
        valid_accuracies,
        test_accuracies,
        minibatch_train_losses,
    ):
        """End of a run whose loss became NaN/inf (DeepOBS ``develop``).

        Warns and pads the curves to ``num_epochs + 1`` entries with ``None`` (written as
        ``null``): a diverged run is recorded as such, never as "no progress" (DeepOBS padded
        with the initial values). The mini-batch list is left as it is.
        """
        warnings.warn(
            f"Breaking from run after epoch {epoch_count}: the loss is NaN or inf. The "
            "remaining epochs are recorded as null.",
            RuntimeWarning,
            stacklevel=2,
        )
        for values in (
            train_losses,
            valid_losses,
            test_losses,
            train_accuracies,
            valid_accuracies,
            test_accuracies,
        ):
            values.extend([None] * (num_epochs + 1 - len(values)))

    # ------------------------------------------------------------------ training
    @abc.abstractmethod
    def training(
        self,
        tproblem,
        hyperparams,
        num_epochs,
        print_train_iter,
        train_log_interval,
        tb_log,
        tb_log_dir,
        **training_params,
    ):
        """Train ``tproblem`` and return a dict with the DeepOBS curves (subclasses)."""

    def evaluate(self, tproblem, phase: str) -> tuple[float, float | None]:
        """Mean loss and accuracy over one pass of ``phase`` (``TRAIN``, ``VALID``, ``TEST``).

        Losses and accuracies are summed on the device; one sync at the end.
        """
        key = phase.lower()
        if key not in _PHASES:
            raise ValueError(f"Unknown phase {phase!r}; valid phases are TRAIN, VALID, TEST.")
        getattr(tproblem, _PHASES[key])()
        loss_sum, acc_sum, n_batches = 0.0, None, 0
        with torch.inference_mode():
            while True:
                try:
                    loss, acc = tproblem.get_batch_loss_and_accuracy_func()()
                except StopIteration:
                    break
                loss_sum = loss_sum + loss.detach()
                if acc is not None:
                    acc_sum = acc if acc_sum is None else acc_sum + acc
                n_batches += 1
        if n_batches == 0:
            raise RuntimeError(f"The {key} phase of {type(tproblem).__name__} has no batches.")
        accuracy = None if acc_sum is None else float(acc_sum) / n_batches
        return float(loss_sum) / n_batches, accuracy

    def evaluate_all(
        self,
        epoch,
        num_epochs,
        tproblem,
        train_losses,
        valid_losses,
        test_losses,
        train_accuracies,
        valid_accuracies,
        test_accuracies,
    ) -> None:
        """Evaluate on train_eval, valid and test and append to the given lists."""
        parts = []
        for phase, losses, accs in (
            ("TRAIN", train_losses, train_accuracies),
            ("VALID", valid_losses, valid_accuracies),
            ("TEST", test_losses, test_accuracies),
        ):
            loss, acc = self.evaluate(tproblem, phase)
            losses.append(loss)
            accs.append(acc)
            parts.append(f"{phase.lower()} {loss:.5g}" + ("" if acc is None else f" ({acc:.4f})"))
        logger.info("epoch %d/%d: %s", epoch, num_epochs, ", ".join(parts))

    # ------------------------------------------------------------------ results
    def _write(self, result: dict, folder: Path, seed: int, start: datetime) -> Path:
        """Write ``result`` into ``folder`` atomically, never overwriting (returns the path)."""
        return write.write_result(result, folder, seed, start)

    def accepted_training_params(self) -> tuple[set[str], bool]:
        """Names of the training parameters :meth:`training` takes, and whether it takes any.

        A ``training`` with ``**kwargs`` that passes them on to its parent's (as
        ``LearningRateScheduleRunner`` does) accepts the parent's names too.
        """
        fixed = {
            "self",
            "tproblem",
            "hyperparams",
            "num_epochs",
            "print_train_iter",
            "train_log_interval",
            "tb_log",
            "tb_log_dir",
        }
        names: set[str] = set()
        for cls in type(self).__mro__:
            if "training" not in vars(cls):
                continue
            params = inspect.signature(vars(cls)["training"]).parameters.values()
            names |= {
                p.name
                for p in params
                if p.name not in fixed and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            }
            if not any(p.kind is p.VAR_KEYWORD for p in params):
                return names, False
        return names, True


def _no_default_message(testproblem, key: str) -> str:
    flag = options.BY_NAME[key].cli_flag if key in options.BY_NAME else f"--{key}"
    return (
        f"Test problem {testproblem!r} has no default {key}; pass {key}=... (CLI: {flag}), "
        f"or add it to deepobs.config.DEFAULT_TEST_PROBLEMS_SETTINGS."
    )


def _normalise_hyperparameter_names(names) -> dict[str, dict]:
    if isinstance(names, list) and all(isinstance(d, dict) and "name" in d for d in names):
        # DeepOBS 1.1: [{"name": ..., "type": ..., "default": ...}]
        names = {d["name"]: {k: v for k, v in d.items() if k != "name"} for d in names}
    if not isinstance(names, dict):
        raise TypeError(
            "hyperparameter_names must be a dict such as {'lr': {'type': float}}, "
            f"got {names!r}."
        )
    out = {}
    for key, spec in names.items():
        if spec is not None and not isinstance(spec, dict):
            raise TypeError(
                f"hyperparameter_names[{key!r}] must be a dict such as {{'type': float}} or "
                f"{{'type': float, 'default': 0.9}}, got {spec!r}."
            )
        out[str(key)] = dict(spec or {})
    return out


def _effective_l2(tproblem, given):
    value = getattr(tproblem, "l2_reg", None)
    if value is None or callable(value):  # a DeepOBS-style problem keeps only ``_l2_reg``
        value = getattr(tproblem, "_l2_reg", given)
    return value


def _init_parameters(cls) -> set[str]:
    try:
        return set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return set()


def _copy_params(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        try:
            out[key] = copy.deepcopy(value)
        except Exception:  # noqa: BLE001 - an object that cannot be copied is kept as it is
            out[key] = value
    return out


@contextlib.contextmanager
def _data_dir_during(data_dir: Path):
    """Set the configured data directory for a block, then restore the previous value."""
    previous = getattr(config, "_data_dir", None)
    config.set_data_dir(data_dir)
    try:
        yield
    finally:
        config.set_data_dir(previous)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too


@contextlib.contextmanager
def _interrupt_message(run: TrainingRun):
    """Treat SIGTERM like Ctrl-C, and say where the checkpoint is and how to resume."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        with contextlib.suppress(ValueError, OSError):
            previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    except KeyboardInterrupt:
        _log_interrupt(run)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _log_interrupt(run: TrainingRun) -> None:
    args = run.args
    if args is None or args.no_logs:
        logger.warning("Interrupted after epoch %d; no results were written.", run.epoch)
        return
    path = _checkpoint.checkpoint_path(run.folder, args.random_seed)
    if path.exists():
        logger.warning(
            "Interrupted after epoch %d. The checkpoint is %s: run the same command with "
            "--resume (Python: resume=True) to continue.",
            run.epoch,
            path,
        )
    else:
        logger.warning(
            "Interrupted after epoch %d; no checkpoint exists. Pass --checkpoint-every N "
            "(Python: checkpoint_every=N) to be able to resume a run.",
            run.epoch,
        )
