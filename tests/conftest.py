"""Shared fixtures: every test starts from the same global RNG and config state."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings

from deepobs.pytorch import config

# Property-based tests: a small fixed budget by default and in CI (fast, reproducible);
# HYPOTHESIS_PROFILE=thorough for a few hundred examples per test.
_HYPOTHESIS_COMMON = {
    "deadline": None,  # no timing assertions
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("ci", max_examples=25, derandomize=True, **_HYPOTHESIS_COMMON)
settings.register_profile("thorough", max_examples=300, **_HYPOTHESIS_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
    saved = (
        config._data_dir,
        config._default_device,
        config._num_workers,
        config._is_deterministic,
    )
    yield
    torch.set_rng_state(torch_state)
    np.random.set_state(np_state)
    random.setstate(py_state)
    (config._data_dir, config._default_device, config._num_workers, config._is_deterministic) = (
        saved
    )


def pytest_addoption(parser):
    parser.addoption(
        "--run-download",
        action="store_true",
        help="run tests marked `download` (they need the network)",
    )


def pytest_collection_modifyitems(config, items):
    """Opt-in markers: `download` needs --run-download, `gpu` needs CUDA or MPS."""
    has_gpu = torch.cuda.is_available() or torch.backends.mps.is_available()
    run_download = config.getoption("--run-download")
    for item in items:
        # Only real markers count: `item.keywords` also holds parametrize ids such as "gpu".
        if item.get_closest_marker("download") and not run_download:
            item.add_marker(pytest.mark.skip(reason="needs the network: pass --run-download"))
        if item.get_closest_marker("gpu") and not has_gpu:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA or MPS device"))
