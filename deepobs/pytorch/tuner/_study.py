"""Opening Optuna studies (storage, sampler, pruner, agreement of workers) and progress."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import warnings
from pathlib import Path

from deepobs.pytorch.tuner import _claims

logger = logging.getLogger(__name__)

#: Seconds between a running trial's heartbeats; a trial silent for 3 beats is failed.
HEARTBEAT_S = 60


def default_storage(output_dir) -> str:
    """``sqlite:///<output_dir>/optuna.db`` (absolute; the folder is created)."""
    folder = Path(output_dir).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def open_study(optuna, options, config: dict, output_dir, space):
    """Create or join the study of ``options``; check that this worker agrees with it.

    Returns:
        ``(study, slot_claim)``: ``slot_claim`` names this worker's slot claim (to release
        with :func:`close_study`), or ``None`` without a sampler seed.

    Raises:
        ValueError: for a storage URL that is not a database or cannot be opened (one line),
            or a study created for other settings.
    """
    url = options.storage or default_storage(output_dir)
    check_storage_url(url)
    name = options.study_name or f"{config['testproblem']}__{config['optimizer_name']}"
    storage = _open_storage(optuna, url)
    seed, slot_claim = options.sampler_seed, None
    if seed is not None:  # workers sharing a seed would propose the same trials
        slot, slot_claim = _claims.claim_worker_slot(optuna, storage, name)
        seed = _claims.worker_seed(seed, slot, _n_trials(storage, name))
        if seed != options.sampler_seed:
            logger.info("worker %d of study %r: sampler seed %d", slot, name, seed)
    sampler = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
        "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        "grid": lambda: optuna.samplers.GridSampler(space.grid(), seed),
    }[options.sampler]()
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
        if options.pruner == "median"
        else optuna.pruners.NopPruner()
    )
    direction = "maximize" if "accurac" in config["metric"] else "minimize"
    try:
        study = _with_retries(
            lambda: optuna.create_study(
                storage=storage,
                sampler=sampler,
                pruner=pruner,
                study_name=name,
                direction=direction,
                load_if_exists=True,
            ),
            url,
        )
        _check_config(study, {**config, "sampler": options.sampler, "pruner": options.pruner})
    except BaseException:
        if slot_claim is not None:
            _claims.release(storage, slot_claim)
        raise
    logger.info("study %r in %s (%s %s)", name, _without_password(url), direction, config["metric"])
    return study, slot_claim


def close_study(study, slot_claim: str | None) -> None:
    """Release this worker's slot (see :func:`open_study`)."""
    if slot_claim is not None:
        _claims.release(study._storage, slot_claim)


def check_storage_url(url: str) -> None:
    """Refuse, in one line, a storage URL that cannot hold a study (before opening it).

    Raises:
        ValueError: for text that is not a database URL, an unknown database, an in-memory
            SQLite database, or a SQLite file in a folder that does not exist.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = _without_password(url)
    example = "e.g. sqlite:///results/optuna.db or postgresql+psycopg2://user:password@host/db"
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except ArgumentError as err:  # NoSuchModuleError (unknown database) is one too
        raise ValueError(
            f"--storage {shown!r} is not a database URL SQLAlchemy knows ({_first_line(err)}); "
            f"write {example}."
        ) from err
    except ImportError:
        return  # a missing driver: _open_storage says which to install
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if not database or database == ":memory:":
        raise ValueError(
            f"--storage {shown!r} is an in-memory SQLite database, which no other worker and "
            f"no later run can see; give a file, {example}."
        )
    folder = Path(database).expanduser().resolve().parent
    if not folder.is_dir():
        raise ValueError(
            f"--storage {shown!r}: folder {str(folder)!r} does not exist; create it or give "
            "another path."
        )


def _n_trials(storage, name: str) -> int:
    try:
        return storage.get_n_trials(storage.get_study_id_from_name(name))
    except KeyError:
        return 0


def _with_retries(create, url: str):
    """``create()``, retried while workers starting together race to create tables/study."""
    from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

    for attempt in range(5):
        try:
            return create()
        except (OperationalError, IntegrityError) as err:
            # A second worker creating the same tables sees "locked" or "already exists".
            text = str(err)
            racing = isinstance(err, IntegrityError) or "locked" in text or "already exists" in text
            if not racing or attempt == 4:
                raise _storage_error(url, err) from err
            time.sleep(0.5 * (attempt + 1))
        except SQLAlchemyError as err:
            raise _storage_error(url, err) from err
    raise AssertionError("unreachable")


def _storage_error(url: str, err: Exception) -> ValueError:
    return ValueError(
        f"Cannot open the study storage {_without_password(url)!r} ({_first_line(err)}). Check "
        "the URL, that the database server runs and accepts this user, or use another --storage."
    )


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return (text.splitlines() or [type(err).__name__])[0]


def _open_storage(optuna, url: str):
    kwargs = (
        {"engine_kwargs": {"connect_args": {"timeout": 60}}} if url.startswith("sqlite") else {}
    )
    with warnings.catch_warnings():  # the heartbeat is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return _with_retries(
                lambda: optuna.storages.RDBStorage(
                    url, heartbeat_interval=HEARTBEAT_S, grace_period=3 * HEARTBEAT_S, **kwargs
                ),
                url,
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
