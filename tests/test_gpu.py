"""CUDA checks: every problem trains and evaluates on the GPU as on the CPU, with each option.

Run on a GPU machine by ``python -m benchmarks.device_check --device cuda`` (or
``pytest -m gpu tests/test_gpu.py``); skipped without CUDA. Every registered problem runs one
short epoch (a few steps of SGD on tiny fake data in the real formats) and the N+1
evaluations with the same seed:

* CUDA float32 against the CPU: the first evaluation (before any step; same initial model,
  built on the CPU and moved) of every problem but the VAEs (they sample noise in
  evaluation, from the device's generator), and the whole run where nothing random happens in
  training (no augmentation, dropout or sampling): relative ``FP32_RTOL`` (cuDNN may use TF32
  for convolutions; the CPU does not).
* ``amp="bf16"`` and ``channels_last`` against CUDA float32 (same device, same random
  streams): the first evaluation within ``BF16_RTOL`` / ``FP32_RTOL`` for every problem;
  all curves finite.
* ``compile=True`` on :data:`COMPILED` (compiling every problem would take far longer than
  the device check's five minutes): whole curves against CUDA float32 within ``FP32_RTOL``.
* Data-parallel with NCCL, world size 1 (``torchrun`` variables, a subprocess): the curves of
  a plain CUDA run, within float rounding.
* Checkpoint/resume on CUDA: an interrupted and resumed run of a problem with dropout (CUDA
  random numbers in every step) equals the uninterrupted run bit for bit.

The check functions take the device as an argument, so ``device_check --device cpu --smoke``
runs a few of them on the CPU (``DEEPOBS_CHECK_DEVICE``).
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_image_data import SHAPES, write_fake

from deepobs.pytorch import datasets, testproblems
from deepobs.pytorch.datasets._image import ImageDataSet
from deepobs.pytorch.runners import StandardRunner

DEVICE = os.environ.get("DEEPOBS_CHECK_DEVICE", "cuda")
FP32_RTOL, FP32_ATOL = 2e-3, 1e-4
BF16_RTOL, BF16_ATOL = 5e-2, 1e-2
ACC_ATOL = 0.07  # two of 32 evaluated examples
#: Problems also checked with ``compile=True`` (an MLP, a CNN with augmentation, a quadratic).
COMPILED = ("quadratic_deep", "mnist_mlp", "cifar10_3c3d")
#: Small batch sizes for the tiny fake data (by data set; default 8).
BATCH = {"imagenet": 2, "food101": 2, "ptb": 2, "tolstoi": 2, "quadratic": 32, "two_d": 128}
#: Learning rates (by data set; default 0.01): the 2-D functions start at gradients of ~1e6.
LR = {"two_d": 1e-7}
EVAL_KEYS = ("train_losses", "valid_losses", "test_losses")
CURVES = (
    *EVAL_KEYS,
    "minibatch_train_losses",
    "train_accuracies",
    "valid_accuracies",
    "test_accuracies",
)
SGD = {"lr": {"type": float}}

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        DEVICE.startswith("cuda") and not torch.cuda.is_available(), reason="needs CUDA"
    ),
]


# ------------------------------------------------------------------ fake data of every set
def _write_jpegs(folder: Path, k: int, n: int, suffix: str) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image = Image.new("RGB", (48, 40), ((60 * k) % 256, 90, 200 - 50 * k))
        image.putpixel((i, 0), (255, 255, 255))
        image.save(folder / f"img_{i}{suffix}", quality=95)


def _write_imagenet(root: Path) -> None:
    for k in range(3):
        _write_jpegs(root / "imagenet" / "train" / f"n0000000{k}", k, 4, ".JPEG")
        _write_jpegs(root / "imagenet" / "val" / f"n0000000{k}", k, 2, ".JPEG")


def _write_food101(root: Path) -> None:
    meta = {"train": {}, "test": {}}
    for k, dish in enumerate(("apple_pie", "bibimbap", "churros")):
        _write_jpegs(root / "food-101" / "images" / dish, k, 6, ".jpg")
        ids = [f"{dish}/img_{i}" for i in range(6)]
        meta["train"][dish], meta["test"][dish] = ids[:4], ids[4:]
    (root / "food-101" / "meta").mkdir(parents=True)
    for split, entries in meta.items():
        (root / "food-101" / "meta" / f"{split}.json").write_text(json.dumps(entries))


def _write_ptb(root: Path) -> None:
    rng = np.random.RandomState(0)
    words = ["the", "market", "n't", "shares", "<unk>", "co.", "a", "of", "N"]
    (root / "ptb").mkdir(parents=True)
    for split, n in (("train", 300), ("valid", 40), ("test", 40)):
        lines = (" " + " ".join(rng.choice(words, rng.randint(3, 12))) + " \n" for _ in range(n))
        (root / "ptb" / f"ptb.{split}.txt").write_text("".join(lines), encoding="utf-8")


def _write_tolstoi(root: Path) -> None:
    ids = np.cumsum(np.random.RandomState(0).randint(1, 3, 6000) * 5) % 83
    (root / "tolstoi").mkdir(parents=True)
    np.save(root / "tolstoi" / "train.npy", ids[:5000])
    np.save(root / "tolstoi" / "test.npy", ids[5000:])


def write_fake_data(dataset: str, root: Path) -> None:
    """Write tiny fake files of ``dataset`` in its real format under ``root`` (if it has files).

    Raises:
        ValueError: for a data set this module cannot fake (add a writer here).
    """
    cls = getattr(datasets, dataset)
    if not cls.requires_files or dataset == "mnist1d":  # generated (mnist1d: locally, cached)
        return
    if dataset in SHAPES:
        write_fake(dataset, root, 32, 16, seed=0, learnable=True)  # 2 steps of 8
        return
    writers = {
        "imagenet": _write_imagenet,
        "food101": _write_food101,
        "ptb": _write_ptb,
        "tolstoi": _write_tolstoi,
    }
    if dataset not in writers:
        raise ValueError(f"No fake writer for data set {dataset!r}; add one to tests/test_gpu.py.")
    writers[dataset](root)


# ------------------------------------------------------------------ runs and comparisons
def run_problem(
    name: str, device: str, data_dir: Path, seed: int = 42, epochs: int = 1, **options
) -> dict:
    """``epochs`` epochs of SGD (a few steps each) and the evaluations of ``name``."""
    spec = testproblems.get_testproblem_class(name).spec
    runner = StandardRunner(torch.optim.SGD, SGD)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ImageDataSet, "_verify_files", False)  # fake files: no checksums
        return runner.run(
            testproblem=name,
            hyperparams={"lr": LR.get(spec.dataset, 0.01)},
            batch_size=BATCH.get(spec.dataset, 8),
            num_epochs=epochs,
            random_seed=seed,
            data_dir=data_dir,
            no_logs=True,
            device=device,
            train_log_interval=1,
            **options,
        )


def random_in_training(name: str, data_dir: Path) -> bool:
    """Whether training draws random numbers (augmentation, dropout, sampling)."""
    problem_class = testproblems.get_testproblem_class(name)
    if not problem_class.spec.batch_independent_eval:  # VAEs sample; char-RNN: see below
        return not problem_class.spec.stateful
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ImageDataSet, "_verify_files", False)
        tp = problem_class(
            BATCH.get(problem_class.spec.dataset, 8), device="cpu", data_dir=data_dir
        )
        tp.set_up()
    dropout = any(isinstance(m, torch.nn.modules.dropout._DropoutNd) for m in tp.model.modules())
    loader = tp.data.train_loader
    transform = getattr(loader, "transform", None)
    deterministic = (datasets._augment.Normalize, datasets._augment.UnitScale)
    augmented = not hasattr(loader, "tensors") or not (
        transform is None or isinstance(transform, deterministic)
    )
    return dropout or augmented


def assert_close(a: dict, b: dict, keys, rtol: float, atol: float, first_only=False) -> None:
    """Curves ``keys`` of results ``a`` and ``b`` agree (only the first evaluation if asked).

    Losses within ``rtol``/``atol``; accuracies within :data:`ACC_ATOL` (a near-tie may flip
    one prediction under other rounding).
    """
    for key in keys:
        if first_only and key == "minibatch_train_losses":
            continue  # after the first evaluation: training randomness may differ
        if key not in a or key not in b:
            assert (key in a) == (key in b), key
            continue
        x, y = (np.array(r[key][:1] if first_only else r[key], dtype=float) for r in (a, b))
        assert x.shape == y.shape, key
        if key.endswith("accuracies"):
            np.testing.assert_allclose(x, y, rtol=0, atol=ACC_ATOL, err_msg=key)
        else:
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=key)


def assert_finite(result: dict) -> None:
    assert result["status"] == "done", result["status"]
    for key in EVAL_KEYS + ("minibatch_train_losses",):
        assert all(v is not None and math.isfinite(v) for v in result[key]), key


def check_against_cpu(name: str, device: str, data_dir: Path) -> dict:
    """Run ``name`` on ``device`` in float32 and compare with a CPU run of the same seed.

    Where training draws random numbers only the first evaluation can agree, so the CPU run
    stops there (``num_epochs=0``: the large models' CPU passes are the check's main cost).
    """
    result = run_problem(name, device, data_dir)
    assert_finite(result)
    if testproblems.get_testproblem_class(name).spec.batch_independent_eval:
        whole = not random_in_training(name, data_dir)
        reference = run_problem(name, "cpu", data_dir, epochs=int(whole))
        assert_close(result, reference, CURVES, FP32_RTOL, FP32_ATOL, first_only=not whole)
    return result


def check_option(name: str, device: str, data_dir: Path, base: dict, **option) -> dict:
    """Run ``name`` with one performance ``option`` and compare with the plain run ``base``."""
    result = run_problem(name, device, data_dir, **option)
    assert_finite(result)
    assert result["meta"]["performance_options"][next(iter(option))] == next(iter(option.values()))
    if not testproblems.get_testproblem_class(name).spec.batch_independent_eval:
        return result  # VAEs: evaluation noise differs between layouts and precisions
    bf16 = option.get("amp") == "bf16"
    rtol, atol = (BF16_RTOL, BF16_ATOL) if bf16 else (FP32_RTOL, FP32_ATOL)
    whole = "compile" in option
    assert_close(result, base, CURVES, rtol, atol, first_only=not whole)
    return result


# ------------------------------------------------------------------ the tests
@pytest.fixture(scope="module")
def fake_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("fake-data")
    names = {
        testproblems.get_testproblem_class(n).spec.dataset for n in testproblems.list_testproblems()
    }
    for dataset in sorted(names):
        write_fake_data(dataset, root)
    return root


@pytest.fixture(scope="module")
def device_runs():
    return {}  # name -> plain run on the device, shared by the option tests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: In a fresh process: an NCCL (CUDA) or gloo group of one process; the problem's model in
#: ``DistributedDataParallel`` gives the plain model's loss and gradients; the runner's global
#: mean (an all-reduce) returns the local value.
DDP_SCRIPT = """
import sys, torch, torch.distributed as dist
from torch import nn
from deepobs.pytorch import testproblems
from deepobs.pytorch.runners import _distributed
device = torch.device(sys.argv[1])
backend = "nccl" if device.type == "cuda" else "gloo"
dist.init_process_group(backend, init_method="tcp://127.0.0.1:" + sys.argv[2], rank=0,
                        world_size=1)
if device.type == "cuda":
    torch.cuda.set_device(device)
torch.manual_seed(0)
tp = testproblems.quadratic_deep(128, device=device)
tp.set_up()
model = tp.model
wrapped = nn.parallel.DistributedDataParallel(
    model, device_ids=[device.index or 0] if device.type == "cuda" else None)
x = torch.randn(128, 100, device=device)
plain = model(x).mean()
(g_plain,) = torch.autograd.grad(plain, model.theta)
ddp = wrapped(x).mean()
ddp.backward()
assert torch.allclose(ddp, plain) and torch.allclose(model.theta.grad, g_plain), "DDP differs"
mean = _distributed._with_global_value(plain.detach())
assert torch.equal(mean, plain.detach()), "all-reduce changed the value"
print("backend", dist.get_backend())
dist.destroy_process_group()
"""


def check_data_parallel_world_size_1(device: str, out: Path) -> dict:
    """World size 1 on ``device``: DDP over NCCL (gloo on the CPU), and ``deepobs run``.

    The runner trains without a process group at world size 1 (nothing to average), so DDP
    and the collective are checked directly (:data:`DDP_SCRIPT`); the run under the torchrun
    variables must equal a plain run.
    """
    done = subprocess.run(
        [sys.executable, "-c", DDP_SCRIPT, device, str(_free_port())],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    expected = "nccl" if device.startswith("cuda") else "gloo"
    assert f"backend {expected}" in done.stdout
    env = {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
        "WORLD_SIZE": "1",
        "RANK": "0",
        "LOCAL_RANK": "0",
    }
    cmd = [
        sys.executable,
        "-m",
        "deepobs",
        "-q",
        "run",
        "quadratic_deep",
        "--optimizer",
        "torch.optim.SGD",
        "--hp",
        "lr=0.01",
        "-N",
        "2",
        "--device",
        device,
        "--train-log-interval",
        "1",
        "--output-dir",
        str(out),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.rglob("*.json")
    parallel = json.loads(path.read_text())
    single = StandardRunner(torch.optim.SGD, SGD).run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=2,
        no_logs=True,
        device=device,
        train_log_interval=1,
    )
    assert parallel["meta"]["world_size"] == 1
    assert_close(parallel, single, CURVES, 1e-5, 1e-7)
    return parallel


def test_data_parallel_nccl_world_size_1(tmp_path):
    check_data_parallel_world_size_1(DEVICE, tmp_path)


class _Interrupt(Exception):
    """Stands in for a crash after an epoch."""


class _InterruptAfter:
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, run) -> None:
        if run.epoch == self.epoch:
            raise _Interrupt


def check_resume_bit_identical(
    device: str, data_dir: Path, out: Path, name: str = "cifar100_allcnnc"
) -> None:
    """Interrupted + resumed equals uninterrupted, bit for bit (dropout: device RNG)."""
    kwargs = dict(
        testproblem=name,
        hyperparams={"lr": 0.01},
        batch_size=8,
        num_epochs=3,
        random_seed=3,
        data_dir=data_dir,
        device=device,
        train_log_interval=1,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ImageDataSet, "_verify_files", False)
        straight = StandardRunner(torch.optim.SGD, SGD).run(output_dir=out / "a", **kwargs)
        runner = StandardRunner(torch.optim.SGD, SGD)
        runner.callbacks.append(_InterruptAfter(1))
        with pytest.raises(_Interrupt):
            runner.run(output_dir=out / "b", checkpoint_every=1, **kwargs)
        resumed = StandardRunner(torch.optim.SGD, SGD).run(
            output_dir=out / "b", resume=True, **kwargs
        )
    assert resumed["meta"]["resumed_from_epoch"] == 1
    for key in CURVES:
        if key in straight:
            assert resumed[key] == straight[key], key


def test_checkpoint_resume_cuda_rng_bit_identical(fake_root, tmp_path):
    torch.use_deterministic_algorithms(True, warn_only=True)  # needs CUBLAS_WORKSPACE_CONFIG
    try:
        check_resume_bit_identical(DEVICE, fake_root, tmp_path)
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("name", testproblems.list_testproblems())
def test_problem_matches_cpu(name, fake_root, device_runs):
    device_runs[name] = check_against_cpu(name, DEVICE, fake_root)


@pytest.mark.parametrize("option", [{"amp": "bf16"}, {"channels_last": True}], ids=str)
@pytest.mark.parametrize("name", testproblems.list_testproblems())
def test_problem_with_option(name, option, fake_root, device_runs):
    base = device_runs.get(name) or run_problem(name, DEVICE, fake_root)
    check_option(name, DEVICE, fake_root, base, **option)


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_problem(name, fake_root, device_runs):
    base = device_runs.get(name) or run_problem(name, DEVICE, fake_root)
    check_option(name, DEVICE, fake_root, base, compile=True)
