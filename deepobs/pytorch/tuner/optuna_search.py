r"""Hyperparameter search on Optuna: TPE, random or grid sampling over a JSON search space.

Needs the ``tuner`` extra (``pip install "deepobs[tuner]"``; PostgreSQL also ``psycopg2``).
CLI: ``deepobs tune TESTPROBLEM --optimizer torch.optim.SGD --space space.json --trials 50``.

**Workers.** A worker is one process running trials one after the other. Any number of
workers share a study through its storage (Optuna's own distributed mode):

* Default storage: the SQLite file ``<output_dir>/optuna.db``: embedded, nothing to start,
  good for a few workers on one machine (local disk; SQLite over NFS is unreliable).
* Many machines: any SQLAlchemy URL, e.g. PostgreSQL. Create an empty database once, then
  start the same command on every machine or GPU, with a shared ``--output-dir``::

      CUDA_VISIBLE_DEVICES=0 deepobs tune cifar10_3c3d --optimizer torch.optim.SGD \
          --space space.json --trials 100 --study-name c10_sgd \
          --storage postgresql+psycopg2://user:password@dbhost/deepobs \
          --output-dir /shared/results &

  ``postgresql+psycopg2://`` uses ``psycopg2-binary``; plain ``postgresql://`` means psycopg 3
  with SQLAlchemy 2.1 and later (``pip install "psycopg[binary]"``).

``trials`` is the study's total: a worker starts no trial once the study holds that many
trials (finished or running); a killed worker's trial is marked failed after a few minutes
(heartbeat) and no longer counts. Workers must agree on the problem, optimizer, space, metric,
seed and setting (epochs, batch size, L2, training parameters); a worker asking for a
different study under the same name is refused. Workers given the same ``sampler_seed`` still
propose different trials: each claims a worker slot in the storage, the first worker of a new
study samples with the seed itself and every other one with a seed derived from it. With
``rerun_best`` each seed is claimed in the storage by one worker, so several workers share the
reruns without running a seed twice.

**Trials.** Each trial is a normal run: it writes its results file to the results tree and
the study records its path (trial user attributes ``results_path``, ``status``,
``hyperparams`` and ``worker``, i.e. host:pid). All trials use one seed (``random_seed``,
DeepOBS: 42). The objective is the **final validation metric**: ``valid_accuracies``
(maximised), or ``valid_losses`` (minimised) for problems without accuracy; any other results
list can be chosen, the test lists with a warning. A diverged run is reported as a *pruned*
trial (user attribute ``status="diverged"``): samplers treat it as worse than every finished
trial, and it never has a value. Pruning on the per-epoch validation metric
(``pruner="median"``) is off by default and recorded in the study; a pruned run stops early
and writes no results file (user attribute ``pruned_at_epoch``). With pruning on, the
intermediate values are reported, and Optuna gives a pruned or diverged trial the last one.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from dataclasses import dataclass

from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.runners._results import to_json_value
from deepobs.pytorch.testproblems import get_testproblem_class
from deepobs.pytorch.tuner import _claims, _study
from deepobs.pytorch.tuner._checks import check_data_available, check_run_setting
from deepobs.pytorch.tuner._commands import importable_path
from deepobs.pytorch.tuner.space import SearchSpace

logger = logging.getLogger(__name__)

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("none", "median")
#: run() arguments that may differ between the workers of one study.
PER_WORKER = {
    "device",
    "data_dir",
    "print_train_iter",
    "train_log_interval",
    "tb_log",
    "tb_log_dir",
    "checkpoint_every",
    "resume",
    "no_logs",
    "skip_if_exists",
}


def require_optuna():
    """Import Optuna, or raise ``ImportError`` naming the extra to install."""
    try:
        import optuna
    except ImportError as err:
        raise ImportError(
            f'Tuning with Optuna needs the tuner extra ({err}): pip install "deepobs[tuner]"'
        ) from err
    return optuna


@dataclass
class StudyOptions:
    """How a study is stored, sampled and scored (see the module docstring).

    Args:
        storage: SQLAlchemy URL; ``None`` = SQLite file ``<output_dir>/optuna.db``.
        study_name: ``None`` = ``<testproblem>__<optimizer_name>``.
        sampler: ``"tpe"``, ``"random"`` or ``"grid"`` (every entry needs choices or num).
        sampler_seed: Seed of the sampler (``None``: random, so workers propose different
            settings).
        pruner: ``"none"`` or ``"median"`` (Optuna's MedianPruner on the validation metric).
        metric: Results list to optimise; ``None`` = the validation metric.
    """

    storage: str | None = None
    study_name: str | None = None
    sampler: str = "tpe"
    sampler_seed: int | None = None
    pruner: str = "none"
    metric: str | None = None

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}.")
        if self.pruner not in PRUNERS:
            raise ValueError(f"pruner must be one of {PRUNERS}, got {self.pruner!r}.")
        seed = self.sampler_seed
        if seed is not None and (
            not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32
        ):
            raise ValueError(
                f"sampler_seed (--sampler-seed) must be an integer in [0, 2**32) or None, got "
                f"{seed!r}."
            )


class OptunaSearch:
    """Tune an optimizer's hyperparameters over a :class:`SearchSpace` with Optuna.

    Args:
        optimizer_class: The optimizer class.
        space: A :class:`SearchSpace`, its JSON object, or the path of a JSON file.
        runner: Runner class (default :class:`~deepobs.pytorch.runners.StandardRunner`).
        fixed_hyperparams: Hyperparameters held fixed (e.g. ``{"momentum": 0.9}``).
        optimizer_name: Name in the results tree (default: the class name).
    """

    def __init__(
        self,
        optimizer_class,
        space,
        runner=StandardRunner,
        *,
        fixed_hyperparams: dict | None = None,
        optimizer_name: str | None = None,
    ):
        if not isinstance(space, SearchSpace):
            space = (
                SearchSpace.from_dict(space) if isinstance(space, dict) else SearchSpace.load(space)
            )
        self.optimizer_class, self.space, self.runner = optimizer_class, space, runner
        self.fixed = dict(fixed_hyperparams or {})
        both = sorted(set(self.fixed) & set(space.names))
        if both:
            raise ValueError(f"{both} are both fixed and searched; remove them from one.")
        self.optimizer_name = optimizer_name or optimizer_class.__name__

    def tune(
        self,
        testproblem: str,
        n_trials: int | None = None,
        output_dir="./results",
        random_seed: int = 42,
        options: StudyOptions | None = None,
        show_progress: bool = False,
        worker_trials: int | None = None,
        **run_kwargs,
    ):
        """Run trials until the study holds ``n_trials`` (grid: default all grid points).

        ``run_kwargs`` go to ``run()`` (``num_epochs``, ``batch_size``, ``l2_reg``,
        ``device``, training parameters). ``worker_trials`` caps the trials this worker
        runs (``--jobs-per-device`` splits ``n_trials`` between its workers); ``None``: no
        cap. Returns the ``optuna.Study``.
        """
        optuna = require_optuna()
        options = options or StudyOptions()
        metric = self._metric(testproblem, options.metric)
        if options.sampler == "grid":
            grid = self.space.grid()
            if n_trials is None:
                n_trials = math.prod(len(v) for v in grid.values())
        if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1:
            raise ValueError(f"n_trials (--trials) must be a positive integer, got {n_trials!r}.")
        check_run_setting(random_seed=random_seed, **run_kwargs)
        check_data_available(testproblem, run_kwargs.get("data_dir"))
        config = self._config(testproblem, metric, random_seed, run_kwargs)
        study, slot = _study.open_study(optuna, options, config, output_dir, self.space)
        try:
            self._optimize(
                optuna,
                study,
                n_trials,
                show_progress,
                worker_trials,
                _Objective(
                    self,
                    testproblem,
                    metric,
                    random_seed,
                    output_dir,
                    run_kwargs,
                    prune=options.pruner != "none",
                ),
            )
        finally:
            _study.close_study(study, slot)
        return study

    @staticmethod
    def _optimize(
        optuna, study, n_trials: int, show_progress: bool, worker_trials, objective
    ) -> None:
        counted = (
            optuna.trial.TrialState.COMPLETE,
            optuna.trial.TrialState.PRUNED,
            optuna.trial.TrialState.RUNNING,
        )
        if len(study.get_trials(deepcopy=False, states=counted)) >= n_trials:
            logger.info(
                "study %r already holds %d trials; nothing to do", study.study_name, n_trials
            )
            return
        with _study.progress_bar(n_trials, show_progress) as bar:
            study.optimize(
                objective,
                n_trials=n_trials if worker_trials is None else worker_trials,
                callbacks=[
                    optuna.study.MaxTrialsCallback(n_trials, states=counted),
                    lambda s, t: _study.update_bar(bar, s),
                ],
            )

    def rerun_best(self, study, output_dir="./results", seeds=None, **run_kwargs) -> list[dict]:
        """Rerun the study's best setting with more seeds (DeepOBS: 43-51 after seed 42).

        Seeds whose results exist, and seeds another worker is rerunning (each seed is claimed
        atomically in the study's storage), are skipped, so several workers may call this at
        once. The setting (epochs, batch size, ...) is the study's; ``run_kwargs`` add e.g.
        ``device``.

        Args:
            study: A study made by :meth:`tune`.
            output_dir: The results folder of the study's trials.
            seeds: Default: the tuning seed + 1 ... + 9.
            **run_kwargs: More ``run()`` arguments for this worker (e.g. ``device``).

        Returns:
            The results dicts of the runs made (skipped seeds have none).
        """
        config = study.user_attrs["deepobs"]
        best = best_setting(study)
        hyperparams = {
            k: tuple(v) if isinstance(v, list) else v for k, v in best["hyperparams"].items()
        }
        seed = config["random_seed"]
        runner = self.runner(
            self.optimizer_class,
            {k: {"type": type(v)} for k, v in hyperparams.items()},
            optimizer_name=self.optimizer_name,
        )
        optuna, storage = require_optuna(), study._storage
        results = []
        for s in seeds if seeds is not None else range(seed + 1, seed + 10):
            claim = f"{study.study_name}::rerun-seed-{s}"
            if not _claims.claim(optuna, storage, claim):  # another worker runs this seed
                logger.info("seed %d is being rerun by another worker; skipped", s)
                continue
            try:
                result = runner.run(
                    testproblem=config["testproblem"],
                    hyperparams=hyperparams,
                    random_seed=s,
                    output_dir=output_dir,
                    skip_if_exists=True,
                    **{**run_kwargs, **config["setting"]},
                )
            finally:  # the result file now marks the seed as done
                _claims.release(storage, claim)
            if result is not None:
                results.append(result)
        return results

    def _metric(self, testproblem: str, metric: str | None) -> str:
        spec = getattr(get_testproblem_class(testproblem), "spec", None)
        has_accuracy = spec is None or spec.has_accuracy
        metric = metric or ("valid_accuracies" if has_accuracy else "valid_losses")
        valid = [
            f"{s}_{k}"
            for s in ("valid", "train", "test")
            for k in ("losses", *(("accuracies",) if has_accuracy else ()))
        ]
        if metric not in valid:
            raise ValueError(f"metric must be one of {valid} for {testproblem}, got {metric!r}.")
        if metric.startswith("test"):
            logger.warning(
                "tuning on the test set (%s): results will overstate performance", metric
            )
        return metric

    def _config(self, testproblem, metric, random_seed, run_kwargs) -> dict:
        """What every worker of a study must agree on (stored as a study user attribute)."""
        return to_json_value(
            {
                "testproblem": testproblem,
                "optimizer": importable_path(self.optimizer_class),
                "optimizer_name": self.optimizer_name,
                "metric": metric,
                "random_seed": random_seed,
                "space": self.space.to_json(),
                "fixed_hyperparams": self.fixed,
                "setting": {k: v for k, v in run_kwargs.items() if k not in PER_WORKER},
            }
        )


class _Objective:
    """One trial = one run; returns its final metric value."""

    def __init__(
        self, search: OptunaSearch, testproblem, metric, seed, output_dir, run_kwargs, prune
    ):
        self.search, self.testproblem, self.metric = search, testproblem, metric
        self.seed, self.output_dir, self.run_kwargs = seed, output_dir, run_kwargs
        self.prune = prune

    def __call__(self, trial) -> float:
        optuna = require_optuna()
        hyperparams = {**self.search.fixed, **self.search.space.suggest(trial)}
        trial.set_user_attr("hyperparams", to_json_value(hyperparams))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        runner = self.search.runner(
            self.search.optimizer_class,
            {k: {"type": type(v)} for k, v in hyperparams.items()},
            optimizer_name=self.search.optimizer_name,
        )
        if self.prune:
            runner.callbacks.append(_Pruning(trial, self.metric))
        result = runner.run(
            testproblem=self.testproblem,
            hyperparams=hyperparams,
            random_seed=self.seed,
            output_dir=self.output_dir,
            **self.run_kwargs,
        )
        path = runner.last_results_path
        trial.set_user_attr("results_path", None if path is None else str(path))
        trial.set_user_attr("status", result["status"])
        value = result[self.metric][-1]
        if result["status"] == "diverged" or value is None:
            trial.set_user_attr("diverged_at_epoch", result["diverged_at_epoch"])
            raise optuna.TrialPruned(f"diverged at epoch {result['diverged_at_epoch']}")
        return value


class _Pruning:
    """Training-loop callback: report the metric per epoch; stop if the pruner says so."""

    def __init__(self, trial, metric: str) -> None:
        self.trial, self.metric = trial, metric

    def on_evaluation(self, run) -> None:
        value = run.curves[self.metric][-1]
        if value is None or not math.isfinite(value) or run.epoch == run.num_epochs:
            return
        self.trial.report(value, run.epoch)
        if self.trial.should_prune():
            self.trial.set_user_attr("pruned_at_epoch", run.epoch)
            raise require_optuna().TrialPruned(f"{self.metric}={value:.4g} at epoch {run.epoch}")


def best_setting(study) -> dict:
    """The best trial as ``{"value", "hyperparams", "results_path", "trial"}``.

    Raises:
        ValueError: if no trial of the study has completed.
    """
    try:
        best = study.best_trial
    except ValueError as err:
        raise ValueError(
            f"Study {study.study_name!r} has no completed trial (all diverged, pruned or "
            "failed). Widen or move the search space."
        ) from err
    return {
        "value": best.value,
        "hyperparams": best.user_attrs.get("hyperparams", best.params),
        "trial": best.number,
        "results_path": best.user_attrs.get("results_path"),
        "metric": study.user_attrs.get("deepobs", {}).get("metric"),
    }
