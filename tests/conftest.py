"""Shared fixtures: every test starts from the same global RNG and config state."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from deepobs.pytorch import config


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """One intra-op thread: the suite runs on small CPUs where threads fight each other."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _isolate_global_state(monkeypatch):
    """Restore RNGs and deepobs config after each test; never pick up a user data dir."""
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    py_state = random.getstate()
    monkeypatch.delenv(config.DATA_DIR_ENV, raising=False)
    saved = (config._data_dir, config._default_device, config._num_workers,
             config._is_deterministic)
    yield
    torch.set_rng_state(torch_state)
    np.random.set_state(np_state)
    random.setstate(py_state)
    (config._data_dir, config._default_device, config._num_workers,
     config._is_deterministic) = saved


def pytest_addoption(parser):
    parser.addoption("--run-download", action="store_true",
                     help="run tests marked `download` (they need the network)")


def pytest_collection_modifyitems(config, items):
    """Opt-in markers: `download` needs --run-download, `gpu` needs CUDA or MPS."""
    has_gpu = torch.cuda.is_available() or torch.backends.mps.is_available()
    run_download = config.getoption("--run-download")
    for item in items:
        if "download" in item.keywords and not run_download:
            item.add_marker(pytest.mark.skip(reason="needs the network: pass --run-download"))
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA or MPS device"))
