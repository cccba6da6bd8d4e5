"""Batched seeds: train K seeds of one setting in one process as one stacked model.

``BatchedSeedRunner(torch.optim.SGD, {"lr": {"type": float}}).run_seeds("mnist_mlp",
{"lr": 0.1}, seeds=range(42, 52))`` trains the ten seeds together and writes ten ordinary
results files, the same as ten runs of :class:`~deepobs.pytorch.runners.StandardRunner`
(same folder, same file names, same curves up to float rounding), so the analyzer pools them.

How it works: each seed's problem is built exactly as a separate run builds it (seeded
model initialisation, the seed's own data order and augmentation generators). The K models'
parameters are stacked (``torch.func.stack_module_state``) into one tensor per parameter with a
leading seed dimension, and the problem's loss is evaluated for all seeds at once with
``torch.func.vmap`` over ``torch.func.functional_call``. The sum of the K losses is
backpropagated (each seed's slice of a gradient is that seed's gradient) and one optimizer
steps all stacked tensors. This equals K separate runs only for optimizers whose update is
elementwise (each entry of a parameter is updated from the same entry of its gradient and
state): SGD (with or without momentum, Nesterov), Adam, AdamW, RMSprop, Adagrad. Other
classes declare it with a class attribute ``elementwise_update = True``.

Refused, with a message saying why: optimizers not known or declared to be elementwise
(L-BFGS, line searches, anything with global norms or matrix preconditioners), models with
batch norm (running statistics) or dropout (random numbers in the forward pass), problems with
state across batches (char-RNN) or random numbers in the loss (VAEs), and the training
parameters other than ``eval_batch_size`` (amp, compile, channels_last, gradient accumulation,
checkpoints, learning-rate schedules).

Each seed's result records ``meta["batched_seeds"]``: the seeds trained together; the wall
times (``epoch_wall_times_s``, ``meta["cost"]``) are those of the whole batched run.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Iterable
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from deepobs.pytorch import config
from deepobs.pytorch.results import naming, write
from deepobs.pytorch.runners import _data_order, _performance, _step
from deepobs.pytorch.runners._cost import CostMeter, synchronize
from deepobs.pytorch.runners._resolve import RunArguments, resolve_arguments
from deepobs.pytorch.runners.standard import DIVERGENCE_CHECK_INTERVAL, StandardRunner
from deepobs.pytorch.testproblems import problem_traits
from deepobs.pytorch.testproblems.testproblem import TestProblem

logger = logging.getLogger(__name__)

#: Optimizer classes whose update is elementwise (exact under stacking).
ELEMENTWISE_OPTIMIZERS = (
    torch.optim.SGD,
    torch.optim.Adam,
    torch.optim.AdamW,
    torch.optim.RMSprop,
    torch.optim.Adagrad,
)
#: Training parameters the batched runner supports.
SUPPORTED_TRAINING_PARAMS = ("eval_batch_size", "data_order")
_STATEFUL_LAYERS = (nn.modules.batchnorm._NormBase,)  # batch norm, instance norm
_RANDOM_LAYERS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
_EVAL_PHASES = (("TRAIN", "train_eval"), ("VALID", "valid"), ("TEST", "test"))


def is_elementwise(optimizer_class) -> bool:
    """Whether ``optimizer_class`` updates each parameter entry from that entry alone.

    True for the classes of :data:`ELEMENTWISE_OPTIMIZERS` themselves (not their subclasses,
    which may change the update) and for classes with ``elementwise_update = True``.
    """
    declared = getattr(optimizer_class, "elementwise_update", None)
    if declared is not None:
        return bool(declared)
    return optimizer_class in ELEMENTWISE_OPTIMIZERS


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"42-51"``, ``"1,2,5"`` or a mix (``"1-3,7"``); each seed once, in order.

    Raises:
        ValueError: for anything else (the message shows the valid forms).
    """
    seeds: list[int] = []
    try:
        for part in str(text).split(","):
            lo, sep, hi = part.strip().partition("-")
            values = range(int(lo), int(hi) + 1) if sep else [int(lo)]
            seeds += [s for s in values if s not in seeds]
    except ValueError:
        seeds = []
    if not seeds:
        raise ValueError(f"seeds must look like '42-51', '1,2,5' or '1-3,7', got {text!r}.")
    return seeds


def check_supported(optimizer_class, tproblem: TestProblem) -> None:
    """Raise ``ValueError`` if stacking would not equal separate runs for this combination."""
    name = getattr(optimizer_class, "__name__", repr(optimizer_class))
    if not is_elementwise(optimizer_class):
        known = ", ".join(c.__name__ for c in ELEMENTWISE_OPTIMIZERS)
        raise ValueError(
            f"Batched seeds need an optimizer with an elementwise update ({known}); "
            f"{name} is not known to be one. If its update is elementwise, set "
            f"`elementwise_update = True` on the class; otherwise run the seeds separately "
            "(leave out --batched)."
        )
    problem = type(tproblem).__name__
    for module in tproblem.model.modules():
        if isinstance(module, _STATEFUL_LAYERS + _RANDOM_LAYERS):
            what = "dropout" if isinstance(module, _RANDOM_LAYERS) else "batch norm"
            raise ValueError(
                f"Batched seeds do not support {problem}: its model has {what} "
                f"({type(module).__name__}), which the stacked model cannot reproduce exactly. "
                "Run the seeds separately (leave out --batched)."
            )
    traits = problem_traits(tproblem)
    reason = None
    if traits.stateful:
        reason = "it carries state from batch to batch"
    elif not traits.batch_independent_eval:
        reason = "its loss draws random numbers or depends on the rest of the batch"
    elif type(tproblem)._compute_loss_and_accuracy is not TestProblem._compute_loss_and_accuracy:
        reason = "it overrides _compute_loss_and_accuracy"
    if reason:
        raise ValueError(
            f"Batched seeds do not support {problem}: {reason}. Run the seeds separately "
            "(leave out --batched)."
        )


class _FunctionalModel(nn.Module):
    """Stands in for a problem's model: calls the real module with the current stacked slice."""

    def __init__(self, base: nn.Module) -> None:
        super().__init__()
        object.__setattr__(self, "base", base)  # not a submodule: its parameters are unused
        self.state: tuple[dict, dict] | None = None

    def forward(self, *args, **kwargs):
        return functional_call(self.base, self.state, args, kwargs)

    def train(self, mode: bool = True) -> _FunctionalModel:
        self.base.train(mode)
        return super().train(mode)


class BatchedSeedRunner(StandardRunner):
    """Train several seeds of one setting as one stacked model (see the module docstring).

    Arguments as for :class:`~deepobs.pytorch.runners.StandardRunner`; ``run()`` stays a single
    standard run, :meth:`run_seeds` trains several seeds at once.
    """

    def run_seeds(
        self,
        testproblem: str,
        hyperparams: dict,
        seeds: Iterable[int] | str,
        batch_size: int | None = None,
        num_epochs: int | None = None,
        data_dir=None,
        output_dir=None,
        l2_reg: float | None = None,
        no_logs: bool | None = None,
        train_log_interval: int | None = None,
        skip_if_exists: bool = False,
        *,
        device=None,
        print_train_iter: bool | None = None,
        tb_log: bool | None = None,
        tb_log_dir=None,
        **training_params,
    ) -> list[dict]:
        """Train ``seeds`` together; return one results dict per seed trained.

        Seeds whose result exists are left out when ``skip_if_exists`` (and logged).

        Raises:
            ValueError: for an unsupported optimizer, problem or training parameter, or no
                seeds (see :func:`check_supported`).
        """
        if tb_log or tb_log_dir or print_train_iter:
            raise ValueError(
                "Batched seeds write no TensorBoard logs and print no per-step losses; leave "
                "out tb_log/tb_log_dir/print_train_iter (CLI: --tb-log, --print-train-iter)."
            )
        seeds = parse_seeds(seeds) if isinstance(seeds, str) else list(seeds)
        if not seeds or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct integers, at least one; got {seeds!r}.")
        unsupported = sorted(k for k in training_params if k not in SUPPORTED_TRAINING_PARAMS)
        if unsupported:
            raise ValueError(
                f"Batched seeds do not support the training parameter(s) {unsupported}; "
                f"supported: {list(SUPPORTED_TRAINING_PARAMS)}. Run the seeds separately."
            )
        given = dict(
            testproblem=testproblem,
            batch_size=batch_size,
            num_epochs=num_epochs,
            random_seed=seeds[0],
            data_dir=data_dir,
            output_dir=output_dir,
            l2_reg=l2_reg,
            weight_decay=None,
            no_logs=no_logs,
            train_log_interval=train_log_interval,
            print_train_iter=False,
            tb_log=False,
            tb_log_dir=None,
            device=device,
        )
        base = resolve_arguments(self, given, hyperparams, training_params, None)
        runs = [replace(base, random_seed=int(s)) for s in seeds]
        folder = self._setting_folder(base)  # the folder a StandardRunner run would use
        if skip_if_exists:
            kept = [a for a in runs if not naming.existing_results(folder, a.random_seed)]
            for a in runs:
                if a not in kept:
                    logger.warning(
                        "Skipping seed %s: a result exists in %s.", a.random_seed, folder
                    )
            runs = kept
        if not runs:
            return []
        return self._run_batched(runs, folder)

    # ------------------------------------------------------------------ the batched run
    def _run_batched(self, runs: list[RunArguments], folder: Path) -> list[dict]:
        if not runs[0].no_logs:
            write.check_writable(folder)  # fail now, not after training
        start, t0 = datetime.now(), time.perf_counter()
        problems = []
        for args in runs:  # as a separate run builds it: seed, then the problem
            _seed_everything(args.random_seed)
            config.apply_determinism()
            problem = self.create_testproblem(args)
            _data_order.apply(
                problem, args.training_params.get("data_order", "reshuffle"), args.random_seed
            )
            check_supported(self._optimizer_class, problem)
            problems.append(problem)
        _share_equal_tensors(problems)
        output = _BatchedTraining(self, runs, problems).train()
        wall = time.perf_counter() - t0
        results, paths = [], []
        for args, problem, out in zip(runs, problems, output, strict=True):
            result = self._assemble(args, problem, out, start, wall)
            results.append(result)
            if not args.no_logs:
                paths.append(write.write_result(result, folder, args.random_seed, start))
        self.last_results_paths = paths
        self.last_results_path = paths[-1] if paths else None
        return results

    def _assemble(self, args: RunArguments, problem, output: dict, start, wall: float) -> dict:
        """One seed's results dictionary, as the standard runner assembles it."""
        spec = problem.spec
        return write.assemble(
            output,
            testproblem=args.testproblem,
            batch_size=args.batch_size,
            num_epochs=args.num_epochs,
            random_seed=args.random_seed,
            l2_reg=args.l2_reg,
            effective_l2_reg=getattr(problem, "_l2_reg", args.l2_reg),
            optimizer_name=self._optimizer_name,
            optimizer_class=self._optimizer_class,
            hyperparams=args.hyperparams,
            training_params=args.training_params,
            has_accuracy=spec.has_accuracy if spec is not None else True,
            device=args.device,
            start=start,
            wall_time=wall,
            meta={
                "train_log_interval": args.train_log_interval,
                "data_dir": None if args.data_dir is None else str(args.data_dir),
                "world_size": 1,
                "distributed_backend": None,
            },
        )


class _BatchedTraining:
    """The DeepOBS protocol (N+1 evaluations, N epochs) for a stack of seeds."""

    def __init__(self, runner: BatchedSeedRunner, runs: list[RunArguments], problems: list) -> None:
        args = runs[0]
        self.args, self.problems, self.k = args, problems, len(problems)
        self.seeds = [a.random_seed for a in runs]
        self.template = problems[0]
        self.device = torch.device(self.template.device)
        models = [p.model for p in problems]
        params, buffers = stack_module_state(models)
        trainable = {n for n, p in models[0].named_parameters() if p.requires_grad}
        self.params = {n: p.detach().requires_grad_(n in trainable) for n, p in params.items()}
        self.buffers = buffers
        self.model = _FunctionalModel(models[0])
        self.template.model = self.model  # the template's loss now calls the stacked model
        names = {id(p): n for n, p in models[0].named_parameters()}
        self.reg_groups = [
            (factor, [names[id(p)] for p in group])
            for factor, group in problems[0].regularization_groups.items()
            if factor and group
        ]
        self.optimizer = runner._optimizer_class(
            [p for n, p in self.params.items() if n in trainable], **args.hyperparams
        )
        options = _performance.PerformanceOptions(
            eval_batch_size=args.training_params.get("eval_batch_size")
        )
        cap = options.eval_batch_size or _performance.EVAL_BATCH_FACTOR * self.template.batch_size
        self.eval_chunks = _performance.chunk_eval_loaders(self.template, cap)
        self.options = options
        self.cost = CostMeter(self.device)
        self._train_fn = vmap(self._per_seed, in_dims=(0, 0, 0), randomness="error")
        self._eval_fn = vmap(self._per_seed, in_dims=(0, 0, None), randomness="error")

    # ------------------------------------------------------------------ per-seed loss
    def _per_seed(self, params, buffers, batch):
        self.model.state = {**params, **buffers}
        loss, acc = self.template._loss_and_accuracy(batch, "mean")
        total = torch.zeros((), device=self.device)
        for factor, names in self.reg_groups:  # the problem's L2 term, in its order
            squares = torch.stack([params[n].square().sum() for n in names])
            total = total + 0.5 * factor * squares.sum()
        if self.reg_groups:
            loss = loss + total
        if acc is None:
            acc = torch.full((), float("nan"), device=loss.device)
        return loss, acc

    def _call(self, fn, batch):
        try:
            return fn(self.params, self.buffers, batch)
        except RuntimeError as err:
            if "randomness" not in str(err):
                raise
            raise ValueError(
                f"Batched seeds do not support {type(self.template).__name__}: its loss draws "
                "random numbers (dropout, sampling), which differ from separate runs. Run the "
                "seeds separately (leave out --batched)."
            ) from err

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, phase: str) -> tuple[list[float], list[float | None]]:
        """Per-seed mean loss and accuracy over one pass of ``phase``."""
        getattr(
            self.template,
            {"TRAIN": "train_eval_init_op", "VALID": "valid_init_op", "TEST": "test_init_op"}[
                phase
            ],
        )()
        loss_sum = acc_sum = 0.0
        n = 0
        with torch.no_grad():
            while True:
                try:
                    batch = self.template.next_batch()
                except StopIteration:
                    break
                loss, acc = self._call(self._eval_fn, batch)
                loss_sum, acc_sum, n = loss_sum + loss, acc_sum + acc, n + 1
        if n == 0:
            raise RuntimeError(f"The {phase.lower()} phase has no batches.")
        # One sync per phase; mean of the batch means, divided in Python as the runner does.
        losses = [v / n for v in loss_sum.tolist()]
        accs = [v / n for v in acc_sum.tolist()]
        return losses, [None if math.isnan(a) else a for a in accs]

    # ------------------------------------------------------------------ training
    def _train_epoch(self) -> list[list[float]]:
        """One epoch for all seeds; returns each step's per-seed losses (host lists)."""
        for p in self.problems:
            p.train_init_op()
        self.model.train()
        steps, poisoned = [], torch.zeros(self.k, device=self.device)
        while True:
            try:
                batches = [p.next_batch() for p in self.problems]  # each seed's own order
            except StopIteration:
                break
            batch = [torch.stack(parts) for parts in zip(*batches, strict=True)]
            loss = self.cost.step(self._step, self._forward_backward(batch))
            poisoned.add_(loss, alpha=0.0)
            steps.append(loss)
            if len(steps) % DIVERGENCE_CHECK_INTERVAL == 0 and bool(
                poisoned.isnan().cpu()[self.alive].all()
            ):
                break  # every seed still training has diverged
        return torch.stack(steps).tolist() if steps else []

    def _forward_backward(self, batch):
        def forward_backward():
            losses, _ = self._call(self._train_fn, batch)
            losses.sum().backward()  # each seed's slice of a gradient: that seed's gradient
            return losses.detach()

        return forward_backward

    def _step(self, forward_backward) -> torch.Tensor:
        """One optimizer step of all seeds (with a closure where ``step`` takes one)."""
        first = []

        def closure():
            self.optimizer.zero_grad()
            losses = forward_backward()
            if not first:
                first.append(losses)
            return losses.sum()

        if _step.step_takes_closure(self.optimizer):
            self.optimizer.step(closure)
        else:
            closure()
            self.optimizer.step()
        return first[0]

    def train(self) -> list[dict]:
        """Run the protocol; return one ``training()``-style output dict per seed."""
        n_epochs, interval = self.args.num_epochs, self.args.train_log_interval
        k = self.k
        curves = [
            {
                key: []
                for key in (
                    "train_losses",
                    "valid_losses",
                    "test_losses",
                    "train_accuracies",
                    "valid_accuracies",
                    "test_accuracies",
                )
            }
            for _ in range(k)
        ]
        minibatch = [[] for _ in range(k)]
        status, diverged_at = ["done"] * k, [None] * k
        self.alive = torch.ones(k, dtype=torch.bool)
        epoch_times: list[float] = []
        seed_epochs = [[] for _ in range(k)]
        self.cost.start_loop()
        for epoch in range(n_epochs + 1):
            evals = {phase: self.evaluate(phase) for phase, _ in _EVAL_PHASES}
            for s in range(k):
                if not self.alive[s]:
                    continue
                for phase, split in _EVAL_PHASES:
                    key = "train" if split == "train_eval" else split
                    curves[s][f"{key}_losses"].append(evals[phase][0][s])
                    curves[s][f"{key}_accuracies"].append(evals[phase][1][s])
                if not all(
                    math.isfinite(curves[s][f"{x}_losses"][-1]) for x in ("train", "valid", "test")
                ):
                    status[s], diverged_at[s], self.alive[s] = "diverged", epoch, False
            logger.info(
                "epoch %d/%d: %d of %d seeds training", epoch, n_epochs, int(self.alive.sum()), k
            )
            if epoch == n_epochs or not bool(self.alive.any()):
                break
            t = time.perf_counter()
            losses = self._train_epoch()
            synchronize(self.device)
            epoch_times.append(time.perf_counter() - t)
            for s in range(k):
                if not self.alive[s]:
                    continue
                seed_losses = [row[s] for row in losses]
                ran = _steps_of_separate_run(seed_losses, len(losses))
                minibatch[s].extend(seed_losses[i] for i in range(0, ran, interval))
                seed_epochs[s].append(epoch_times[-1])
                if not all(map(math.isfinite, seed_losses[:ran])):
                    status[s], diverged_at[s], self.alive[s] = "diverged", epoch + 1, False
                    logger.warning(
                        "seed %d: non-finite training loss in epoch %d: diverged",
                        self.seeds[s],
                        epoch + 1,
                    )
        meta = self._meta(epoch_times)
        outputs = []
        for s in range(k):
            for values in curves[s].values():
                values.extend([None] * (n_epochs + 1 - len(values)))
            outputs.append(
                {
                    **curves[s],
                    "minibatch_train_losses": minibatch[s],
                    "status": status[s],
                    "diverged_at_epoch": diverged_at[s],
                    "epoch_wall_times_s": seed_epochs[s],
                    "meta": meta,
                }
            )
        return outputs

    def _meta(self, epoch_times: list[float]) -> dict:
        return {
            "performance_options": {**asdict(self.options), "eval_chunk_sizes": self.eval_chunks},
            "cost": self.cost.figures(epoch_times, self.optimizer),
            "batched_seeds": {
                "seeds": list(self.seeds),
                "note": "trained together as one stacked model; wall times and cost figures "
                "are those of the whole batched run",
            },
        }


def _steps_of_separate_run(losses: list[float], n_steps: int) -> int:
    """How many steps of this epoch a separate run takes (it stops at a check after a NaN)."""
    for i, value in enumerate(losses):
        if not math.isfinite(value):
            checks = -(-(i + 1) // DIVERGENCE_CHECK_INTERVAL) * DIVERGENCE_CHECK_INTERVAL
            return min(checks, n_steps)
    return n_steps


def _share_equal_tensors(problems: list) -> None:
    """Let the seeds' loaders share one copy of equal data tensors (memory)."""
    first = _performance.data_loaders(problems[0].data)
    for problem in problems[1:]:
        for split, loader in _performance.data_loaders(problem.data).items():
            ref = first[split]
            tensors, ref_tensors = getattr(loader, "tensors", None), getattr(ref, "tensors", None)
            if tensors is None or ref_tensors is None or len(tensors) != len(ref_tensors):
                continue
            if all(
                a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
                for a, b in zip(tensors, ref_tensors, strict=True)
            ):
                loader.tensors = list(ref_tensors)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_batched_seeds(runner_kwargs: dict, run_kwargs: dict, seeds) -> list[dict]:
    """Entry point for the command line: build a :class:`BatchedSeedRunner` and run ``seeds``.

    Args:
        runner_kwargs: ``optimizer_class``, ``hyperparameter_names``, ``optimizer_name``.
        run_kwargs: Arguments of :meth:`BatchedSeedRunner.run_seeds` but ``seeds``.
        seeds: ``"42-51"``-style text or a list of integers.
    """
    return BatchedSeedRunner(**runner_kwargs).run_seeds(seeds=seeds, **run_kwargs)
