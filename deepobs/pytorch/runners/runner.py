"""``PTRunner``: the DeepOBS 1.2 runner base class (set-up, evaluation, results).

Subclass it and override :meth:`PTRunner.training` to write your own training loop, as the
DeepOBS documentation describes; :class:`~deepobs.pytorch.runners.StandardRunner` is such a
subclass. ``run()`` resolves the arguments (Python > command line > problem defaults), seeds
Python, NumPy and torch, builds the problem, calls ``training()`` and writes one JSON file.
"""

from __future__ import annotations

import abc
import argparse
import inspect
import logging
import math
import random
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from deepobs.pytorch import config
from deepobs.pytorch.runners import _args, _checkpoint, _distributed, _naming, _results
from deepobs.pytorch.runners._resolve import RunArguments, resolve_arguments

logger = logging.getLogger(__name__)

_CURVES = ("train_losses", "valid_losses", "test_losses", "minibatch_train_losses")
_ACCURACIES = ("train_accuracies", "valid_accuracies", "test_accuracies")
_PHASES = {"train": "train_eval_init_op", "train_eval": "train_eval_init_op",
           "valid": "valid_init_op", "test": "test_init_op"}


class PTRunner(abc.ABC):
    """Base class of the PyTorch runners.

    Args:
        optimizer_class: A ``torch.optim.Optimizer`` subclass (or any class taking
            ``(params, **hyperparams)``).
        hyperparameter_names: ``{name: {"type": t, "default": d}}``, the learning rate
            included; ``default`` is optional (required hyperparameter).
        optimizer_name: Name used in the results tree (default: the class name). Set it to
            tell e.g. plain SGD and Momentum apart.
    """

    #: Extra command-line flags for training parameters: ``[(flags, argparse kwargs)]``.
    training_param_flags: tuple = ()

    def __init__(self, optimizer_class, hyperparameter_names, optimizer_name: str | None = None):
        if not callable(optimizer_class):
            raise TypeError(
                f"optimizer_class must be an optimizer class such as torch.optim.SGD, "
                f"got {optimizer_class!r}."
            )
        self._optimizer_class = optimizer_class
        self._optimizer_name = optimizer_name or getattr(
            optimizer_class, "__name__", type(optimizer_class).__name__
        )
        self._hyperparameter_names = _normalise_hyperparameter_names(hyperparameter_names)
        self.last_results_path: Path | None = None
        #: Objects with training-loop hooks (see :mod:`deepobs.pytorch.runners._callbacks`).
        self.callbacks: list = []

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
            when ``skip_if_exists`` found an existing result.
        """
        given = dict(
            testproblem=testproblem, batch_size=batch_size, num_epochs=num_epochs,
            random_seed=random_seed, data_dir=data_dir, output_dir=output_dir, l2_reg=l2_reg,
            weight_decay=weight_decay, no_logs=no_logs, train_log_interval=train_log_interval,
            print_train_iter=print_train_iter, tb_log=tb_log, tb_log_dir=tb_log_dir,
            device=device,
        )
        cli = None
        if self._wants_command_line(given, hyperparams):
            cli = self._parse_command_line(strict=testproblem is None)
        args = resolve_arguments(self, given, hyperparams, training_params, cli)
        folder = _naming.run_folder(args.output_dir, args.testproblem, self._optimizer_name,
                                    args.setting_name)
        if skip_if_exists and _naming.existing_results(folder, args.random_seed):
            found = _naming.existing_results(folder, args.random_seed)[0]
            logger.warning(
                "Skipping run: a result for random_seed=%s already exists at %s. "
                "Pass skip_if_exists=False (CLI: leave out --skip-if-exists) to run again.",
                args.random_seed, found,
            )
            return None
        return self._run_resolved(args, folder)

    def _run_resolved(self, args: RunArguments, folder: Path) -> dict:
        _seed_everything(args.random_seed)
        config.apply_determinism()
        if args.data_dir is not None:
            config.set_data_dir(args.data_dir)
        start, t0 = datetime.now(), time.perf_counter()
        with _distributed.join(args) as parallel:  # under torchrun: this process is one rank
            self._run_context = (args, folder)  # for the loop's callbacks (checkpoints, TB)
            tproblem = parallel.prepare(self.create_testproblem(args))
            output = self.training(
                tproblem, dict(args.hyperparams), args.num_epochs, args.print_train_iter,
                args.train_log_interval, args.tb_log, args.tb_log_dir, **args.training_params,
            )
        result = self._assemble_result(args, tproblem, output, start, time.perf_counter() - t0)
        result["meta"].update(parallel.meta)
        if not args.no_logs and parallel.is_main:
            self.last_results_path = self._write(result, folder, args.random_seed, start)
            _checkpoint.remove_checkpoint(folder, args.random_seed)  # only once the results exist
        return result

    def _wants_command_line(self, given: dict, hyperparams) -> bool:
        if given["testproblem"] is None or hyperparams is None:
            return True
        required = [n for n, s in self._hyperparameter_names.items() if "default" not in s]
        return any(n not in hyperparams for n in required)

    def _parse_command_line(self, strict: bool) -> dict:
        """Parse ``sys.argv``; lenient (unknown flags ignored) when called with a problem.

        A script that leaves everything to the command line gets strict parsing (a typo is an
        error); a Python caller that names the problem may run inside another program (pytest,
        Jupyter) whose arguments are not ours.
        """
        parser = _args.build_run_parser(self._hyperparameter_names, self.training_param_flags)
        if strict:
            try:
                return vars(parser.parse_args(sys.argv[1:]))
            except argparse.ArgumentError as err:
                parser.error(str(err))  # usage message and exit 2, as a script expects
        try:
            return vars(parser.parse_known_args(sys.argv[1:])[0])
        except (argparse.ArgumentError, SystemExit):
            # Another program's arguments (e.g. pytest's ``-rs``) that look like ours.
            logger.debug("command line %s not understood; using defaults", sys.argv[1:])
            return {}

    def create_testproblem(self, args: RunArguments):
        """Build and set up the test problem of a resolved run."""
        kwargs = {} if args.l2_reg is None else {"l2_reg": args.l2_reg}
        tproblem = args.problem_class(args.batch_size, **kwargs)
        tproblem._device = torch.device(args.device)
        if hasattr(tproblem, "_data_dir") and args.data_dir is not None:
            tproblem._data_dir = args.data_dir
        tproblem.set_up()
        return tproblem

    # ------------------------------------------------------------------ training
    @abc.abstractmethod
    def training(self, tproblem, hyperparams, num_epochs, print_train_iter, train_log_interval,
                 tb_log, tb_log_dir, **training_params):
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
                    loss, acc = tproblem.get_batch_loss_and_accuracy()
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

    def evaluate_all(self, epoch, num_epochs, tproblem, train_losses, valid_losses, test_losses,
                     train_accuracies, valid_accuracies, test_accuracies) -> None:
        """Evaluate on train_eval, valid and test and append to the given lists."""
        parts = []
        for phase, losses, accs in (("TRAIN", train_losses, train_accuracies),
                                    ("VALID", valid_losses, valid_accuracies),
                                    ("TEST", test_losses, test_accuracies)):
            loss, acc = self.evaluate(tproblem, phase)
            losses.append(loss)
            accs.append(acc)
            parts.append(f"{phase.lower()} {loss:.5g}" + ("" if acc is None else f" ({acc:.4f})"))
        logger.info("epoch %d/%d: %s", epoch, num_epochs, ", ".join(parts))

    # ------------------------------------------------------------------ results
    def _assemble_result(self, args, tproblem, output, start, wall_time) -> dict:
        output = dict(output)
        status = output.pop("status", None) or _infer_status(output)
        diverged_at = output.pop("diverged_at_epoch", None)
        epoch_times = output.pop("epoch_wall_times_s", None)
        extra_meta = output.pop("meta", {})
        spec = getattr(tproblem, "spec", None)
        has_acc = spec.has_accuracy if spec is not None else _has_values(output, _ACCURACIES)
        result = {
            "schema_version": _results.SCHEMA_VERSION,
            "testproblem": args.testproblem,
            "batch_size": args.batch_size,
            "num_epochs": args.num_epochs,
            "random_seed": args.random_seed,
            "weight_decay": args.l2_reg,
            "l2_reg": args.l2_reg,
            "effective_l2_reg": getattr(tproblem, "_l2_reg", args.l2_reg),
            "optimizer_name": self._optimizer_name,
            "optimizer_hyperparams": dict(args.hyperparams),
            "training_params": dict(args.training_params),
        }
        for key in _CURVES + (_ACCURACIES if has_acc else ()):
            result[key] = output.pop(key, [])
        for key in _ACCURACIES:
            output.pop(key, None)
        result.update(output)  # anything else a custom runner returned
        result["status"] = status
        result["diverged_at_epoch"] = diverged_at
        result["meta"] = {
            **_results.environment_meta(torch.device(args.device)),
            "optimizer_class": self._optimizer_class,
            "start_time": start.isoformat(timespec="seconds"),
            "wall_time_s": wall_time,
            "epoch_wall_times_s": epoch_times,
            "train_log_interval": args.train_log_interval,
            "data_dir": None if args.data_dir is None else str(args.data_dir),
            **extra_meta,
        }
        return _results.to_json_value(result)

    def _write(self, result: dict, folder: Path, seed: int, start: datetime) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / _naming.result_file_name(seed, start)
        k = 1
        while path.exists():  # two runs of one seed within a second: never overwrite
            path = folder / _naming.result_file_name(seed, start).replace(".json", f"_{k}.json")
            k += 1
        _results.write_json_atomic(result, path)
        logger.info("results written to %s", path)
        return path

    def accepted_training_params(self) -> tuple[set[str], bool]:
        """Names of the training parameters :meth:`training` takes, and whether it takes any.

        A ``training`` with ``**kwargs`` that passes them on to its parent's (as
        ``LearningRateScheduleRunner`` does) accepts the parent's names too.
        """
        fixed = {"self", "tproblem", "hyperparams", "num_epochs", "print_train_iter",
                 "train_log_interval", "tb_log", "tb_log_dir"}
        names: set[str] = set()
        for cls in type(self).__mro__:
            if "training" not in vars(cls):
                continue
            params = inspect.signature(vars(cls)["training"]).parameters.values()
            names |= {p.name for p in params if p.name not in fixed
                      and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
            if not any(p.kind is p.VAR_KEYWORD for p in params):
                return names, False
        return names, True

def _normalise_hyperparameter_names(names) -> dict[str, dict]:
    if isinstance(names, list):  # DeepOBS 1.1: [{"name": ..., "type": ..., "default": ...}]
        names = {d["name"]: {k: v for k, v in d.items() if k != "name"} for d in names}
    if not isinstance(names, dict):
        raise TypeError(
            "hyperparameter_names must be a dict such as {'lr': {'type': float}}, "
            f"got {names!r}."
        )
    return {str(k): dict(v or {}) for k, v in names.items()}


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too


def _has_values(output: dict, keys) -> bool:
    return any(v is not None for k in keys for v in output.get(k, []))


def _infer_status(output: dict) -> str:
    for key in _CURVES[:3]:
        for v in output.get(key, []):
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                return "diverged"
    return "done"
