"""Search spaces as data: a JSON object with one entry per hyperparameter.

Example (``space.json``)::

    {
      "lr":       {"min": 1e-5, "max": 1.0, "scaling": "log"},
      "momentum": {"min": 0.0, "max": 0.99},
      "nesterov": {"choices": [true, false]},
      "betas":    {"choices": [[0.9, 0.999], [0.95, 0.999]]},
      "steps":    {"min": 1, "max": 8, "type": "int"}
    }

* A **range** has ``min`` and ``max`` and ``scaling`` ``"log"`` or ``"linear"`` (default);
  ``"log"`` needs ``min > 0``. It is an integer range with ``"type": "int"`` (both bounds must
  then be integers), else a float range.
* ``"num": K`` on a range gives the grid of ``K`` points (log- or linear-spaced) used by the
  grid sampler: ``{"min": 1e-5, "max": 100, "scaling": "log", "num": 36}`` is the DeepOBS
  learning-rate grid.
* A **choice** has ``choices``: a list of JSON values; lists inside become tuples (Adam's
  ``betas``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_RANGE_KEYS = {"min", "max", "scaling", "type", "num"}
_PRIMITIVE = (bool, int, float, str, type(None))


@dataclass(frozen=True)
class Dimension:
    """One hyperparameter of a search space: a range or a set of choices."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple | None = None
    num: int | None = None

    @property
    def optuna_choices(self) -> list | None:
        """The choices as Optuna stores them: non-primitive values (tuples) as JSON text."""
        if self.choices is None or all(isinstance(c, _PRIMITIVE) for c in self.choices):
            return None if self.choices is None else list(self.choices)
        return [json.dumps(c) for c in self.choices]

    def suggest(self, trial):
        """Ask an Optuna trial for this hyperparameter's value."""
        if self.choices is not None:
            stored = self.optuna_choices
            return self.choices[stored.index(trial.suggest_categorical(self.name, stored))]
        if self.integer:
            return trial.suggest_int(self.name, self.low, self.high, log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def grid_values(self) -> list:
        """The values this hyperparameter takes on a grid (choices as Optuna stores them)."""
        if self.choices is not None:
            return self.optuna_choices
        if self.num is None:
            raise ValueError(
                f"Hyperparameter {self.name!r} is a range without grid points; add "
                f'"num": K to its entry (or give "choices") to use it on a grid.'
            )
        if self.log:
            points = np.logspace(math.log10(self.low), math.log10(self.high), self.num)
        else:
            points = np.linspace(self.low, self.high, self.num)
        # Rounding can put an end point a hair outside the range (Optuna then warns).
        points = np.clip(points, self.low, self.high)
        if self.integer:
            return sorted({int(round(p)) for p in points})
        return [float(p) for p in points]


class SearchSpace:
    """A search space: hyperparameter name -> :class:`Dimension`.

    Raises:
        ValueError: from :meth:`from_dict` for an entry that is not a valid range or choice
            (the message names the hyperparameter, the bad value and the valid form).
    """

    def __init__(self, dimensions: dict[str, Dimension]) -> None:
        if not dimensions:
            raise ValueError("The search space is empty; give at least one hyperparameter.")
        self.dimensions = dict(dimensions)
        self._json: dict = {}

    @classmethod
    def from_dict(cls, data: dict) -> SearchSpace:
        """Build a space from its JSON object (see the module docstring)."""
        if not isinstance(data, dict):
            raise ValueError(f"A search space is a JSON object, got {type(data).__name__}.")
        space = cls({name: _dimension(name, entry) for name, entry in data.items()})
        space._json = json.loads(json.dumps(data))
        return space

    @classmethod
    def load(cls, path: str | Path) -> SearchSpace:
        """Read a space from a JSON file."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"Search space file {str(path)!r} not found. Write one, e.g. "
                '{"lr": {"min": 1e-5, "max": 1.0, "scaling": "log"}}.'
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(
                f"Search space file {str(path)!r} is not valid JSON ({type(err).__name__}: "
                f"{err}). Write a JSON object, e.g. "
                '{"lr": {"min": 1e-5, "max": 1.0, "scaling": "log"}}.'
            ) from err
        except OSError as err:  # a folder, no permission
            raise ValueError(f"Search space file {str(path)!r} cannot be read: {err}.") from err
        try:
            return cls.from_dict(data)
        except ValueError as err:
            raise ValueError(f"Search space file {str(path)!r}: {err}") from err

    @property
    def names(self) -> list[str]:
        """The hyperparameters the space searches over."""
        return list(self.dimensions)

    def suggest(self, trial) -> dict:
        """One value per hyperparameter from an Optuna trial."""
        return {name: dim.suggest(trial) for name, dim in self.dimensions.items()}

    def grid(self) -> dict[str, list]:
        """Grid values per hyperparameter (for Optuna's grid sampler)."""
        return {name: dim.grid_values() for name, dim in self.dimensions.items()}

    def to_json(self) -> dict:
        """The space as its JSON object (as given)."""
        return self._json


def _dimension(name: str, entry) -> Dimension:
    if not isinstance(entry, dict):
        raise ValueError(
            f"Search space entry {name!r} must be an object such as "
            f'{{"min": 1e-5, "max": 1.0, "scaling": "log"}} or {{"choices": [...]}}, got '
            f"{entry!r}."
        )
    if "choices" in entry:
        return _choice(name, entry)
    unknown = sorted(set(entry) - _RANGE_KEYS)
    if unknown or "min" not in entry or "max" not in entry:
        raise ValueError(
            f"Search space entry {name!r} has keys {sorted(entry)}; a range needs 'min' and "
            f"'max' and may have 'scaling' ('log'/'linear'), 'type' ('int') and 'num'."
        )
    return _range(name, entry)


def _choice(name: str, entry: dict) -> Dimension:
    choices = entry["choices"]
    if set(entry) != {"choices"} or not isinstance(choices, list) or not choices:
        raise ValueError(
            f'Search space entry {name!r}: a choice is {{"choices": [v1, v2, ...]}} with a '
            f"non-empty list and no other keys, got {entry!r}."
        )
    return Dimension(name, choices=tuple(_tuples(c) for c in choices))


def _range(name: str, entry: dict) -> Dimension:
    low, high, num = entry["min"], entry["max"], entry.get("num")
    scaling, kind = entry.get("scaling", "linear"), entry.get("type", "float")
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (low, high)):
        raise ValueError(f"Search space entry {name!r}: min and max must be numbers: {entry!r}.")
    if not all(math.isfinite(v) for v in (low, high)):
        raise ValueError(
            f"Search space entry {name!r}: min and max must be finite numbers, got min={low!r}, "
            f"max={high!r}."
        )
    if scaling not in ("log", "linear"):
        raise ValueError(
            f"Search space entry {name!r}: scaling must be 'log' or 'linear', got {scaling!r}."
        )
    if kind not in ("float", "int"):
        raise ValueError(f"Search space entry {name!r}: type must be 'int' or 'float': {kind!r}.")
    if kind == "int" and not (isinstance(low, int) and isinstance(high, int)):
        raise ValueError(
            f"Search space entry {name!r}: an int range needs integer bounds, got min={low!r}, "
            f'max={high!r}. Write e.g. "min": 1, "max": 8.'
        )
    if not low < high:
        raise ValueError(f"Search space entry {name!r}: min must be < max, got {low!r}, {high!r}.")
    if scaling == "log" and low <= 0:
        raise ValueError(
            f"Search space entry {name!r}: log scaling needs min > 0, got min={low!r}. Use "
            'a positive lower bound (e.g. 1e-5) or "scaling": "linear".'
        )
    if num is not None and (isinstance(num, bool) or not isinstance(num, int) or num < 2):
        raise ValueError(f"Search space entry {name!r}: num must be an integer >= 2, got {num!r}.")
    integer = kind == "int"
    return Dimension(
        name,
        low if integer else float(low),
        high if integer else float(high),
        log=scaling == "log",
        integer=integer,
        num=num,
    )


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
