"""Settings shared by all of DeepOBS, with the names of DeepOBS 1.2 (``deepobs.config``).

* the data directory (``set_data_dir`` / ``get_data_dir``), the same one
  :mod:`deepobs.pytorch.config` reads: setting it through either module is seen by both;
* the baseline directory, the framework and the small and large benchmark sets;
* display names for plot titles: the live dicts :data:`DATA_SET_NAMING` and :data:`TP_NAMING`
  (add entries for your own data sets and problems);
* :data:`DEFAULT_TEST_PROBLEMS_SETTINGS`: the default batch size and number of epochs of every
  registered test problem that has them, read from the problem registry when asked for.

Importing this module imports neither torch nor the test problems.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from pathlib import Path

__all__ = [
    "DATA_SET_NAMING",
    "DEFAULT_TEST_PROBLEMS_SETTINGS",
    "TP_NAMING",
    "display_name",
    "get_baseline_dir",
    "get_data_dir",
    "get_data_set_naming",
    "get_framework",
    "get_large_test_set",
    "get_small_test_set",
    "get_testproblem_default_setting",
    "get_tp_naming",
    "set_baseline_dir",
    "set_data_dir",
    "set_framework",
    "set_large_test_set",
    "set_small_test_set",
    "split_testproblem_name",
]

#: Frameworks this package implements (DeepOBS 1.2 also had ``"tensorflow"``).
FRAMEWORKS = ("pytorch",)
DEFAULT_BASELINE_DIR = "baselines_deepobs"

_framework = "pytorch"
_baseline_dir = Path(DEFAULT_BASELINE_DIR)
#: The DeepOBS benchmark sets: P1-P4 (small) and P5-P8 (large), in the published order.
_small_test_set = ["quadratic_deep", "mnist_vae", "fmnist_2c2d", "cifar10_3c3d"]
_large_test_set = ["fmnist_vae", "cifar100_allcnnc", "svhn_wrn164", "tolstoi_char_rnn"]

#: Display names of the data sets (the part of a problem name before the model), for plots.
DATA_SET_NAMING: dict[str, str] = {
    "two": "2D",
    "two_d": "2D",
    "quadratic": "Quadratic",
    "mnist": "MNIST",
    "fmnist": "F-MNIST",
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "svhn": "SVHN",
    "imagenet": "ImageNet",
    "tolstoi": "Tolstoi",
    "food101": "Food-101",
    "ptb": "PTB",
    "mnist1d": "MNIST-1D",
}

#: Display names of the models (the part of a problem name after the data set), for plots.
TP_NAMING: dict[str, str] = {
    "d_beale": "Beale",
    "d_branin": "Branin",
    "d_rosenbrock": "Rosenbrock",
    "beale": "Beale",
    "branin": "Branin",
    "rosenbrock": "Rosenbrock",
    "deep": "Deep",
    "logreg": "Log. Reg.",
    "mlp": "MLP",
    "2c2d": "2c2d",
    "3c3d": "3c3d",
    "vae": "VAE",
    "vgg_16": "VGG 16",
    "vgg_19": "VGG 19",
    "vgg16": "VGG 16",
    "vgg19": "VGG 19",
    "allcnnc": "All-CNN-C",
    "wrn164": "Wide ResNet 16-4",
    "wrn404": "Wide ResNet 40-4",
    "inception_v3": "Inception-v3",
    "char_rnn": "Char RNN",
    "textgen": "Char RNN (PTB)",
    "resnet18": "ResNet-18",
    "resnet32": "ResNet-32",
    "resnet56": "ResNet-56",
    "cnn": "CNN",
    "transformer": "Transformer",
}


# ---------------------------------------------------------------------- data directory
def get_data_dir() -> Path:
    """Return the data directory: ``set_data_dir`` > ``$DEEPOBS_DATA_DIR`` > ``./data``.

    The value is shared with :func:`deepobs.pytorch.config.get_data_dir`.
    """
    from deepobs.pytorch import config

    return config.get_data_dir()


def set_data_dir(data_dir: str | os.PathLike | None) -> None:
    """Set the data directory (``~`` is expanded; ``None`` goes back to the default).

    Shared with :func:`deepobs.pytorch.config.set_data_dir`.
    """
    from deepobs.pytorch import config

    config.set_data_dir(data_dir)


def __getattr__(name: str):
    """Serve ``DATA_DIR`` (DeepOBS 1.2's module variable) as the current data directory."""
    if name == "DATA_DIR":
        return get_data_dir()
    if name == "FRAMEWORK":
        return _framework
    if name == "BASELINE_DIR":
        return _baseline_dir
    if name == "SMALL_TEST_SET":
        return _small_test_set
    if name == "LARGE_TEST_SET":
        return _large_test_set
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------- other settings
def get_framework() -> str:
    """Return the framework the tuner and analyzer use (always ``"pytorch"`` here)."""
    return _framework


def set_framework(framework: str) -> None:
    """Set the framework; only ``"pytorch"`` exists in this package.

    Raises:
        ValueError: for any other framework.
    """
    global _framework
    if framework not in FRAMEWORKS:
        raise ValueError(
            f"Unknown framework {framework!r}; this package implements {list(FRAMEWORKS)}. "
            "Use set_framework('pytorch') or leave the default."
        )
    _framework = framework


def get_baseline_dir() -> Path:
    """Return the folder of baseline results (default ``baselines_deepobs``)."""
    return _baseline_dir


def set_baseline_dir(baseline_dir: str | os.PathLike) -> None:
    """Set the folder of baseline results (``~`` is expanded)."""
    global _baseline_dir
    _baseline_dir = Path(baseline_dir).expanduser()


def get_small_test_set() -> list[str]:
    """Return the small benchmark set (P1-P4)."""
    return _small_test_set


def set_small_test_set(testset: list[str]) -> None:
    """Replace the small benchmark set by a list of problem names."""
    global _small_test_set
    _small_test_set = _check_test_set(testset)


def get_large_test_set() -> list[str]:
    """Return the large benchmark set (P5-P8)."""
    return _large_test_set


def set_large_test_set(testset: list[str]) -> None:
    """Replace the large benchmark set by a list of problem names."""
    global _large_test_set
    _large_test_set = _check_test_set(testset)


def _check_test_set(testset) -> list[str]:
    if isinstance(testset, str) or not all(isinstance(n, str) for n in testset):
        raise TypeError(
            f"A test set must be a list of problem names, got {testset!r}. "
            "Pass e.g. ['quadratic_deep', 'mnist_vae']."
        )
    return list(testset)


# ---------------------------------------------------------------------- display names
def get_data_set_naming() -> dict[str, str]:
    """Return :data:`DATA_SET_NAMING` (the live dict; add entries to it)."""
    return DATA_SET_NAMING


def get_tp_naming() -> dict[str, str]:
    """Return :data:`TP_NAMING` (the live dict; add entries to it)."""
    return TP_NAMING


def split_testproblem_name(testproblem: str) -> tuple[str, str]:
    """Split a problem name into data set and model: ``"cifar100_allcnnc"`` -> (cifar100, allcnnc).

    The longest data set prefix known to :data:`DATA_SET_NAMING` wins (``two_d_beale`` ->
    ``two_d``, ``beale``); unknown names split at the first underscore.
    """
    for prefix in sorted(DATA_SET_NAMING, key=len, reverse=True):
        if testproblem.startswith(prefix + "_"):
            return prefix, testproblem[len(prefix) + 1 :]
    data_set, _, model = testproblem.partition("_")
    return data_set, model


def display_name(testproblem: str) -> str:
    """Title of a problem in plots: ``"cifar10_3c3d"`` -> ``"CIFAR-10 3c3d"``.

    Parts without a display name are shown as they are; a name without a data set part
    (``textgen``) is looked up in :data:`TP_NAMING` as a whole.
    """
    if "_" not in testproblem:
        return TP_NAMING.get(testproblem, DATA_SET_NAMING.get(testproblem, testproblem))
    data_set, model = split_testproblem_name(testproblem)
    return f"{DATA_SET_NAMING.get(data_set, data_set)} {TP_NAMING.get(model, model)}"


# ---------------------------------------------------------------------- default settings
class _DefaultSettings(MutableMapping):
    """``{problem: {"batch_size": B, "num_epochs": E}}`` read from the problem registry.

    Problems registered later are included without further work; entries set here (for a
    problem of your own, or to change a default) take precedence. Problems without DeepOBS
    defaults (the 2-D functions) are absent, as in DeepOBS.
    """

    def __init__(self) -> None:
        self._own: dict[str, dict] = {}
        self._removed: set[str] = set()

    @staticmethod
    def _registered() -> dict[str, dict]:
        from deepobs.pytorch.testproblems import _registry

        found = {}
        for name in _registry.list_testproblems():
            spec = _registry.get_testproblem_class(name).spec
            if spec.batch_size is not None and spec.num_epochs is not None:
                found[name] = {"batch_size": spec.batch_size, "num_epochs": spec.num_epochs}
        return found

    def _all(self) -> dict[str, dict]:
        merged = {k: v for k, v in self._registered().items() if k not in self._removed}
        merged.update(self._own)
        return merged

    def __getitem__(self, name: str) -> dict:
        if name in self._own:
            return self._own[name]
        return self._all()[name]

    def __setitem__(self, name: str, setting: dict) -> None:
        missing = {"batch_size", "num_epochs"} - set(setting)
        if missing:
            raise ValueError(
                f"The default setting of {name!r} needs 'batch_size' and 'num_epochs'; "
                f"{sorted(missing)} missing in {setting!r}."
            )
        self._own[name] = dict(setting)
        self._removed.discard(name)

    def __delitem__(self, name: str) -> None:
        if name not in self._all():
            raise KeyError(name)
        self._own.pop(name, None)
        self._removed.add(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


#: Default ``batch_size`` and ``num_epochs`` per problem (DeepOBS 1.2's table, extended to
#: every registered problem that has defaults).
DEFAULT_TEST_PROBLEMS_SETTINGS: MutableMapping[str, dict] = _DefaultSettings()


def get_testproblem_default_setting(testproblem: str) -> dict:
    """Return ``{"batch_size": B, "num_epochs": E}`` of ``testproblem``.

    Raises:
        ValueError: if the problem has no default setting (then pass both to ``run``).
    """
    try:
        return DEFAULT_TEST_PROBLEMS_SETTINGS[testproblem]
    except KeyError:
        raise ValueError(
            f"There is no default batch_size and num_epochs for test problem {testproblem!r}. "
            "Pass batch_size and num_epochs to run(), or add the problem to "
            "deepobs.config.DEFAULT_TEST_PROBLEMS_SETTINGS."
        ) from None
