"""Names the analyzer needs as data: test sets, panel titles, metric lists (reference §6, §7)."""

from __future__ import annotations

#: The DeepOBS benchmark sets: P1-P4 (small) and P5-P8 (large), in the published column order.
SMALL_TEST_SET = ("quadratic_deep", "mnist_vae", "fmnist_2c2d", "cifar10_3c3d")
LARGE_TEST_SET = ("fmnist_vae", "cifar100_allcnnc", "svhn_wrn164", "tolstoi_char_rnn")
TEST_SETS = {"small": SMALL_TEST_SET, "large": LARGE_TEST_SET}

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
    """Panel title of ``testproblem`` (the DeepOBS display name where one exists)."""
    return PROBLEM_TITLES.get(testproblem, testproblem)


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
