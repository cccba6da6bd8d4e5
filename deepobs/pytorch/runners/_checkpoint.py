"""Checkpoint and resume for the standard training loop (``--checkpoint-every N``, ``--resume``).

After every ``N``-th training epoch the run saves its
:meth:`~deepobs.pytorch.runners.training_run.TrainingRun.state_dict` to
``<run folder>/checkpoint__random_seed__<S>.pt``, written in full to a temporary file and
then moved onto that name (:mod:`deepobs.pytorch.results.write`): the model and optimizer
states, the fp16 gradient scaler, the learning-rate schedule's state, every random state
(Python, NumPy, torch on CPU and every GPU, each data loader's generators), the partial
curves, mini-batch losses and epoch times.

``resume`` continues from that file if it exists (else the run starts from scratch, so one
command line serves the first start and every restart); a seed whose results file exists is
done and is not run again. A resumed run's curves equal an uninterrupted run's bit for bit on
CPU. The checkpoint is **removed** once the results file is written. ``checkpoint_every`` and
``resume`` are *run options*: they change how a run executes, not its results, so they are
recorded under ``meta`` and left out of the setting folder name.

A checkpoint records its run's identity (problem, optimizer class and name, setting, seed and
every option that changes the results, :meth:`RunArguments.identity`); resuming with a
different one is refused, naming both values. Checkpoints are read with
``torch.load(weights_only=True)``: no pickled code runs on resume; an unreadable (truncated,
corrupt) file is reported in one line with the fix.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import torch

from deepobs.pytorch.results import naming, write

logger = logging.getLogger(__name__)

CHECKPOINT_VERSION = 2
checkpoint_path = naming.checkpoint_path


def remove_checkpoint(folder: Path, random_seed: int) -> None:
    """Delete the checkpoint of a finished run, if there is one."""
    checkpoint_path(folder, random_seed).unlink(missing_ok=True)


class Checkpointer:
    """Training-loop callback that saves and restores checkpoints.

    Args:
        path: The checkpoint file.
        identity: The run's identity; a checkpoint of another run is refused.
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
        state = self._load(resuming=True)
        self._check_identity(state)
        run.load_state_dict(state)
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
            save(
                {"version": CHECKPOINT_VERSION, "identity": self.identity, **run.state_dict()},
                self.path,
            )
            logger.debug("checkpoint after epoch %d written to %s", run.epoch, self.path)
            if not self._checked:  # fail now, not when resuming days later
                self._load(resuming=False)
                self._checked = True

    def _load(self, resuming: bool) -> dict:
        try:
            return torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - every unreadable file gets the same line
            text = str(err).splitlines()[0] if str(err) else type(err).__name__
            if not resuming and isinstance(err, pickle.UnpicklingError):
                raise ValueError(
                    f"Checkpoint {self.path} holds objects that a safe load (weights_only=True) "
                    f"refuses, probably in the optimizer's state ({text}). Keep only tensors and "
                    "plain Python values in the state, or run without checkpoint_every."
                ) from err
            raise ValueError(
                f"Checkpoint {self.path} cannot be read: it is corrupt or truncated ({text}). "
                "Delete it to start this seed from scratch (or restore a good copy), then run "
                "again with resume."
            ) from err

    def _check_identity(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
            version = state.get("version") if isinstance(state, dict) else None
            raise ValueError(
                f"Checkpoint {self.path} has version {version!r}; this deepobs "
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


def save(state: dict, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then move it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write.write_temp(path, lambda fh: torch.save(state, fh), binary=True)
    write.publish_replace(tmp, path)
