"""DeepOBS: a deep-learning optimizer benchmark suite, implemented in PyTorch."""

__version__ = "1.2.0"
