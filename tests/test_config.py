"""Config: data directory precedence, device choice at call time, validation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from deepobs.pytorch import config


def test_data_dir_precedence(monkeypatch, tmp_path):
    assert config.get_data_dir() == Path("data")
    monkeypatch.setenv(config.DATA_DIR_ENV, str(tmp_path / "env"))
    assert config.get_data_dir() == tmp_path / "env"
    config.set_data_dir(tmp_path / "explicit")
    assert config.get_data_dir() == tmp_path / "explicit"
    assert config.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    config.set_data_dir(None)
    assert config.get_data_dir() == tmp_path / "env"


def test_windows_style_path_is_kept_as_path():
    config.set_data_dir("C:\\data\\deepobs")
    assert config.get_data_dir() == Path("C:\\data\\deepobs")
    assert str(config.get_data_dir()) == str(Path("C:\\data\\deepobs"))


def test_data_dir_expands_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    config.set_data_dir("~/data_deepobs")
    assert config.get_data_dir() == tmp_path / "data_deepobs"
    monkeypatch.setenv(config.DATA_DIR_ENV, "~/from_env")
    config.set_data_dir(None)
    assert config.get_data_dir() == tmp_path / "from_env"


def test_default_device_is_chosen_when_asked_and_settable(monkeypatch):
    mps = getattr(torch.backends, "mps", None)
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert config.get_default_device() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert config.get_default_device() == "cuda"  # chosen at call time, not at import
    config.set_default_device("cpu")
    assert config.get_default_device() == "cpu"
    config.set_default_device(None)
    assert config.get_default_device() == "cuda"


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "tpu"])
def test_bad_device_names_the_value(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        config.validate_device(bad)


def test_num_workers_and_determinism():
    config.set_num_workers(2)
    assert config.get_num_workers() == 2
    with pytest.raises(ValueError, match="num_workers"):
        config.set_num_workers(-1)
    assert config.configured_num_workers() == 2
    config.set_num_workers(None)
    assert config.configured_num_workers() is None
    assert config.get_num_workers() == config.default_num_workers()
    config.set_is_deterministic(False)
    assert config.get_is_deterministic() is False


def test_apply_determinism_sets_cudnn(monkeypatch):
    cudnn = torch.backends.cudnn
    monkeypatch.setattr(cudnn, "deterministic", cudnn.deterministic)
    monkeypatch.setattr(cudnn, "benchmark", cudnn.benchmark)
    config.set_is_deterministic(False)
    config.apply_determinism()
    assert (cudnn.deterministic, cudnn.benchmark) == (False, True)
    config.set_is_deterministic(True)
    config.apply_determinism()
    assert (cudnn.deterministic, cudnn.benchmark) == (True, False)


def test_import_has_no_side_effects():
    code = (
        "import sys, deepobs.pytorch, deepobs.pytorch.testproblems, deepobs.pytorch.runners;"
        "from deepobs.pytorch import config;"
        "assert config._default_device is None;"
        "bad = [m for m in ('matplotlib', 'pandas', 'optuna') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
