"""Every random state of a run: Python, NumPy, torch (CPU, every GPU) and the data loaders."""

from __future__ import annotations

import random

import numpy as np
import torch

_GENERATORS = ("generator", "transform_generator")


def _loader_generators(tproblem) -> dict[str, torch.Generator]:
    from deepobs.pytorch.runners._performance import data_loaders

    found = {}
    for split, loader in data_loaders(tproblem.data).items():
        for name in _GENERATORS:
            gen = getattr(loader, name, None)
            if isinstance(gen, torch.Generator):
                found[f"{split}.{name}"] = gen
    return found


def capture(tproblem) -> dict:
    """The random states (tensors and plain values)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states = {
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
        "torch": torch.get_rng_state(),
        "loaders": {k: g.get_state() for k, g in _loader_generators(tproblem).items()},
    }
    if tproblem.device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore(tproblem, states: dict) -> None:
    """Set the random states from :func:`capture`."""
    random.setstate(_as_tuples(states["python"]))
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    if "cuda" in states:
        torch.cuda.set_rng_state_all(states["cuda"])
    generators = _loader_generators(tproblem)
    for key, gen_state in states["loaders"].items():
        generators[key].set_state(gen_state)


def _as_tuples(value):
    # random.setstate wants tuples; a saved tuple may come back as a list.
    return tuple(_as_tuples(v) for v in value) if isinstance(value, list | tuple) else value
