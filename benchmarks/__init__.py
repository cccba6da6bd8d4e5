"""Benchmarks of the deepobs harness itself (not part of the test suite).

``python -m benchmarks.harness [--device cpu|cuda] [--quick]`` measures the runner's overhead
over a bare PyTorch loop, the speed-up of the in-memory data path over a DeepOBS-1.2-style
torchvision pipeline, and epoch and evaluation times of the benchmark problems. Results:
``benchmarks/RESULTS.md``.
"""
