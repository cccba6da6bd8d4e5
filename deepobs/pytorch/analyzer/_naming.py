"""Names the analyzer needs as data: test sets, panel titles, metric lists (reference §6, §7)."""

from __future__ import annotations

from deepobs.pytorch.testproblems._sets import PROBLEM_SETS

#: The named problem sets (DeepOBS' P1-P4 ``small``, P5-P8 ``large``, and the ``ladder``), in
#: the published column order; defined once in :mod:`deepobs.pytorch.testproblems._sets`.
TEST_SETS = PROBLEM_SETS
SMALL_TEST_SET = PROBLEM_SETS["small"]
LARGE_TEST_SET = PROBLEM_SETS["large"]

#: Panel titles of the DeepOBS 1.1 plots; other problems are titled by their name.
PROBLEM_TITLES = {
    "quadratic_deep": "Quadratic Deep",
    "mnist_vae": "MNIST - VAE",
    "fmnist_2c2d": "F-MNIST - CNN",
    "cifar10_3c3d": "CIFAR-10 - CNN",
    "fmnist_vae": "F-MNIST - VAE",
    "cifar100_allcnnc": "CIFAR 100 - All CNN C",
    "svhn_wrn164": "SVHN - Wide ResNet 16-4",
    "tolstoi_char_rnn": "Tolstoi - Char RNN",
}

#: Problems without an accuracy; their Performance is the test loss. Used only where a problem
#: has no results to look at (an empty panel); otherwise the results files decide.
LOSS_ONLY_PROBLEMS = frozenset(
    {"quadratic_deep", "mnist_vae", "fmnist_vae", "two_d_rosenbrock", "two_d_beale", "two_d_branin"}
)

#: The per-epoch lists of a results file, as (split, metric) -> JSON key.
CURVE_KEYS = {
    ("train", "loss"): "train_losses",
    ("valid", "loss"): "valid_losses",
    ("test", "loss"): "test_losses",
    ("train", "accuracy"): "train_accuracies",
    ("valid", "accuracy"): "valid_accuracies",
    ("test", "accuracy"): "test_accuracies",
}
KEY_TO_CURVE = {key: pair for pair, key in CURVE_KEYS.items()}

#: Column order of the DeepOBS tables: the three baselines first, then the rest by name.
BASELINE_ORDER = (
    "SGD",
    "GradientDescentOptimizer",
    "Momentum",
    "MomentumOptimizer",
    "Adam",
    "AdamOptimizer",
)


def problem_title(testproblem: str) -> str:
    """Display name of ``testproblem``.

    The DeepOBS 1.1 plot title of the eight benchmark problems, else the name built from the
    naming dicts of :mod:`deepobs.config` (``DATA_SET_NAMING``, ``TP_NAMING``:
    ``mnist_logreg`` -> ``MNIST Log. Reg.``).
    """
    if testproblem in PROBLEM_TITLES:
        return PROBLEM_TITLES[testproblem]
    try:
        from deepobs.config import display_name
    except ImportError:  # an older configuration module without the naming dicts
        return testproblem
    return display_name(testproblem)


def curve_key(curve: str) -> tuple[str, str]:
    """Parse a DeepOBS list name (``valid_accuracies``) into ``(split, metric)``.

    Raises:
        ValueError: if ``curve`` is not one of the six per-epoch lists.
    """
    if curve not in KEY_TO_CURVE:
        raise ValueError(f"Unknown metric {curve!r}. Valid metrics: {', '.join(KEY_TO_CURVE)}.")
    return KEY_TO_CURVE[curve]


def order_optimizers(names: list[str] | set[str]) -> list[str]:
    """Sort optimizer names as the DeepOBS tables do: SGD, Momentum, Adam, then alphabetical."""
    rank = {name: i for i, name in enumerate(BASELINE_ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))
