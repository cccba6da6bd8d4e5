"""The test-problem registry: each problem's defaults as data, looked up by name."""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass
from typing import Literal

Metric = Literal["test_loss", "test_accuracy"]


@dataclass(frozen=True)
class TestProblemSpec:
    """A test problem's metadata: what it trains on and its DeepOBS defaults.

    Attributes:
        name: Registry name (``cifar10_3c3d``); equal to the class name.
        dataset: Name of the data set in :mod:`deepobs.pytorch.datasets`.
        batch_size: Default batch size, or ``None`` if DeepOBS defines none.
        num_epochs: Default number of epochs, or ``None``.
        l2_reg: Default L2 factor, or ``None`` for an unregularised problem.
        has_accuracy: Whether the problem reports an accuracy.
        metric: The protocol's performance metric (``test_accuracy`` or ``test_loss``).
        summary: One line describing the problem (the class docstring's first line).
        stateful: Whether the problem carries state from batch to batch within a phase
            (the char-RNN's LSTM state): its batches must not be split or reordered.
        batch_independent_eval: Whether an evaluation loss is a mean of per-example terms
            that depend neither on the rest of the batch nor on random numbers, so that
            evaluation may run in batches of any size (false for the VAEs, which sample in
            every phase, and for stateful problems).
    """

    __test__ = False  # not a pytest test class

    name: str
    dataset: str
    batch_size: int | None
    num_epochs: int | None
    l2_reg: float | None
    has_accuracy: bool
    metric: Metric
    summary: str
    stateful: bool = False
    batch_independent_eval: bool = True


@dataclass(frozen=True)
class ProblemTraits:
    """What a runner may assume about a problem (see :func:`problem_traits`)."""

    stateful: bool
    batch_independent_eval: bool


_REGISTRY: dict[str, type] = {}


def register_testproblem(
    *,
    dataset: str,
    batch_size: int | None = None,
    num_epochs: int | None = None,
    l2_reg: float | None = None,
    has_accuracy: bool = True,
    metric: Metric | None = None,
    stateful: bool = False,
    batch_independent_eval: bool | None = None,
):
    """Class decorator: attach a :class:`TestProblemSpec` and register the class by name.

    ``batch_independent_eval`` defaults to ``not stateful``.

    Raises:
        ValueError: if the name is taken, the class has no docstring, or a stateful problem
            is declared batch-independent.
    """
    if batch_independent_eval is None:
        batch_independent_eval = not stateful
    if stateful and batch_independent_eval:
        raise ValueError(
            "A stateful test problem cannot have batch_independent_eval=True; "
            "leave batch_independent_eval unset."
        )

    def decorate(cls: type) -> type:
        name = cls.__name__
        if name in _REGISTRY:
            raise ValueError(f"A test problem is already registered under the name {name!r}.")
        doc = (cls.__doc__ or "").strip()
        if not doc:
            raise ValueError(f"Test problem {name!r} needs a docstring (its summary).")
        cls.spec = TestProblemSpec(
            name=name,
            dataset=dataset,
            batch_size=batch_size,
            num_epochs=num_epochs,
            l2_reg=l2_reg,
            has_accuracy=has_accuracy,
            metric=metric or ("test_accuracy" if has_accuracy else "test_loss"),
            summary=doc.splitlines()[0],
            stateful=stateful,
            batch_independent_eval=batch_independent_eval,
        )
        _REGISTRY[name] = cls
        return cls

    return decorate


def problem_traits(problem) -> ProblemTraits:
    """Traits of a problem (class or instance) that runners rely on.

    A class attribute ``stateful`` or ``batch_independent_eval`` set to a bool wins (user
    problems declare them this way); else the registry spec's value (inherited by subclasses
    of registered problems); else, for other classes, the traits are inferred: stateful if
    the class overrides ``_on_phase_start`` (where stateful problems reset their state),
    batch-independent if it is not stateful and overrides neither ``_loss_and_accuracy``
    nor ``_compute_loss_and_accuracy``.
    """
    from deepobs.pytorch.testproblems.testproblem import TestProblem

    cls = problem if isinstance(problem, type) else type(problem)
    spec = getattr(cls, "spec", None)  # a subclass of a registered problem inherits it
    stateful = getattr(cls, "stateful", None)
    if stateful is None:
        stateful = (
            spec.stateful
            if spec is not None
            else getattr(cls, "_on_phase_start", None) is not TestProblem._on_phase_start
        )
    independent = getattr(cls, "batch_independent_eval", None)
    if independent is None:
        if spec is not None:
            independent = spec.batch_independent_eval
        else:
            independent = not stateful and all(
                getattr(cls, name, None) is getattr(TestProblem, name)
                for name in ("_loss_and_accuracy", "_compute_loss_and_accuracy")
            )
    return ProblemTraits(stateful=bool(stateful), batch_independent_eval=bool(independent))


def list_testproblems(pattern: str = "*") -> list[str]:
    """Return the sorted names of registered problems that match a glob ``pattern``."""
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def get_testproblem_class(name: str) -> type:
    """Return the class of the problem ``name``.

    Problems a user sets as attributes of :mod:`deepobs.pytorch.testproblems` (the DeepOBS 1.2
    way to add one) are found too.

    Raises:
        ValueError: for an unknown name, with the closest registered names.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    from deepobs.pytorch import testproblems  # user-added attributes live on the package

    candidate = getattr(testproblems, name, None) if isinstance(name, str) else None
    if isinstance(candidate, type) and hasattr(candidate, "set_up"):
        return candidate
    raise ValueError(unknown_name_message(name, list_testproblems()))


def unknown_name_message(name: object, valid: list[str]) -> str:
    """Message for an unknown test-problem name, with close matches."""
    close = difflib.get_close_matches(str(name), valid, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"Unknown test problem {name!r}.{hint} Valid names: {', '.join(valid)}. See `deepobs list`."
    )


def get_testproblem(name: str, **kwargs):
    """Build the problem ``name``; ``kwargs`` go to its constructor (``batch_size``, ...)."""
    return get_testproblem_class(name)(**kwargs)
