"""Opening Optuna studies (storage, sampler, pruner, agreement of workers) and progress."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)

#: Seconds between a running trial's heartbeats; a trial silent for 3 beats is failed.
HEARTBEAT_S = 60


def default_storage(output_dir) -> str:
    """``sqlite:///<output_dir>/optuna.db`` (absolute; the folder is created)."""
    folder = Path(output_dir).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def open_study(optuna, options, config: dict, output_dir, space):
    """Create or join the study of ``options``; check that this worker agrees with it."""
    url = options.storage or default_storage(output_dir)
    name = options.study_name or f"{config['testproblem']}__{config['optimizer_name']}"
    sampler = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=options.sampler_seed),
        "random": lambda: optuna.samplers.RandomSampler(seed=options.sampler_seed),
        "grid": lambda: optuna.samplers.GridSampler(space.grid(), options.sampler_seed),
    }[options.sampler]()
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
        if options.pruner == "median"
        else optuna.pruners.NopPruner()
    )
    direction = "maximize" if "accurac" in config["metric"] else "minimize"
    from sqlalchemy.exc import IntegrityError, OperationalError

    for attempt in range(5):  # workers starting together race to create the tables and study
        try:
            study = optuna.create_study(
                storage=_storage(optuna, url),
                sampler=sampler,
                pruner=pruner,
                study_name=name,
                direction=direction,
                load_if_exists=True,
            )
            break
        except (OperationalError, IntegrityError):
            if attempt == 4:
                raise
            time.sleep(0.5 * (attempt + 1))
    _check_config(study, {**config, "sampler": options.sampler, "pruner": options.pruner})
    logger.info("study %r in %s (%s %s)", name, _without_password(url), direction, config["metric"])
    return study


def _storage(optuna, url: str):
    kwargs = (
        {"engine_kwargs": {"connect_args": {"timeout": 60}}} if url.startswith("sqlite") else {}
    )
    with warnings.catch_warnings():  # the heartbeat is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=HEARTBEAT_S, grace_period=3 * HEARTBEAT_S, **kwargs
            )
        except ImportError as err:
            raise ImportError(
                f"Storage {_without_password(url)!r} needs a database driver ({err}). For "
                "PostgreSQL: pip install psycopg2-binary and write postgresql+psycopg2://..., "
                "or pip install 'psycopg[binary]' (SQLAlchemy 2.1's driver for postgresql://)."
            ) from err


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':')[0]}:***@{host}"


def _check_config(study, config: dict) -> None:
    stored = study.user_attrs.get("deepobs")
    if stored is None:
        study.set_user_attr("deepobs", config)
        return
    keys = [k for k in config if k not in ("sampler", "pruner", "optimizer")]
    wrong = [k for k in keys if stored.get(k) != config[k]]
    if wrong:
        details = "; ".join(
            f"{k}: study {stored.get(k)!r}, this worker {config[k]!r}" for k in wrong
        )
        raise ValueError(
            f"Study {study.study_name!r} was created for other settings ({details}). Use the "
            "same settings to join it, or another --study-name for a new study."
        )


@contextlib.contextmanager
def progress_bar(total: int, show: bool):
    if not show:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit="trial", file=sys.stderr, desc="tuning")
    try:
        yield bar
    finally:
        bar.close()


def update_bar(bar, study) -> None:
    if bar is None:
        return
    finished = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
    bar.n = min(len(finished), bar.total)
    with contextlib.suppress(ValueError):  # no completed trial yet
        bar.set_postfix_str(f"best {study.best_value:.5g}", refresh=False)
    bar.refresh()
