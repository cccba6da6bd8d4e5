"""Registry: lookup, suggestions, duplicates, user problems as attributes, every problem."""

from __future__ import annotations

import warnings

import pytest
import torch

from deepobs.pytorch import datasets, testproblems
from deepobs.pytorch.testproblems import _registry, list_testproblems, register_testproblem


def _generated(name: str) -> bool:
    cls = datasets.DATASETS.get(testproblems.get_testproblem_class(name).spec.dataset)
    return cls is not None and not cls.requires_files


DATA_FREE = [n for n in list_testproblems() if _generated(n)]


def test_list_and_pattern():
    assert "quadratic_deep" in list_testproblems()
    assert list_testproblems("two_d_*") == ["two_d_beale", "two_d_branin", "two_d_rosenbrock"]


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="Did you mean 'quadratic_deep'"):
        testproblems.get_testproblem("quadratic_dep")


def test_duplicate_registration_raises():
    with pytest.raises(ValueError, match="already registered"):

        @register_testproblem(dataset="quadratic")
        class quadratic_deep(testproblems.TestProblem):  # noqa: N801
            """Duplicate."""


def test_attribute_access_and_spec():
    cls = testproblems.quadratic_deep
    assert cls is testproblems.get_testproblem_class("quadratic_deep")
    spec = cls.spec
    assert (spec.batch_size, spec.num_epochs, spec.metric) == (128, 100, "test_loss")
    assert not spec.has_accuracy and spec.l2_reg is None


def test_user_problem_set_as_package_attribute(monkeypatch):
    class my_problem(testproblems.quadratic_deep):  # noqa: N801
        """A user's problem."""

    my_problem.spec = None
    monkeypatch.setattr(testproblems, "my_problem", my_problem, raising=False)
    assert testproblems.get_testproblem_class("my_problem") is my_problem
    assert "my_problem" not in _registry._REGISTRY


@pytest.mark.parametrize("name", DATA_FREE)
def test_every_data_free_problem(name):
    cls = testproblems.get_testproblem_class(name)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        problem = cls(batch_size=cls.spec.batch_size or 16, device="cpu")
    problem.set_up()
    for init in ("train_init_op", "train_eval_init_op", "valid_init_op", "test_init_op"):
        getattr(problem, init)()
        loss, acc = problem.get_batch_loss_and_accuracy()
        assert loss.ndim == 0 and torch.isfinite(loss)
        assert isinstance(acc, float) and 0.0 <= acc <= 1.0
        if not problem.spec.has_accuracy:
            assert acc == 0.0
        if init == "train_init_op":
            loss.backward()
            trainable = [p for p in problem.model.parameters() if p.requires_grad]
            assert trainable and all(p.grad is not None for p in trainable)
    problem.train_init_op()
    per_example, _ = problem.get_batch_loss_and_accuracy(reduction="none")
    assert per_example.shape == (problem.batch_size,)
