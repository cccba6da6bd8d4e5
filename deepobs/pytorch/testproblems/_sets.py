"""Named sets of test problems: DeepOBS' benchmark sets and the problem ladder.

* ``small`` and ``large``: DeepOBS' benchmark sets P1–P4 and P5–P8 (reference §6), in the
  published column order.
* ``ladder``: one problem per step of cost, from a seconds-long sanity check to a small
  language model — a noisy quadratic, MNIST-1D's MLP, a CNN on Fashion-MNIST, a CNN on
  CIFAR-10, ResNet-32 on CIFAR-10 and a character transformer on Penn Treebank. The last
  three rungs need a GPU for full runs. ``mnist1d_mlp``, ``cifar10_resnet32`` and
  ``ptb_transformer`` are additions to DeepOBS without published DeepOBS baselines.

:data:`LADDER_COST` estimates each rung's cost; see there for how it was measured.
"""

from __future__ import annotations

from typing import NamedTuple

#: Problem sets by name; every name is a registered problem.
PROBLEM_SETS: dict[str, tuple[str, ...]] = {
    "small": ("quadratic_deep", "mnist_vae", "fmnist_2c2d", "cifar10_3c3d"),
    "large": ("fmnist_vae", "cifar100_allcnnc", "svhn_wrn164", "tolstoi_char_rnn"),
    "ladder": (
        "quadratic_deep",
        "mnist1d_mlp",
        "fmnist_2c2d",
        "cifar10_3c3d",
        "cifar10_resnet32",
        "ptb_transformer",
    ),
}


class RungCost(NamedTuple):
    """Estimated cost of one full run of a ladder problem at its defaults.

    Attributes:
        steps: Training steps (epochs × steps per epoch).
        cpu_step_s: Seconds per training step (forward, backward, SGD step) on one CPU
            thread, measured on random inputs of the default batch size.
        cpu_hours: ``steps * cpu_step_s`` in hours (training only; the evaluations after
            each epoch add roughly a quarter for the image problems).
    """

    steps: int
    cpu_step_s: float
    cpu_hours: float


def _rung(steps: int, cpu_step_s: float) -> RungCost:
    return RungCost(steps, cpu_step_s, round(steps * cpu_step_s / 3600, 3))


#: Estimated cost per ladder rung. Step times: one thread of a shared 2-core x86 machine that
#: was heavily loaded at the time (load average about 9), PyTorch 2.x, float32, median of a
#: few steps after a warm-up on random inputs; a dedicated core is likely three to four times
#: faster. GPU times were not measured: the last three rungs are meant for a GPU, where they
#: take minutes (CNNs) to hours (the transformer); their step counts are the better guide.
LADDER_COST: dict[str, RungCost] = {
    "quadratic_deep": _rung(100 * 7, 0.001),  # 1,000 points / 128
    "mnist1d_mlp": _rung(200 * 30, 0.002),  # 3,000 signals / 100
    "fmnist_2c2d": _rung(100 * 390, 1.8),  # 50,000 images / 128
    "cifar10_3c3d": _rung(100 * 312, 2.5),  # 40,000 images / 128
    "cifar10_resnet32": _rung(200 * 312, 10.0),  # 40,000 images / 128
    "ptb_transformer": _rung(16 * 303, 160.0),  # about 5.0 M characters / (64 * 256)
}


def problem_set(name: str) -> tuple[str, ...]:
    """Return the problems of the set ``name`` (``"small"``, ``"large"`` or ``"ladder"``).

    Raises:
        ValueError: for an unknown set name.
    """
    if name not in PROBLEM_SETS:
        raise ValueError(
            f"Unknown problem set {name!r}; valid sets: {', '.join(PROBLEM_SETS)}. "
            "Or pass a list of problem names."
        )
    return PROBLEM_SETS[name]
