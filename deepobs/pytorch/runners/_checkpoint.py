"""Checkpoint and resume for the standard training loop (``--checkpoint-every N``, ``--resume``).

After every ``N``-th training epoch the run saves, atomically (temporary file, then
``os.replace``), to ``<run folder>/checkpoint__random_seed__<S>.pt``:

* the model and optimizer states, the fp16 gradient scaler and the runner's schedule state
  (the LR-schedule runner's base rates; the schedule position is the epoch);
* every random state: Python, NumPy, torch (CPU and, on CUDA runs, every GPU) and each data
  loader's generators (``generator``, ``transform_generator``);
* the partial curves, mini-batch losses and epoch times.

``resume`` continues from that file if it exists (else the run starts from scratch, so one
command line serves the first start and every restart). A resumed run's curves equal an
uninterrupted run's bit for bit on CPU. The checkpoint is **removed** once the results file is
written. ``checkpoint_every`` and ``resume`` are *run options*: they change how a run executes,
not its results, so they are recorded under ``meta`` and left out of the setting folder name.

Checkpoints are read with ``torch.load(weights_only=True)``: no pickled code runs on resume.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import tempfile
from pathlib import Path

import numpy as np
import torch

from deepobs.pytorch.runners._distributed import unwrap

logger = logging.getLogger(__name__)

CHECKPOINT_VERSION = 1
#: Training parameters that are run options (see the module docstring), with their defaults.
RUN_OPTIONS = {"checkpoint_every": None, "resume": False}
#: Runner attributes a resumed run needs (the LR-schedule runner's base learning rates).
RUNNER_STATE = ("_base_lrs",)
_GENERATORS = ("generator", "transform_generator")


def checkpoint_path(folder: Path, random_seed: int) -> Path:
    """``<run folder>/checkpoint__random_seed__<S>.pt``."""
    return Path(folder) / f"checkpoint__random_seed__{random_seed}.pt"


def remove_checkpoint(folder: Path, random_seed: int) -> None:
    """Delete the checkpoint of a finished run, if there is one."""
    checkpoint_path(folder, random_seed).unlink(missing_ok=True)


def split_run_options(runner, training_params: dict, no_logs: bool) -> dict:
    """Pop the run options from ``training_params`` (in place), validate and return them.

    Only runners that list an option in their ``run_options`` attribute take it; for other
    runners it stays a training parameter (and is refused as unknown).

    Raises:
        ValueError: for a bad ``checkpoint_every``/``resume``, or either with ``no_logs``.
    """
    names = [n for n in getattr(runner, "run_options", ()) if n in training_params]
    options = {n: training_params.pop(n) for n in names}
    every = options.get("checkpoint_every")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise ValueError(
            f"checkpoint_every must be a positive number of epochs, got {every!r}. "
            "Use e.g. checkpoint_every=10 (CLI: --checkpoint-every 10)."
        )
    if not isinstance(options.get("resume", False), bool):
        raise ValueError(f"resume must be True or False, got {options['resume']!r}.")
    if no_logs and (every or options.get("resume")):
        raise ValueError(
            "checkpoint_every/resume keep the checkpoint next to the results file, but "
            "no_logs=True writes no results. Drop no_logs (CLI: --no-logs) to checkpoint."
        )
    return {k: v for k, v in options.items() if v not in (None, False)}


def run_identity(args, optimizer_name: str) -> dict:
    """What a checkpoint must match to be resumed by the run ``args``."""
    return {
        "testproblem": args.testproblem,
        "optimizer_name": optimizer_name,
        "setting": args.setting_name,
        "random_seed": args.random_seed,
    }


class Checkpointer:
    """Training-loop callback that saves and restores checkpoints.

    Args:
        path: The checkpoint file.
        identity: :func:`run_identity` of this run; a checkpoint of another run is refused.
        every: Save after every ``every``-th training epoch (``None``: never save).
        resume: Restore ``path`` at the start if it exists.
        is_main: Whether this process writes (rank 0 of a data-parallel run).
    """

    def __init__(
        self, path: Path, identity: dict, every: int | None, resume: bool, is_main: bool = True
    ) -> None:
        self.path, self.identity, self.every = Path(path), identity, every
        self.resume, self.is_main = resume, is_main
        self._checked = False

    def on_run_start(self, run) -> None:
        """Restore the checkpoint when resuming."""
        run.meta.update({"checkpoint_every": self.every, "resume": self.resume})
        if not self.resume:
            return
        if not self.path.exists():
            logger.info("resume: no checkpoint at %s, starting from epoch 0", self.path)
            return
        state = self._load()
        self._check_identity(state)
        restore(run, state)
        run.meta["resumed_from_epoch"] = state["epoch"]
        logger.info("resumed from %s after epoch %d", self.path, state["epoch"])

    def on_epoch_end(self, run) -> None:
        """Save after every ``every``-th epoch (not after the last: the results follow)."""
        if (
            self.every
            and self.is_main
            and run.epoch % self.every == 0
            and run.epoch < run.num_epochs
        ):
            save_atomic({"identity": self.identity, **capture(run)}, self.path)
            logger.debug("checkpoint after epoch %d written to %s", run.epoch, self.path)
            if not self._checked:  # fail now, not when resuming days later
                self._load()
                self._checked = True

    def _load(self) -> dict:
        try:
            return torch.load(self.path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            raise ValueError(
                f"Checkpoint {self.path} holds objects that a safe load (weights_only=True) "
                f"refuses, probably in the optimizer's state ({err}). Keep only tensors and "
                "plain Python values in the state, or run without checkpoint_every."
            ) from err

    def _check_identity(self, state: dict) -> None:
        if state.get("version") != CHECKPOINT_VERSION:
            raise ValueError(
                f"Checkpoint {self.path} has version {state.get('version')!r}; this deepobs "
                f"reads version {CHECKPOINT_VERSION}. Delete it, or run without --resume."
            )
        theirs = state.get("identity", {})
        wrong = {k: (theirs.get(k), v) for k, v in self.identity.items() if theirs.get(k) != v}
        if wrong:
            details = "; ".join(
                f"{k}: checkpoint {a!r}, this run {b!r}" for k, (a, b) in wrong.items()
            )
            raise ValueError(
                f"Checkpoint {self.path} belongs to another run ({details}). Resume it with "
                "the matching settings, or delete it to start this run from scratch."
            )


def capture(run) -> dict:
    """Everything needed to continue ``run`` after its current epoch."""
    return {
        "version": CHECKPOINT_VERSION,
        "epoch": run.epoch,
        "model": unwrap(run.tproblem.model).state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "runner": {
            k: getattr(run.runner, k)
            for k in RUNNER_STATE
            if getattr(run.runner, k, None) is not None
        },
        "grad_scaler": None if _grad_scaler(run) is None else _grad_scaler(run).state_dict(),
        "rng": _rng_states(run.tproblem),
        "curves": {k: list(v) for k, v in run.curves.items()},
        "minibatch_losses": list(run.minibatch_losses),
        "epoch_times": list(run.epoch_times),
    }


def restore(run, state: dict) -> None:
    """Put ``state`` (from :func:`capture`) back into ``run``, in place."""
    unwrap(run.tproblem.model).load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    for key, value in state["runner"].items():
        setattr(run.runner, key, value)
    if state["grad_scaler"] is not None:
        _grad_scaler(run).load_state_dict(state["grad_scaler"])
    _set_rng_states(run.tproblem, state["rng"])
    for key, values in state["curves"].items():
        run.curves[key][:] = values
    run.minibatch_losses[:] = state["minibatch_losses"]
    run.epoch_times[:] = state["epoch_times"]
    run.epoch = run.start_epoch = state["epoch"]


def save_atomic(state: dict, path: Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _grad_scaler(run):
    # amp="fp16" steps through a GradScaler whose scale is part of the training state.
    return getattr(getattr(run.runner, "_step", None), "scaler", None)


def _loader_generators(tproblem) -> dict[str, torch.Generator]:
    found = {}
    for split, loader in tproblem.data.loaders().items():
        for name in _GENERATORS:
            gen = getattr(loader, name, None)
            if isinstance(gen, torch.Generator):
                found[f"{split}.{name}"] = gen
    return found


def _rng_states(tproblem) -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states = {
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
        "torch": torch.get_rng_state(),
        "loaders": {k: g.get_state() for k, g in _loader_generators(tproblem).items()},
    }
    if tproblem.device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(tproblem, states: dict) -> None:
    random.setstate(_as_tuples(states["python"]))
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    if "cuda" in states:
        torch.cuda.set_rng_state_all(states["cuda"])
    generators = _loader_generators(tproblem)
    for key, gen_state in states["loaders"].items():
        generators[key].set_state(gen_state)


def _as_tuples(value):
    # random.setstate wants tuples; a saved tuple may come back as a list.
    return tuple(_as_tuples(v) for v in value) if isinstance(value, list | tuple) else value
