"""Atomic claims in a study's storage, so that workers sharing a study never duplicate work.

A claim is an empty Optuna study named ``<study>::<what>``: creating a study is atomic in
every Optuna storage (the name is unique), so exactly one worker gets each claim, whichever
machine it runs on. The claim records its holder (``host:pid``); a claim whose holder was a
process on this host that no longer runs is stale and taken over.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket

import numpy as np

logger = logging.getLogger(__name__)

#: Most worker slots tried when deriving per-worker sampler seeds.
MAX_SLOTS = 1000


def holder() -> str:
    """This process as ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(optuna, storage, name: str) -> bool:
    """Claim ``name`` in ``storage``; ``False`` if another live worker holds it."""
    direction = optuna.study.StudyDirection.MINIMIZE
    for _ in range(2):
        try:
            study_id = storage.create_new_study([direction], name)
        except optuna.exceptions.DuplicatedStudyError:
            if not _take_over_if_stale(storage, name):
                return False
            continue
        storage.set_study_user_attr(study_id, "holder", holder())
        return True
    return False


def release(storage, name: str) -> None:
    """Give up the claim ``name`` (nothing happens if it is gone)."""
    with contextlib.suppress(KeyError):
        storage.delete_study(storage.get_study_id_from_name(name))


def claim_worker_slot(optuna, storage, study_name: str) -> tuple[int, str]:
    """The lowest free worker slot of ``study_name``: ``(slot, claim name)``.

    Raises:
        ValueError: if all :data:`MAX_SLOTS` slots are taken.
    """
    for slot in range(MAX_SLOTS):
        name = f"{study_name}::worker-{slot}"
        if claim(optuna, storage, name):
            return slot, name
    raise ValueError(
        f"Study {study_name!r} already has {MAX_SLOTS} workers with a sampler seed; start "
        "this one without --sampler-seed."
    )


def worker_seed(seed: int, slot: int, n_trials: int) -> int:
    """The sampler seed of the worker in ``slot`` joining a study of ``n_trials`` trials.

    The first worker of a new study uses ``seed`` itself (a single seeded worker is
    reproducible); every other worker, and a worker joining a study with trials, gets a seed
    derived from all three, so no two workers propose the same trials.
    """
    if slot == 0 and n_trials == 0:
        return seed
    return int(np.random.SeedSequence([seed, slot, n_trials]).generate_state(1)[0])


def _take_over_if_stale(storage, name: str) -> bool:
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:  # released in the meantime
        return True
    owner = storage.get_study_user_attrs(study_id).get("holder", "")
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
        return False
    logger.info("taking over claim %r of stopped process %s", name, owner)
    release(storage, name)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
