"""Sampling distributions and the DeepOBS learning-rate grid."""

from __future__ import annotations

import numpy as np

#: The DeepOBS protocol's learning rates: ``10**(-5 + 0.2 k)``, k = 0..35 (1e-5 ... 1e2).
DEEPOBS_LR_EXPONENTS = (-5.0, 2.0, 36)


def deepobs_lr_grid() -> list[float]:
    """The 36 log-spaced learning rates of the DeepOBS protocol, 1e-5 to 1e2.

    Equal to ``np.logspace(-5, 2, 36)``, so folder names match DeepOBS results
    (``lr__1.e-05``, ``lr__1.5848931925e-05``, ...).
    """
    low, high, num = DEEPOBS_LR_EXPONENTS
    return [float(v) for v in np.logspace(low, high, int(num))]


class log_uniform:  # noqa: N801 -- the DeepOBS name
    """``base ** U(a, b)``: log-uniform between ``base**a`` and ``base**b``.

    As in DeepOBS, ``a`` and ``b`` are exponents: ``log_uniform(-5, 2)`` samples learning rates
    between 1e-5 and 1e2. Works as a distribution of :class:`~deepobs.pytorch.tuner.RandomSearch`.

    Args:
        a: Lower exponent.
        b: Upper exponent (> ``a``).
        base: Base of the exponent.

    Raises:
        ValueError: if ``b <= a`` or ``base <= 0``.
    """

    def __init__(self, a: float, b: float, base: float = 10) -> None:
        if not b > a:
            raise ValueError(f"log_uniform needs a < b (exponents), got a={a!r}, b={b!r}.")
        if not base > 0:
            raise ValueError(f"log_uniform needs a positive base, got {base!r}.")
        self.a, self.b, self.base = float(a), float(b), float(base)

    def rvs(self, size: int | None = None, random_state=None):
        """Draw ``size`` samples (one float if ``None``); NumPy's global RNG by default."""
        if isinstance(random_state, int):
            random_state = np.random.RandomState(random_state)
        rng = np.random if random_state is None else random_state
        exponents = rng.uniform(self.a, self.b, size)
        values = np.power(self.base, exponents)
        return float(values) if size is None else values

    def __repr__(self) -> str:
        return f"log_uniform({self.a:g}, {self.b:g}, base={self.base:g})"
