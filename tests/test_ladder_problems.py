"""The ladder additions: CIFAR ResNets, MNIST-1D nets, the PTB transformer, and problem sets.

All on tiny fake data in the real formats (batch size 2; ResNet-18 and the default-size
transformer are the heaviest models built here). Parameter counts are pinned to numbers
worked out by hand from the architectures, not read off the code.
"""

from __future__ import annotations

import importlib
import math
import random
import sys
import types
import warnings

import numpy as np
import pytest
import torch
from fake_image_data import allow_fake_files, write_fake
from fake_ladder_data import ptb_lines, write_fake_mnist1d, write_fake_ptb
from torch import nn

import deepobs.config
from deepobs.pytorch import datasets
from deepobs.pytorch._cli.list import markdown_table
from deepobs.pytorch.testproblems import (
    UnregularizedTestproblem,
    WeightRegularizedTestproblem,
    get_testproblem,
    get_testproblem_class,
    list_testproblems,
)
from deepobs.pytorch.testproblems._resnet import OptionAShortcut
from deepobs.pytorch.testproblems._sets import LADDER_COST, PROBLEM_SETS, problem_set
from deepobs.pytorch.testproblems._transformer import (
    CharTransformer,
    param_groups_hint,
    split_param_groups,
)

# The package exposes the classes under these names; the modules hold the helpers.
mnist1d_data = importlib.import_module("deepobs.pytorch.datasets.mnist1d")
ptb_module = importlib.import_module("deepobs.pytorch.datasets.ptb")

BS = 2
RESNETS = [
    "cifar10_resnet32",
    "cifar10_resnet56",
    "cifar100_resnet32",
    "cifar100_resnet56",
    "cifar10_resnet18",
]
MNIST1D = ["mnist1d_mlp", "mnist1d_cnn"]
PROBLEMS = [*RESNETS, *MNIST1D, "ptb_transformer"]
SMALL_TRANSFORMER = {"num_layers": 2, "width": 128, "num_heads": 2}

#: (data set, batch size, epochs, L2) of each problem.
DEFAULTS = {
    "cifar10_resnet32": ("cifar10", 128, 200, 1e-4),
    "cifar10_resnet56": ("cifar10", 128, 200, 1e-4),
    "cifar100_resnet32": ("cifar100", 128, 200, 1e-4),
    "cifar100_resnet56": ("cifar100", 128, 200, 1e-4),
    "cifar10_resnet18": ("cifar10", 128, 200, 5e-4),
    "mnist1d_mlp": ("mnist1d", 100, 200, None),
    "mnist1d_cnn": ("mnist1d", 100, 200, None),
    "ptb_transformer": ("ptb", 64, 16, None),
}


def cifar_resnet_parameters(n: int, classes: int) -> int:
    """ResNet-(6n+2) by hand: 3×3 kernels, two BN vectors per conv, no shortcut weights."""
    stem = 3 * 16 * 9 + 2 * 16
    stage1 = n * (2 * 16 * 16 * 9 + 2 * 2 * 16)
    stage2 = (16 * 32 * 9 + 32 * 32 * 9 + 4 * 32) + (n - 1) * (2 * 32 * 32 * 9 + 4 * 32)
    stage3 = (32 * 64 * 9 + 64 * 64 * 9 + 4 * 64) + (n - 1) * (2 * 64 * 64 * 9 + 4 * 64)
    return stem + stage1 + stage2 + stage3 + 64 * classes + classes


def preact18_parameters(classes: int) -> int:
    """Pre-activation ResNet-18 by hand: BN before each conv, 1×1 shortcuts, final BN."""
    total, c_in = 3 * 64 * 9, 64
    for width in (64, 128, 256, 512):
        for _ in range(2):
            total += 2 * c_in + c_in * width * 9 + 2 * width + width * width * 9
            if c_in != width:
                total += c_in * width  # 1×1 shortcut conv
            c_in = width
    return total + 2 * 512 + 512 * classes + classes


def transformer_parameters(vocab: int, layers: int, width: int, context: int = 256) -> int:
    """Embeddings, per block qkv + out (4 d²) and MLP (8 d²) and two gains, final gain."""
    return vocab * width + context * width + layers * (12 * width**2 + 2 * width) + width


def test_hand_counts_match_the_published_sizes():
    # He et al. (2016), Table 6: ResNet-32 0.46 M, ResNet-56 0.85 M parameters.
    assert cifar_resnet_parameters(5, 10) == 464_154
    assert cifar_resnet_parameters(9, 10) == 853_018
    assert preact18_parameters(10) == 11_172_170
    assert transformer_parameters(50, 6, 384) == 10_739_328


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A data root with fake CIFAR-10/100 (16 train, 8 test), MNIST-1D (60/20) and PTB."""
    path = tmp_path_factory.mktemp("ladder_data")
    for name in ("cifar10", "cifar100"):
        write_fake(name, path, 16, 8, seed=len(name))
    write_fake_mnist1d(path, n_train=60, n_test=20)
    write_fake_ptb(path)
    return path


@pytest.fixture(scope="module")
def problems(root):
    """Each problem built once (batch size 2; the transformer in its 2 × 128 variant)."""
    built = {}
    with pytest.MonkeyPatch.context() as mp:
        allow_fake_files(mp)
        for name in PROBLEMS:
            torch.manual_seed(0)
            kwargs = SMALL_TRANSFORMER if name == "ptb_transformer" else {}
            built[name] = get_testproblem(
                name, batch_size=BS, data_dir=root, device="cpu", **kwargs
            )
            built[name].set_up()
    return built


def test_registered_and_listed():
    assert set(PROBLEMS) <= set(list_testproblems())
    table = markdown_table()
    assert all(f"`{name}`" in table for name in PROBLEMS)


@pytest.mark.parametrize("name", PROBLEMS)
def test_defaults_base_class_and_summary(name):
    cls = get_testproblem_class(name)
    spec = cls.spec
    assert (spec.dataset, spec.batch_size, spec.num_epochs, spec.l2_reg) == DEFAULTS[name]
    assert spec.metric == "test_accuracy" and spec.has_accuracy
    assert not spec.stateful and spec.batch_independent_eval
    base = UnregularizedTestproblem if spec.l2_reg is None else WeightRegularizedTestproblem
    assert issubclass(cls, base)
    assert "no published DeepOBS baselines" in " ".join(cls.__doc__.split())


@pytest.mark.parametrize(
    "name, expected",
    [
        ("cifar10_resnet32", cifar_resnet_parameters(5, 10)),
        ("cifar10_resnet56", cifar_resnet_parameters(9, 10)),
        ("cifar100_resnet32", cifar_resnet_parameters(5, 100)),
        ("cifar100_resnet56", cifar_resnet_parameters(9, 100)),
        ("cifar10_resnet18", preact18_parameters(10)),
        ("mnist1d_mlp", 40 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10),  # 15,210
        ("mnist1d_cnn", (25 * 5 + 25) + 2 * (25 * 25 * 3 + 25) + 125 * 10 + 10),  # 5,210
    ],
)
def test_parameter_count(problems, name, expected):
    assert problems[name].num_parameters() == expected
    assert str(expected) in problems[name].__doc__.replace(",", "")  # the documented count


def test_transformer_parameter_count(problems, root):
    problem = problems["ptb_transformer"]
    vocab = problem.data.vocab_size
    assert vocab == datasets.ptb(BS, data_dir=root).vocab_size  # textgen's vocabulary
    assert problem.num_parameters() == transformer_parameters(vocab, 2, 128)
    assert problem.num_parameters() == 128 * vocab + 426_624  # as documented
    model = CharTransformer(vocab, 6, 384, 6).to("meta")  # the default size, shapes only
    assert sum(p.numel() for p in model.parameters()) == 384 * vocab + 10_720_128


@pytest.mark.parametrize("name", PROBLEMS)
def test_every_phase_forward_and_backward(problems, name):
    problem = problems[name]
    for phase in ("train", "train_eval", "valid", "test"):
        getattr(problem, f"{phase}_init_op")()
        assert problem.model.training == (phase == "train")
        closure = problem.get_batch_loss_and_accuracy_func(reduction="none")
        per_example, accuracy = closure()
        assert per_example.shape == (BS,) and torch.isfinite(per_example).all()
        assert 0.0 <= accuracy.item() <= 1.0
        if phase == "train":
            problem.model.zero_grad()
            per_example.mean().backward()
            assert all(
                p.grad is not None and torch.isfinite(p.grad).all()
                for p in problem.model.parameters()
            )
        else:
            assert not per_example.requires_grad


@pytest.mark.parametrize("name", ["cifar10_resnet32", "mnist1d_cnn", "ptb_transformer"])
def test_reductions_agree(problems, name):
    problem = problems[name]
    problem.test_init_op()  # evaluation mode: BN uses running statistics, no randomness
    batch = problem.next_batch()
    with torch.no_grad():
        none, _ = problem.loss_and_accuracy(batch, reduction="none", add_regularization=False)
        mean, _ = problem.loss_and_accuracy(batch, reduction="mean", add_regularization=False)
        total, _ = problem.loss_and_accuracy(batch, reduction="sum", add_regularization=False)
    torch.testing.assert_close(none.mean(), mean)
    torch.testing.assert_close(none.sum(), total)


@pytest.mark.parametrize("name", RESNETS)
def test_l2_covers_conv_and_dense_kernels_only(problems, name):
    problem = problems[name]
    kernels = [m.weight for m in problem.model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    batch_norm = [
        p for m in problem.model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()
    ]
    regularised = {id(p) for p in problem.regularization_groups[problem.l2_reg]}
    assert regularised == {id(p) for p in kernels}
    assert not regularised & {id(p) for p in batch_norm} and batch_norm
    expected = 0.5 * problem.l2_reg * sum(p.square().sum() for p in kernels)
    torch.testing.assert_close(problem.get_regularization_loss(), expected)


@pytest.mark.parametrize("name", [*MNIST1D, "ptb_transformer"])
def test_unregularised(problems, name):
    problem = problems[name]
    assert problem.l2_reg is None
    assert list(problem.regularization_groups) == [0.0]


def test_resnet_initialisation(problems):
    model = problems["cifar10_resnet56"].model
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            assert module.bias is None
            fan_out = module.out_channels * 9
            assert abs(module.weight.std().item() / math.sqrt(2 / fan_out) - 1) < 0.15
        if isinstance(module, nn.BatchNorm2d):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0)


def test_option_a_shortcut_subsamples_and_pads_zero_channels():
    x = torch.randn(2, 16, 32, 32)
    out = OptionAShortcut(16, 32)(x)
    assert out.shape == (2, 32, 16, 16)
    torch.testing.assert_close(out[:, :16], x[:, :, ::2, ::2])
    assert torch.all(out[:, 16:] == 0)
    assert not list(OptionAShortcut(16, 32).parameters())
    with pytest.raises(ValueError, match="only add channels"):
        OptionAShortcut(32, 16)


# ---------------------------------------------------------------- BackPACK
@pytest.mark.parametrize(
    "name",
    ["cifar10_resnet32", pytest.param("cifar10_resnet18", marks=pytest.mark.slow), *MNIST1D],
)
def test_backpack_batch_grad(root, monkeypatch, name):
    backpack = pytest.importorskip("backpack")
    from backpack.extensions import BatchGrad

    allow_fake_files(monkeypatch)
    torch.manual_seed(1)
    problem = get_testproblem(name, batch_size=3, data_dir=root, device="cpu")
    problem.set_up()
    model = backpack.extend(problem.model.double())  # float64: exact comparisons below
    loss_function = backpack.extend(problem.loss_function(reduction="mean"))
    problem.test_init_op()  # evaluation mode: BN uses running statistics, examples independent
    inputs, labels = problem.next_batch()
    inputs = inputs.double()
    with warnings.catch_warnings():
        # Containers with parameters (the residual blocks) have no extension of their own.
        warnings.filterwarnings("ignore", message=".*does not have an extension for Module")
        warnings.filterwarnings("ignore", message=".*Full backward hook is firing")
        loss = loss_function(model(inputs), labels)
        with backpack.backpack(BatchGrad()):
            loss.backward()
        batch_grads = [p.grad_batch.clone() for p in model.parameters()]
        full_grads = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()  # the first example alone: its gradient is 3 × its grad_batch entry
        nn.functional.cross_entropy(model(inputs[:1]), labels[:1]).backward()
    for p, g, full in zip(model.parameters(), batch_grads, full_grads, strict=True):
        assert g.shape == (3, *p.shape)
        torch.testing.assert_close(g.sum(0), full)
        torch.testing.assert_close(3 * g[0], p.grad)


# ---------------------------------------------------------------- MNIST-1D data
def test_mnist1d_splits(problems):
    data = problems["mnist1d_mlp"].data
    sizes = {split: loader.num_examples for split, loader in data.loaders().items()}
    # eval size = test size (20): valid 20, train 40, train_eval 20 of train
    assert sizes == {"train": 40, "train_eval": 20, "valid": 20, "test": 20}
    x, y = next(iter(data.train_loader))
    assert x.shape == (BS, 40) and x.dtype == torch.float32 and y.dtype == torch.int64


def _fake_mnist1d_package(calls: list) -> types.ModuleType:
    """A stand-in for ``mnist1d.data``: same two functions, reseeds the global RNGs as it does."""
    module = types.ModuleType("mnist1d.data")

    def get_dataset_args(as_dict=False):
        assert as_dict
        return {"num_samples": 200, "train_split": 0.8, "seed": 42}

    def make_dataset(args):
        calls.append(args.num_samples)
        random.seed(args.seed)
        np.random.seed(args.seed)
        n_train = int(args.num_samples * args.train_split)
        x = np.random.randn(args.num_samples, 40)
        y = np.random.randint(0, 10, args.num_samples)
        return {"x": x[:n_train], "y": y[:n_train], "x_test": x[n_train:], "y_test": y[n_train:]}

    module.get_dataset_args, module.make_dataset = get_dataset_args, make_dataset
    return module


def test_mnist1d_generates_once_caches_and_keeps_global_rngs(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "mnist1d.data", _fake_mnist1d_package(calls))
    np.random.seed(3)
    random.seed(3)
    expected = (np.random.rand(), random.random())
    np.random.seed(3)
    random.seed(3)
    assert not datasets.mnist1d.is_available(tmp_path)
    data = datasets.mnist1d(10, data_dir=tmp_path)
    assert (np.random.rand(), random.random()) == expected  # the reseeding did not leak
    assert datasets.mnist1d.is_available(tmp_path) and calls == [200]
    assert {s: loader.num_examples for s, loader in data.loaders().items()} == {
        "train": 120,
        "train_eval": 40,
        "valid": 40,
        "test": 40,
    }
    assert data.train_loader.tensors[0].dtype == torch.float32
    again = datasets.mnist1d(10, data_dir=tmp_path)  # read from the cache
    assert calls == [200]
    torch.testing.assert_close(again.test_loader.tensors[0], data.test_loader.tensors[0])
    assert [p.name for p in (tmp_path / "mnist1d").iterdir()] == ["mnist1d.npz"]
    with pytest.raises(ValueError, match="Unknown MNIST-1D argument.*num_samples"):
        mnist1d_data.generate_mnist1d(num_sample=10)


def test_mnist1d_download_generates_the_cache(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "mnist1d.data", _fake_mnist1d_package(calls))
    folder = datasets.download("mnist1d", tmp_path)  # `deepobs download mnist1d`
    assert folder == tmp_path / "mnist1d" and datasets.mnist1d.is_available(tmp_path)
    datasets.download("mnist1d", tmp_path)  # an existing cache is kept
    assert calls == [200]


@pytest.mark.slow
def test_mnist1d_real_generation(tmp_path):
    pytest.importorskip("mnist1d")
    data = datasets.mnist1d(100, data_dir=tmp_path)
    assert {s: loader.num_examples for s, loader in data.loaders().items()} == {
        "train": 3000,
        "train_eval": 1000,
        "valid": 1000,
        "test": 1000,
    }
    signals = torch.cat([data.train_loader.tensors[0], data.valid_loader.tensors[0]])
    assert abs(signals.mean().item()) < 0.05 and abs(signals.std().item() - 1) < 0.05
    labels = data.test_loader.tensors[1]
    assert set(labels.tolist()) == set(range(10))


def test_mnist1d_errors(tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "mnist1d.data", None)  # the package is not installed
        with pytest.raises(ImportError, match=r"deepobs\[mnist1d\]"):
            datasets.mnist1d(10, data_dir=tmp_path)
    path = mnist1d_data.mnist1d_path(tmp_path)
    path.parent.mkdir(parents=True)
    np.savez(
        path,
        x=np.zeros((10, 39), np.float32),
        y=np.zeros(10, np.int64),
        x_test=np.zeros((5, 40), np.float32),
        y_test=np.zeros(5, np.int64),
    )
    with pytest.raises(ValueError, match=r"x must be \[N, 40\].*delete"):
        datasets.mnist1d(2, data_dir=tmp_path)


# ---------------------------------------------------------------- transformer
def test_transformer_windows_are_textgen_streams_of_256(problems, root):
    data = problems["ptb_transformer"].data
    reference = datasets.ptb(BS, data_dir=root)
    assert data.vocab == reference.vocab
    first = next(iter(data.train_eval_loader))[0]
    assert first.shape == (BS, 256) and first.dtype == torch.int64
    inputs, targets = data.train_loader.tensors
    torch.testing.assert_close(inputs[:, 1:], targets[:, :-1])  # targets shifted by one
    decoded = "".join(data.vocab[i] for i in first[0].tolist())
    text = ptb_module.read_ptb_text(root / "ptb" / "ptb.train.txt")
    assert text.startswith(decoded)  # train_eval: the first windows, in stream order
    assert data.train_loader.shuffle and not data.train_eval_loader.shuffle


def test_transformer_is_causal_and_tied():
    torch.manual_seed(0)
    model = CharTransformer(11, 2, 32, 4, context_length=16).eval()
    ids = torch.randint(0, 11, (2, 16))
    changed = ids.clone()
    changed[:, 10] = (ids[:, 10] + 1) % 11
    with torch.no_grad():
        a, b = model(ids), model(changed)
    torch.testing.assert_close(a[:, :10], b[:, :10])  # the past does not see the future
    assert not torch.allclose(a[:, 10:], b[:, 10:])
    names = [n for n, _ in model.named_parameters()]
    assert sum("embedding" in n for n in names) == 2  # no separate output matrix
    with pytest.raises(ValueError, match="longer than the context length 16"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="not divisible by num_heads=3"):
        CharTransformer(11, 1, 32, 3)


def test_param_groups_hint_and_split(problems):
    problem = problems["ptb_transformer"]
    groups = problem.param_groups_hint()
    assert {k: len(v) for k, v in groups.items()} == {
        "matrices": 2 * 4,
        "embeddings": 2,
        "norms": 2 * 2 + 1,
        "biases": 0,
    }
    assert all(p.dim() == 2 for p in groups["matrices"] + groups["embeddings"])
    assert sum(p.numel() for ps in groups.values() for p in ps) == problem.num_parameters()
    torch_groups = split_param_groups(
        problem.model.parameters(),
        {"matrices": {"weight_decay": 0.1}},
        default={"weight_decay": 0.0},
    )
    decays = {len(g["params"]): g["weight_decay"] for g in torch_groups}
    assert decays == {8: 0.1, 2: 0.0, 5: 0.0}  # matrices, embeddings, norms
    resnet_groups = param_groups_hint(problems["cifar10_resnet32"].model)
    assert len(resnet_groups["biases"]) == 1 and not resnet_groups["embeddings"]
    with pytest.raises(ValueError, match="no group tag"):
        split_param_groups([nn.Parameter(torch.zeros(2))], {})
    with pytest.raises(ValueError, match="Unknown parameter groups"):
        split_param_groups([], {"matrix": {}})


def test_transformer_batch_too_large(root):
    problem = get_testproblem(
        "ptb_transformer", batch_size=1000, data_dir=root, device="cpu", **SMALL_TRANSFORMER
    )
    with pytest.raises(ValueError, match="256-character windows"):
        problem.set_up()


@pytest.mark.slow
def test_small_transformer_loss_falls_with_adamw(tmp_path):
    # Random PTB-like text: random words from a small list, so there is something to learn.
    write_fake_ptb(tmp_path, lines=(2000, 100, 100), seed=1)
    torch.manual_seed(0)
    problem = get_testproblem(
        "ptb_transformer",
        batch_size=8,
        data_dir=tmp_path,
        device="cpu",
        context_length=64,
        **SMALL_TRANSFORMER,
    )
    problem.set_up()
    optimizer = torch.optim.AdamW(problem.model.parameters(), lr=1e-3, weight_decay=0.0)
    losses = []
    while len(losses) < 200:
        problem.train_init_op()
        for _ in range(min(len(problem.data.train_loader), 200 - len(losses))):
            optimizer.zero_grad()
            loss, _ = problem.get_batch_loss_and_accuracy()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    uniform = math.log(problem.data.vocab_size)
    assert abs(losses[0] - uniform) < 0.1 * uniform  # small initial logits: about uniform
    assert np.mean(losses[-20:]) < 0.5 * uniform


# ---------------------------------------------------------------- problem sets
def test_problem_sets():
    assert PROBLEM_SETS["ladder"] == (
        "quadratic_deep",
        "mnist1d_mlp",
        "fmnist_2c2d",
        "cifar10_3c3d",
        "cifar10_resnet32",
        "ptb_transformer",
    )
    assert list(PROBLEM_SETS["small"]) == deepobs.config.get_small_test_set()
    assert list(PROBLEM_SETS["large"]) == deepobs.config.get_large_test_set()
    registered = set(list_testproblems())
    assert all(set(names) <= registered for names in PROBLEM_SETS.values())
    assert set(LADDER_COST) == set(PROBLEM_SETS["ladder"])
    hours = [LADDER_COST[n].cpu_hours for n in PROBLEM_SETS["ladder"]]
    assert hours == sorted(hours)  # a ladder: each rung costs more than the one before
    assert problem_set("ladder") is PROBLEM_SETS["ladder"]
    with pytest.raises(ValueError, match="Unknown problem set 'ladr'.*ladder"):
        problem_set("ladr")


def test_ptb_lines_have_the_real_padding():
    line = ptb_lines(random.Random(0), 1)
    assert line.startswith(" ") and line.endswith(" \n")


def test_param_groups_reach_the_optimizer_through_standard_runner(tmp_path, monkeypatch):
    from deepobs.pytorch import testproblems
    from deepobs.pytorch.runners import StandardRunner

    class ptb_transformer_tiny(testproblems.ptb_transformer):  # noqa: N801 (a problem name)
        """The transformer with one block of width 32 (a user problem)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, num_layers=1, width=32, num_heads=2, **kwargs)

    monkeypatch.setattr(testproblems, "ptb_transformer_tiny", ptb_transformer_tiny, raising=False)
    built = []

    class AdamWDecayMatrices(torch.optim.AdamW):  # the example of param_groups_hint()
        def __init__(self, params, lr, weight_decay):
            groups = split_param_groups(
                params, {"matrices": {"weight_decay": weight_decay}}, default={"weight_decay": 0.0}
            )
            built.append([(len(g["params"]), g["weight_decay"]) for g in groups])
            super().__init__(groups, lr=lr)

    write_fake_ptb(tmp_path, lines=(60, 30, 30))  # a few training steps
    runner = StandardRunner(
        AdamWDecayMatrices, {"lr": {"type": float}, "weight_decay": {"type": float}}
    )
    result = runner.run(
        testproblem="ptb_transformer_tiny",
        hyperparams={"lr": 1e-3, "weight_decay": 0.1},
        batch_size=BS,
        num_epochs=1,
        data_dir=tmp_path,
        output_dir=tmp_path / "results",
        no_logs=True,
    )
    assert built == [[(4, 0.1), (2, 0.0), (3, 0.0)]]  # matrices, embeddings, norms
    assert result["status"] == "done"
    assert all(math.isfinite(v) for v in result["test_losses"])
