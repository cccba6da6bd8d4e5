"""Config: data directory precedence, device choice at call time, validation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
    assert isinstance(config.get_data_dir(), Path)


def test_default_device_is_cpu_here_and_settable():
    assert config.get_default_device() in {"cpu", "cuda", "mps"}
    config.set_default_device("cpu")
    assert config.get_default_device() == "cpu"
    config.set_default_device(None)


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "tpu"])
def test_bad_device_names_the_value(bad):
    with pytest.raises(ValueError, match="device"):
        config.validate_device(bad)


def test_num_workers_and_determinism():
    config.set_num_workers(2)
    assert config.get_num_workers() == 2
    with pytest.raises(ValueError, match="num_workers"):
        config.set_num_workers(-1)
    config.set_is_deterministic(False)
    assert config.get_is_deterministic() is False


def test_import_has_no_side_effects():
    code = (
        "import sys, deepobs.pytorch, deepobs.pytorch.testproblems, deepobs.pytorch.runners;"
        "from deepobs.pytorch import config;"
        "assert config._default_device is None;"
        "bad = [m for m in ('matplotlib', 'pandas', 'optuna') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
