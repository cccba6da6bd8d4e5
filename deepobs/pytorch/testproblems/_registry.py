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


_REGISTRY: dict[str, type] = {}


def register_testproblem(
    *,
    dataset: str,
    batch_size: int | None = None,
    num_epochs: int | None = None,
    l2_reg: float | None = None,
    has_accuracy: bool = True,
    metric: Metric | None = None,
):
    """Class decorator: attach a :class:`TestProblemSpec` and register the class by name.

    Raises:
        ValueError: if the name is taken, or the class has no docstring.
    """

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
        )
        _REGISTRY[name] = cls
        return cls

    return decorate


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
        f"Unknown test problem {name!r}.{hint} "
        f"Valid names: {', '.join(valid)}. See `deepobs list`."
    )


def get_testproblem(name: str, **kwargs):
    """Build the problem ``name``; ``kwargs`` go to its constructor (``batch_size``, ...)."""
    return get_testproblem_class(name)(**kwargs)
