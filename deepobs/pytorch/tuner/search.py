"""``GridSearch`` and ``RandomSearch``: the DeepOBS 1.2 tuners, for fixed sets of settings.

Both run their settings one after the other in this process (``tune``), or write one
``deepobs run`` command line per setting for any cluster scheduler
(``generate_commands_script``). Every setting uses the same seed (DeepOBS: 42); rerun the
best one with more seeds via ``rerun_best_setting=True`` or :func:`rerun_setting`. For
adaptive search and many workers use :class:`~deepobs.pytorch.tuner.OptunaSearch`.
"""

from __future__ import annotations

import abc
import itertools
import logging
from pathlib import Path

import numpy as np

from deepobs import config
from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.testproblems._sets import PROBLEM_SETS
from deepobs.pytorch.tuner import _commands
from deepobs.pytorch.tuner.rerun import rerun_setting

logger = logging.getLogger(__name__)

#: The named problem sets as shipped (:mod:`deepobs.pytorch.testproblems._sets`);
#: ``tune_on_testset("small")`` reads the current small/large sets from
#: :func:`deepobs.config.get_small_test_set` / ``get_large_test_set``.
TEST_SETS = PROBLEM_SETS
_RERUN_KEYS = (
    "data_dir",
    "device",
    "train_log_interval",
    "print_train_iter",
    "no_logs",
    "skip_if_exists",
)


def make_runner(runner, optimizer_class, hyperparam_names, optimizer_name: str):
    """Instantiate ``runner`` the way DeepOBS does, ``runner(optimizer_class, hyperparam_names)``.

    ``optimizer_name`` is passed only when it differs from the class name, so runner
    subclasses written for DeepOBS (whose ``__init__`` has no such argument) work unchanged.
    """
    if optimizer_name == optimizer_class.__name__:
        return runner(optimizer_class, hyperparam_names)
    return runner(optimizer_class, hyperparam_names, optimizer_name=optimizer_name)


class Tuner(abc.ABC):
    """Base class of the fixed-set tuners.

    Args:
        optimizer_class: The optimizer class.
        hyperparam_names: ``{name: {"type": t, "default": d}}`` as for the runner.
        ressources: Largest number of settings (DeepOBS' spelling).
        runner: Runner class (default :class:`~deepobs.pytorch.runners.StandardRunner`).
        optimizer_name: Name in the results tree (default: the class name).
    """

    search_name = "search"

    def __init__(
        self,
        optimizer_class,
        hyperparam_names,
        ressources: int,
        runner=StandardRunner,
        *,
        optimizer_name: str | None = None,
    ) -> None:
        if isinstance(ressources, bool) or not isinstance(ressources, int) or ressources < 1:
            raise ValueError(f"ressources must be a positive integer, got {ressources!r}.")
        self._optimizer_class = optimizer_class
        self._hyperparam_names = dict(hyperparam_names)
        self._ressources = ressources
        self._runner = runner
        self._optimizer_name = optimizer_name or optimizer_class.__name__

    @abc.abstractmethod
    def _sample(self, random_seed: int) -> list[dict]:
        """The hyperparameter settings to run."""

    def _check_names(self, names) -> None:
        unknown = sorted(set(names) - set(self._hyperparam_names))
        if unknown:
            raise ValueError(
                f"Hyperparameter(s) {unknown} are not in hyperparam_names "
                f"{sorted(self._hyperparam_names)}; add them there or remove them."
            )

    def tune(
        self,
        testproblem: str,
        output_dir="./results",
        random_seed: int = 42,
        rerun_best_setting: bool = False,
        **kwargs,
    ) -> list[dict]:
        """Run every setting on ``testproblem``; optionally rerun the best with seeds +1..+9.

        ``kwargs`` go to the runner's ``run()`` (``num_epochs``, ``batch_size``, ``device``,
        training parameters).

        Returns:
            The results dicts of the settings (not of the reruns).
        """
        results = []
        for hyperparams in self._sample(random_seed):
            runner = make_runner(
                self._runner, self._optimizer_class, self._hyperparam_names, self._optimizer_name
            )
            results.append(
                runner.run(
                    testproblem=testproblem,
                    hyperparams=hyperparams,
                    random_seed=random_seed,
                    output_dir=output_dir,
                    **kwargs,
                )
            )
        if rerun_best_setting:
            rerun_setting(
                self._runner,
                self._optimizer_class,
                self._hyperparam_names,
                Path(output_dir) / testproblem / self._optimizer_name,
                seeds=range(random_seed + 1, random_seed + 10),
                **{k: v for k, v in kwargs.items() if k in _RERUN_KEYS},
            )
        return results

    def tune_on_testset(
        self,
        testset,
        output_dir="./results",
        random_seed: int = 42,
        rerun_best_setting: bool = False,
        **kwargs,
    ) -> None:
        """Tune on every problem of ``testset`` (``"small"``, ``"large"``, ``"ladder"`` or names).

        Each problem uses its own batch size, epochs and L2 factor.

        Raises:
            ValueError: if ``kwargs`` set ``num_epochs``, ``batch_size`` or the L2 factor.
        """
        fixed = sorted({"num_epochs", "batch_size", "l2_reg", "weight_decay"} & set(kwargs))
        if fixed:
            raise ValueError(
                f"tune_on_testset uses each problem's defaults; remove {fixed} (or call tune() "
                "per problem)."
            )
        current = {
            **PROBLEM_SETS,
            "small": config.get_small_test_set(),
            "large": config.get_large_test_set(),
        }
        problems = current.get(testset, testset) if isinstance(testset, str) else testset
        if isinstance(problems, str):
            raise ValueError(
                f"Unknown test set {testset!r}; use one of {', '.join(current)} or a list."
            )
        for testproblem in problems:
            self.tune(testproblem, output_dir, random_seed, rerun_best_setting, **kwargs)

    def generate_commands_script(
        self,
        testproblem: str,
        run_script: str | None = None,
        output_dir="./results",
        random_seed: int = 42,
        generation_dir="./command_scripts",
        **kwargs,
    ) -> Path:
        """Write one command line per setting to ``jobs_<optimizer>_<search>_<problem>.txt``.

        Lines are ``deepobs run ...`` commands, or ``python RUN_SCRIPT ...`` (DeepOBS runner
        script flags) when ``run_script`` is given. ``kwargs`` are ``run()`` arguments.

        Returns:
            The path of the written file.
        """
        lines = []
        for hyperparams in self._sample(random_seed):
            if run_script is None:
                lines.append(
                    _commands.deepobs_run_command(
                        testproblem,
                        self._optimizer_class,
                        hyperparams,
                        random_seed,
                        output_dir,
                        optimizer_name=self._optimizer_name,
                        **kwargs,
                    )
                )
            else:
                lines.append(
                    _commands.script_command(
                        run_script, testproblem, hyperparams, random_seed, output_dir, **kwargs
                    )
                )
        folder = Path(generation_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"jobs_{self._optimizer_name}_{self.search_name}_{testproblem}.txt"
        path.write_text("\n".join(lines) + "\n")
        logger.info("%d command lines written to %s", len(lines), path)
        return path


class GridSearch(Tuner):
    """Every combination of ``grid = {name: [values]}`` (at most ``ressources`` of them).

    Raises:
        ValueError: if the grid has more combinations than ``ressources``.
    """

    search_name = "grid_search"

    def __init__(
        self,
        optimizer_class,
        hyperparam_names,
        grid: dict,
        ressources: int,
        runner=StandardRunner,
        *,
        optimizer_name: str | None = None,
    ) -> None:
        super().__init__(
            optimizer_class, hyperparam_names, ressources, runner, optimizer_name=optimizer_name
        )
        self._check_names(grid)
        self._grid = {k: list(v) for k, v in grid.items()}
        size = int(np.prod([len(v) for v in self._grid.values()]))
        if size > ressources:
            raise ValueError(
                f"The grid has {size} settings but ressources={ressources}. Raise ressources "
                "or use fewer grid values."
            )

    def _sample(self, random_seed: int) -> list[dict]:
        names = list(self._grid)
        return [dict(zip(names, values)) for values in itertools.product(*self._grid.values())]


class RandomSearch(Tuner):
    """``ressources`` settings drawn from ``distributions = {name: dist}``.

    A distribution is an object with ``rvs()`` (``scipy.stats`` frozen distributions,
    :class:`~deepobs.pytorch.tuner.log_uniform`) or a list of values drawn uniformly. As in
    DeepOBS, NumPy's global seed is set to ``random_seed`` before sampling.
    """

    search_name = "random_search"

    def __init__(
        self,
        optimizer_class,
        hyperparam_names,
        distributions: dict,
        ressources: int,
        runner=StandardRunner,
        *,
        optimizer_name: str | None = None,
    ) -> None:
        super().__init__(
            optimizer_class, hyperparam_names, ressources, runner, optimizer_name=optimizer_name
        )
        self._check_names(distributions)
        for name, dist in distributions.items():
            if not (hasattr(dist, "rvs") or isinstance(dist, list | tuple)):
                raise ValueError(
                    f"Distribution of {name!r} must have rvs() (e.g. log_uniform(-5, 2)) or be "
                    f"a list of values, got {dist!r}."
                )
        self._distributions = dict(distributions)

    def _sample(self, random_seed: int) -> list[dict]:
        np.random.seed(random_seed)
        samples = []
        for _ in range(self._ressources):
            sample = {}
            for name, dist in self._distributions.items():
                value = dist.rvs() if hasattr(dist, "rvs") else dist[np.random.randint(len(dist))]
                sample[name] = value.item() if isinstance(value, np.generic) else value
            samples.append(sample)
        return samples
