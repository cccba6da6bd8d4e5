"""The measurements of the benchmark harness; each returns plain numbers for the JSON file."""

from __future__ import annotations

import random
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import transforms as T
from torchvision.datasets import CIFAR10

from deepobs.pytorch import config, datasets, testproblems
from deepobs.pytorch.datasets import _augment
from deepobs.pytorch.runners import StandardRunner
from deepobs.pytorch.runners._cost import synchronize

SGD = {"lr": {"type": float}}


class _UncheckedCIFAR10(CIFAR10):
    """torchvision's CIFAR-10 reader without MD5 checks (for fake files only)."""

    def _check_integrity(self) -> bool:
        return True

    def _load_meta(self) -> None:
        self.classes = [str(i) for i in range(10)]


class ProfilingRunner(StandardRunner):
    """The standard runner, with its evaluations timed (or skipped, to time training only).

    Args:
        skip_eval: Replace every evaluation but the last by placeholders; the last evaluates
            the test split twice and times the second pass.
    """

    def __init__(self, *args, skip_eval: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.skip_eval, self.eval_times, self.test_eval = skip_eval, [], None

    def evaluate_all(self, epoch, num_epochs, tproblem, *lists) -> None:
        """Time the evaluations (see the class docstring)."""
        if not self.skip_eval:
            start = time.perf_counter()
            super().evaluate_all(epoch, num_epochs, tproblem, *lists)
            self.eval_times.append(time.perf_counter() - start)
            return
        if epoch == num_epochs:
            self.evaluate(tproblem, "TEST")  # warm-up pass
            start = time.perf_counter()
            self.evaluate(tproblem, "TEST")
            loader = tproblem.data.test_loader
            self.test_eval = (time.perf_counter() - start, len(loader) * loader.batch_size)
        for values in lists:
            values.append(0.0)


# ------------------------------------------------------------------------ data pipeline
def reference_pipeline(data_dir, source: str, batch_size: int, workers: int, device) -> DataLoader:
    """DeepOBS 1.2's CIFAR-10 training data: torchvision data set, PIL transforms, DataLoader."""
    transform = T.Compose(
        [
            T.Pad(2),
            T.RandomCrop(32),
            T.RandomHorizontalFlip(),
            T.ColorJitter(
                brightness=_augment.BRIGHTNESS,
                contrast=_augment.CONTRAST,
                saturation=_augment.SATURATION,
            ),
            T.ToTensor(),
            T.Normalize(datasets.cifar10.mean, datasets.cifar10.std),
        ]
    )
    cls = CIFAR10 if source == "real" else _UncheckedCIFAR10
    data = cls(str(data_dir), train=True, transform=transform)
    return DataLoader(
        data,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        pin_memory=torch.device(device).type == "cuda",
    )


def images_per_second(loader, n_batches: int, device) -> float:
    """Throughput of ``loader`` (batches moved to ``device``), after its first batch."""
    it = iter(loader)
    next(it)  # worker start-up and first-batch costs are not steady-state throughput
    start, n = time.perf_counter(), 0
    for _ in range(n_batches):
        x, _ = (t.to(device, non_blocking=True) for t in next(it))
        n += len(x)
    synchronize(torch.device(device))
    return n / (time.perf_counter() - start)


def pipeline_speedup(data: dict, device, n_batches: int, reps: int) -> dict:
    """Images/s of the fast path and of the DeepOBS 1.2 pipeline (medians of interleaved reps)."""
    fast = datasets.cifar10(128, data_dir=data["data_dir"]).train_loader.to(device)
    rates = {"fast": [], "reference_workers_0": []}
    workers = config.get_num_workers()
    if workers:
        rates[f"reference_workers_{workers}"] = []
    images_per_second(fast, n_batches, device)  # warm-up
    for _ in range(reps):
        rates["fast"].append(images_per_second(fast, n_batches, device))
        for key in list(rates)[1:]:
            loader = reference_pipeline(
                data["data_dir"], data["source"], 128, int(key.rsplit("_", 1)[1]), device
            )
            rates[key].append(images_per_second(loader, n_batches, device))
    medians = {k: statistics.median(v) for k, v in rates.items()}
    return {
        "images_per_second": medians,
        "speedup": {k: medians["fast"] / v for k, v in medians.items() if k != "fast"},
        "batch_size": 128,
        "batches": n_batches,
        "reps": reps,
    }


# ------------------------------------------------------------------------ runner overhead
def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def bare_loop(name: str, batch_size: int, data_dir, device, lr: float, epochs: int, seed: int = 42):
    """Hand-written training epochs on the problem's model and in-memory tensors.

    Returns:
        Seconds per step, number of steps and the first step's loss.
    """
    _seed(seed)  # the runner's seeding: same initial model, data order and augmentation
    tproblem = getattr(testproblems, name)(batch_size, device=device, data_dir=data_dir)
    tproblem.set_up()
    model, loader = tproblem.model, tproblem.data.train_loader
    images, labels = loader.tensors
    l2 = tproblem.l2_reg or 0.0
    decayed = tproblem.regularization_groups.get(l2, []) if l2 else []
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    first, steps = None, len(loader)
    synchronize(torch.device(device))
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=loader.generator).to(device)
        for i in range(steps):
            idx = order[i * batch_size : (i + 1) * batch_size]
            x, y = images.index_select(0, idx), labels.index_select(0, idx)
            if loader.transform is not None:
                x, y = loader.transform([x, y], loader.transform_generator)
            opt.zero_grad()
            out = model(x)
            if name == "quadratic_deep":  # W (theta - x) against zero targets (MSE)
                loss = F.mse_loss(out, torch.zeros_like(out))
            else:
                loss = F.cross_entropy(out, y)
            if decayed:
                loss = loss + 0.5 * l2 * torch.stack([p.square().sum() for p in decayed]).sum()
            loss.backward()
            opt.step()
            first = loss.detach() if first is None else first
        first_loss = first.item()  # one sync per epoch, as the runner's
    return (time.perf_counter() - start) / (steps * epochs), steps * epochs, first_loss


def runner_epochs(
    name: str, batch_size: int, data_dir, device, lr: float, epochs: int, seed: int = 42
):
    """StandardRunner training epochs (evaluations skipped): seconds per step, steps, loss."""
    runner = ProfilingRunner(torch.optim.SGD, SGD, skip_eval=True)
    result = runner.run(
        testproblem=name,
        hyperparams={"lr": lr},
        batch_size=batch_size,
        num_epochs=epochs,
        random_seed=seed,
        data_dir=data_dir,
        no_logs=True,
        device=str(device),
        train_log_interval=10,
    )
    cost = result["meta"]["cost"]
    return (
        cost["train_time_s"] / cost["train_steps"],
        cost["train_steps"],
        result["minibatch_train_losses"][0],
    )


def runner_overhead(
    name: str, batch_size: int, data: dict, device, reps: int, epochs: int = 1, lr: float = 0.01
) -> dict:
    """StandardRunner seconds per step over a bare loop's: paired repetitions, medians.

    The two alternate (runner first in even repetitions, bare loop first in odd ones), so
    that slow drifts of a shared machine cancel; the ratio is the median of the per-pair
    ratios.
    """
    args = (name, batch_size, data["data_dir"], device, lr, epochs)
    runner_epochs(*args), bare_loop(*args)  # warm-up (allocator, lazy initialisation)
    runner_times, bare_times, ratios = [], [], []
    for rep in range(reps):
        first, second = (runner_epochs, bare_loop) if rep % 2 == 0 else (bare_loop, runner_epochs)
        a, b = first(*args), second(*args)
        (t_runner, steps, runner_loss), (t_bare, _, bare_loss) = (a, b) if rep % 2 == 0 else (b, a)
        runner_times.append(t_runner)
        bare_times.append(t_bare)
        ratios.append(t_runner / t_bare)
    return {
        "runner_s_per_step": statistics.median(runner_times),
        "bare_s_per_step": statistics.median(bare_times),
        "ratio": statistics.median(ratios),
        "steps_per_rep": steps,
        "reps": reps,
        "same_first_loss": abs(runner_loss - bare_loss) <= 1e-6 * max(1.0, abs(bare_loss)),
        "ratios": ratios,
    }


# ------------------------------------------------------------------------ problems
def problem_times(name: str, data: dict, device, full_epochs: bool, **options) -> dict:
    """Seconds per training step and per evaluated example of ``name`` at its default batch.

    In quick mode (``full_epochs=False``) two short epochs run on the given (small) data, the
    second is timed, and evaluation is timed on the test split; the caller extrapolates to
    the real sizes. Otherwise one full epoch and all evaluations run and are timed.
    """
    spec = getattr(testproblems, name).spec
    runner = ProfilingRunner(torch.optim.SGD, SGD, skip_eval=not full_epochs)
    result = runner.run(
        testproblem=name,
        hyperparams={"lr": 0.01},
        num_epochs=2 - full_epochs,
        data_dir=data["data_dir"],
        no_logs=True,
        device=str(device),
        **options,
    )
    epochs, steps = result["meta"]["epoch_wall_times_s"], result["meta"]["cost"]["train_steps"]
    per_step = epochs[-1] / (steps / len(epochs))
    out = {
        "batch_size": spec.batch_size,
        "s_per_step": per_step,
        "options": options,
        "eval_chunk_sizes": result["meta"]["performance_options"]["eval_chunk_sizes"],
        "peak_device_memory_bytes": result["meta"]["cost"]["peak_device_memory_bytes"],
    }
    if full_epochs:
        out.update(epoch_s=epochs[-1], eval_s=statistics.median(runner.eval_times[1:]))
    else:
        seconds, examples = runner.test_eval
        out.update(s_per_eval_example=seconds / examples)
    return out
