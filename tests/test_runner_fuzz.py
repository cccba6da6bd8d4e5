"""Fuzzed ``StandardRunner.run`` keywords: a finished run with its file, or one clear error."""

from __future__ import annotations

import json
import math
import os

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepobs.pytorch.runners import StandardRunner

ERRORS = (ValueError, TypeError, FileNotFoundError, PermissionError, NotADirectoryError)
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**41), 2**41),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["../x", "/abs", "fixed", "bf16", ".."]),
    st.lists(st.integers(-2, 3), max_size=3),
)
KEYWORDS = {
    "batch_size": st.one_of(st.sampled_from([1000, 200, 128]), ODD),
    "random_seed": st.one_of(st.integers(0, 2**32 - 1), ODD),
    "l2_reg": ODD,
    "train_log_interval": st.one_of(st.integers(1, 20), ODD),
    "data_order": st.one_of(st.sampled_from(["reshuffle", "fixed"]), ODD),
    "grad_accumulation": st.one_of(st.sampled_from([1, 2]), ODD),
    "lr": st.one_of(st.floats(1e-4, 1.0), ODD),
    "optimizer_name": st.one_of(st.sampled_from(["SGD", "Mom"]), ODD),
}


#: Examples per run: small in the fast suite; e.g. DEEPOBS_FUZZ_EXAMPLES=300 for a local sweep.
EXAMPLES = int(os.environ.get("DEEPOBS_FUZZ_EXAMPLES", "40"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.fixed_dictionaries({}, optional=KEYWORDS))
def test_every_outcome_is_a_result_or_one_clear_error(tmp_path_factory, kwargs):
    out = tmp_path_factory.mktemp("fuzz")
    kwargs = dict(kwargs)
    lr = kwargs.pop("lr", 0.01)
    name = kwargs.pop("optimizer_name", None)
    try:
        runner = StandardRunner(torch.optim.SGD, {"lr": {"type": float}}, optimizer_name=name)
        result = runner.run(
            testproblem="quadratic_deep",
            hyperparams={"lr": lr},
            num_epochs=1,
            output_dir=out,
            device="cpu",
            **kwargs,
        )
    except ERRORS as err:
        message = str(err)
        assert "\n" not in message and len(message) < 400, message
        assert not list(out.rglob("*.json")), "an error after training lost a run"
        return
    assert runner.last_results_path.is_file()
    assert runner.last_results_path.resolve().is_relative_to(out.resolve())
    assert json.loads(runner.last_results_path.read_text()) == result
    finite = [v for v in result["test_losses"] if v is not None]
    assert all(math.isfinite(v) for v in finite)
