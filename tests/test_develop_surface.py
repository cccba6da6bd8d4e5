"""The DeepOBS ``develop`` surface: ``deepobs.config``, ``deepobs.tuner``, ``deepobs.analyzer``.

Code written against DeepOBS' ``develop`` branch (backobs, cockpit, experiment repositories)
imports these top-level modules; the names and argument names here are DeepOBS'.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import deepobs
from deepobs import config
from deepobs.pytorch import config as pt_config
from deepobs.pytorch.runners.runner import PTRunner
from deepobs.pytorch.testproblems import _registry

# DeepOBS 1.2's table of default settings (facts from its deepobs/config.py).
DEVELOP_DEFAULTS = {
    "quadratic_deep": (128, 100),
    "mnist_vae": (64, 50),
    "fmnist_2c2d": (128, 100),
    "cifar10_3c3d": (128, 100),
    "fmnist_vae": (64, 100),
    "cifar100_allcnnc": (256, 350),
    "svhn_wrn164": (128, 160),
    "tolstoi_char_rnn": (50, 200),
    "mnist_2c2d": (128, 100),
    "mnist_mlp": (128, 100),
    "fmnist_mlp": (128, 100),
    "mnist_logreg": (128, 50),
}


def test_top_level_imports_stay_light():
    code = (
        "import sys, deepobs, deepobs.config, deepobs.analyzer, deepobs.tuner;"
        "from deepobs import analyzer, config, tuner;"
        "assert config.get_framework() == 'pytorch';"
        "bad = [m for m in ('torch', 'matplotlib', 'pandas', 'optuna') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_subpackages_are_attributes():
    assert deepobs.config is config
    assert deepobs.pytorch.config is pt_config
    with pytest.raises(AttributeError, match="no_such_module"):
        deepobs.no_such_module  # noqa: B018


# ---------------------------------------------------------------------- data directory
def test_data_dir_is_one_value_for_both_config_modules(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    config.set_data_dir("~/data_deepobs")
    assert pt_config.get_data_dir() == tmp_path / "data_deepobs"
    assert config.get_data_dir() == tmp_path / "data_deepobs"
    develop_constant = config.DATA_DIR  # DeepOBS 1.2's module variable, now always current
    assert develop_constant == tmp_path / "data_deepobs"
    pt_config.set_data_dir(tmp_path / "other")
    assert config.get_data_dir() == tmp_path / "other"
    config.set_data_dir(None)
    monkeypatch.setenv(pt_config.DATA_DIR_ENV, str(tmp_path / "env"))
    assert config.get_data_dir() == tmp_path / "env"


def test_data_dir_set_through_deepobs_config_reaches_the_data_sets(tmp_path):
    config.set_data_dir(tmp_path / "somewhere")
    from deepobs.pytorch.datasets import quadratic

    assert quadratic(batch_size=8).data_dir == tmp_path / "somewhere"


# ---------------------------------------------------------------------- other settings
def test_framework_baseline_dir_and_test_sets(tmp_path, monkeypatch):
    for name in ("_framework", "_baseline_dir", "_small_test_set", "_large_test_set"):
        monkeypatch.setattr(config, name, getattr(config, name))
    assert config.get_small_test_set() == list(DEVELOP_DEFAULTS)[:4]
    assert config.get_large_test_set() == [
        "fmnist_vae",
        "cifar100_allcnnc",
        "svhn_wrn164",
        "tolstoi_char_rnn",
    ]
    assert config.get_baseline_dir() == Path("baselines_deepobs")
    monkeypatch.setenv("HOME", str(tmp_path))
    config.set_baseline_dir("~/baselines")
    assert config.get_baseline_dir() == config.BASELINE_DIR == tmp_path / "baselines"
    config.set_small_test_set(("mnist_mlp",))
    assert config.get_small_test_set() == config.SMALL_TEST_SET == ["mnist_mlp"]
    with pytest.raises(TypeError, match="list of problem names"):
        config.set_large_test_set("mnist_mlp")
    config.set_framework("pytorch")
    with pytest.raises(ValueError, match="'tensorflow'"):
        config.set_framework("tensorflow")
    assert config.FRAMEWORK == "pytorch"


# ---------------------------------------------------------------------- default settings
def test_default_settings_cover_every_registered_problem_with_defaults():
    settings = config.DEFAULT_TEST_PROBLEMS_SETTINGS
    for name in _registry.list_testproblems():
        spec = _registry.get_testproblem_class(name).spec
        if spec.batch_size is None:
            assert name not in settings
        else:
            assert settings[name] == {"batch_size": spec.batch_size, "num_epochs": spec.num_epochs}
    for name, (batch_size, num_epochs) in DEVELOP_DEFAULTS.items():
        assert config.get_testproblem_default_setting(name) == {
            "batch_size": batch_size,
            "num_epochs": num_epochs,
        }
    assert set(settings) >= set(DEVELOP_DEFAULTS)


def test_default_settings_are_extendable(monkeypatch):
    settings = config.DEFAULT_TEST_PROBLEMS_SETTINGS
    monkeypatch.setattr(settings, "_own", {})
    monkeypatch.setattr(settings, "_removed", set())
    settings["my_problem"] = {"batch_size": 32, "num_epochs": 7}
    assert config.get_testproblem_default_setting("my_problem")["num_epochs"] == 7
    settings["mnist_mlp"] = {"batch_size": 64, "num_epochs": 3}
    assert settings["mnist_mlp"]["batch_size"] == 64
    del settings["mnist_mlp"]
    assert "mnist_mlp" not in settings
    with pytest.raises(ValueError, match="num_epochs"):
        settings["other"] = {"batch_size": 1}
    with pytest.raises(ValueError, match="'two_d_beale'.*batch_size and num_epochs"):
        config.get_testproblem_default_setting("two_d_beale")


# ---------------------------------------------------------------------- display names
def test_display_names():
    assert config.get_data_set_naming() is config.DATA_SET_NAMING
    assert config.get_tp_naming() is config.TP_NAMING
    assert config.DATA_SET_NAMING["cifar10"] == "CIFAR-10"
    assert config.TP_NAMING["3c3d"] == "3c3d"
    assert config.display_name("fmnist_vae") == "F-MNIST VAE"
    assert config.display_name("cifar100_allcnnc") == "CIFAR-100 All-CNN-C"
    assert config.display_name("svhn_wrn164") == "SVHN Wide ResNet 16-4"
    assert config.display_name("two_d_rosenbrock") == "2D Rosenbrock"
    assert config.display_name("imagenet_inception_v3") == "ImageNet Inception-v3"
    assert config.split_testproblem_name("unknown_thing_x") == ("unknown", "thing_x")


def test_every_registered_problem_has_display_names():
    for name in _registry.list_testproblems():
        if "_" not in name:
            assert name in config.TP_NAMING, name
            continue
        data_set, model = config.split_testproblem_name(name)
        assert data_set in config.DATA_SET_NAMING, name
        assert model in config.TP_NAMING, name


def test_naming_dicts_are_live(monkeypatch):
    monkeypatch.setitem(config.DATA_SET_NAMING, "blobs", "Blobs")
    monkeypatch.setitem(config.TP_NAMING, "logreg", "Logistic Regression")
    assert config.display_name("blobs_logreg") == "Blobs Logistic Regression"


# ---------------------------------------------------------------------- tuner
class DevelopRunner(PTRunner):
    """A runner written for DeepOBS develop: no extra constructor arguments."""

    def __init__(self, optimizer_class, hyperparameter_names):
        super().__init__(optimizer_class, hyperparameter_names)

    def training(
        self,
        tproblem,
        hyperparams,
        num_epochs,
        print_train_iter,
        train_log_interval,
        tb_log,
        tb_log_dir,
    ):
        opt = self._optimizer_class(tproblem.net.parameters(), **hyperparams)
        lists = [[] for _ in range(6)]
        for epoch_count in range(num_epochs + 1):
            self.evaluate_all(epoch_count, num_epochs, tproblem, *lists)
            if epoch_count == num_epochs:
                break
            tproblem.train_init_op()
            while True:
                try:
                    opt.zero_grad()
                    loss, _ = tproblem.get_batch_loss_and_accuracy()
                    loss.backward()
                    opt.step()
                except StopIteration:
                    break
        keys = (
            "train_losses",
            "valid_losses",
            "test_losses",
            "train_accuracies",
            "valid_accuracies",
            "test_accuracies",
        )
        return {**dict(zip(keys, lists)), "minibatch_train_losses": []}


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """A results tree from DeepOBS' GridSearch, written with DeepOBS' argument names."""
    from deepobs.tuner import GridSearch

    out = tmp_path_factory.mktemp("results")
    hyperparams = {"lr": {"type": float}}
    tuner = GridSearch(
        torch.optim.SGD, hyperparams, grid={"lr": [0.01, 0.1]}, ressources=2, runner=DevelopRunner
    )
    torch.manual_seed(0)
    tuner.tune(
        "quadratic_deep",
        output_dir=str(out),
        num_epochs=1,
        batch_size=128,
        rerun_best_setting=True,
        skip_if_exists=True,
        l2_reg=0.0,
    )
    return out


def test_grid_search_with_develop_names_and_runner(tuned):
    folders = sorted((tuned / "quadratic_deep" / "SGD").iterdir())
    assert len(folders) == 2
    seeds = {f.name: len(list(f.glob("random_seed__*.json"))) for f in folders}
    assert sorted(seeds.values()) == [1, 10]  # the best setting was rerun with 9 more seeds
    lrs = sorted(
        json.loads(next(f.glob("*.json")).read_text())["optimizer_hyperparams"]["lr"]
        for f in folders
    )
    assert lrs == [0.01, 0.1]


def test_skip_if_exists_reaches_the_runner(tuned):
    from deepobs.tuner import GridSearch

    before = sorted(tuned.rglob("*.json"))
    tuner = GridSearch(
        torch.optim.SGD,
        {"lr": {"type": float}},
        grid={"lr": [0.01, 0.1]},
        ressources=2,
        runner=DevelopRunner,
    )
    tuner.tune(
        "quadratic_deep",
        output_dir=str(tuned),
        num_epochs=1,
        batch_size=128,
        rerun_best_setting=True,
        skip_if_exists=True,
        l2_reg=0.0,
    )
    assert sorted(tuned.rglob("*.json")) == before


def test_tuner_names():
    from deepobs import tuner
    from deepobs.pytorch import tuner as pt_tuner

    assert tuner.GridSearch is pt_tuner.GridSearch
    assert tuner.RandomSearch is pt_tuner.RandomSearch
    assert tuner.tuner_utils.rerun_setting is pt_tuner.rerun_setting
    with pytest.raises(ImportError, match="OptunaSearch"):
        from deepobs.tuner import GP  # noqa: F401


def test_random_search_accepts_develop_arguments():
    from deepobs.tuner import RandomSearch
    from deepobs.tuner.tuner_utils import log_uniform

    search = RandomSearch(
        torch.optim.SGD,
        {"lr": {"type": float}},
        distributions={"lr": log_uniform(-3, -1)},
        ressources=3,
        runner=DevelopRunner,
    )
    lrs = [s["lr"] for s in search._sample(42)]
    assert len(lrs) == 3 and all(1e-3 <= lr <= 1e-1 for lr in lrs)


# ---------------------------------------------------------------------- analyzer
def test_analyzer_functions_with_develop_arguments(tuned):
    from deepobs import analyzer

    optimizer_path = tuned / "quadratic_deep" / "SGD"
    fig, axes = analyzer.plot_optimizer_performance(str(optimizer_path), mode="final", show=False)
    assert len(axes) >= 2 and axes[0].lines
    with pytest.raises(ValueError, match="fig/ax"):
        analyzer.plot_optimizer_performance(str(optimizer_path), ax=axes, show=False)
    fig, ax = analyzer.plot_hyperparameter_sensitivity(str(optimizer_path), "lr", show=False)
    assert ax.lines or ax.collections
    perf = analyzer.get_performance_dictionary(str(optimizer_path), mode="final")
    assert perf["Hyperparameters"]["lr"] in (0.01, 0.1)
    assert analyzer.check_output(str(tuned)).ok
    with pytest.raises(ValueError, match="which"):
        analyzer.plot_optimizer_performance(str(optimizer_path), which="max", show=False)
    import matplotlib.pyplot as plt

    plt.close("all")
