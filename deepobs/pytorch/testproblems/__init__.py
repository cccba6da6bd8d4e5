"""DeepOBS test problems, importable by name (``testproblems.quadratic_deep(batch_size=128)``).

Each public module of this package defines registered problem classes
(``@register_testproblem``). Assigning your own ``TestProblem`` subclass as an attribute of
this package (the DeepOBS 1.2 way) makes it findable by the runners under that name.
"""

from __future__ import annotations

import importlib
import pkgutil

from deepobs.pytorch.testproblems._registry import (
    ProblemTraits,
    TestProblemSpec,
    get_testproblem,
    get_testproblem_class,
    list_testproblems,
    problem_traits,
    register_testproblem,
)
from deepobs.pytorch.testproblems.testproblem import (
    TestProblem,
    UnregularizedTestproblem,
    WeightRegularizedTestproblem,
)

#: Public modules that define no problems (DeepOBS' module layout); imported on demand.
_NOT_PROBLEM_MODULES = frozenset({"testproblem", "testproblems_modules", "testproblems_utils"})


def _import_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name not in _NOT_PROBLEM_MODULES:
            importlib.import_module(f"{__name__}.{info.name}")


_import_all()
globals().update({name: get_testproblem_class(name) for name in list_testproblems()})

__all__ = [
    "ProblemTraits",
    "TestProblem",
    "TestProblemSpec",
    "UnregularizedTestproblem",
    "WeightRegularizedTestproblem",
    "get_testproblem",
    "get_testproblem_class",
    "list_testproblems",
    "problem_traits",
    "register_testproblem",
    *list_testproblems(),
]
