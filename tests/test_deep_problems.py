"""Deep image problems: VGG-16/19, Wide ResNets, Inception-v3 (reference §2.8-2.10, §3).

Fast tests build the networks on the ``meta`` device (shapes only, no memory, no compute):
parameter counts, batch-norm settings, L2 sets and full-size forward/backward shapes of
every problem. Real arithmetic runs on one network per family on fake data: VGG-16 with its
test-only ``input_size`` (32 instead of 224), WRN-16-4 at full size, Inception-v3's loss
with a stand-in network. Full-size forward passes and short training runs are ``slow``.
"""

from __future__ import annotations

import math

import fake_image_data
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deepobs.pytorch import testproblems
from deepobs.pytorch.testproblems._image_problem import build_model, init_modules_
from deepobs.pytorch.testproblems._inception import build_inception_v3
from deepobs.pytorch.testproblems._layers import (
    glorot_uniform_,
    tf_bn_momentum,
    tf_resize_bilinear,
)
from deepobs.pytorch.testproblems._vgg import VGG, build_vgg
from deepobs.pytorch.testproblems._wrn import WideResNet, build_wrn

#: Classes of an ImageNet folder in the standard layout (the TF reference had 1001 logits).
IMAGENET_CLASSES = 1000

#: name -> (data set, classes, input side, trainable parameters). Counts from reference §3;
#: ImageNet problems with 1000 classes: the 1001-class counts minus one output unit per head.
DEEP_PROBLEMS = {
    "cifar10_vgg16": ("cifar10", 10, 32, 134_301_514),
    "cifar10_vgg19": ("cifar10", 10, 32, 139_611_210),
    "cifar100_vgg16": ("cifar100", 100, 32, 134_670_244),
    "cifar100_vgg19": ("cifar100", 100, 32, 139_979_940),
    "imagenet_vgg16": ("imagenet", IMAGENET_CLASSES, 224, 138_357_544),
    "imagenet_vgg19": ("imagenet", IMAGENET_CLASSES, 224, 143_667_240),
    "food101_vgg16": ("food101", 101, 224, 134_674_341),
    "svhn_wrn164": ("svhn", 10, 32, 2_748_890),
    "cifar100_wrn164": ("cifar100", 100, 32, 2_772_020),
    "cifar100_wrn404": ("cifar100", 100, 32, 8_972_340),
    "imagenet_inception_v3": ("imagenet", IMAGENET_CLASSES, 224, 27_161_264),
}
#: (momentum, eps) every BatchNorm of a family must have; VGG has no batch norm.
BN_SETTINGS = {"vgg": None, "wrn": (0.1, 1e-5), "inception": (0.0003, 1e-3)}


def family(name: str) -> str:
    """``vgg``, ``wrn`` or ``inception``."""
    return next(f for f in BN_SETTINGS if f in name)


def meta_problem(name: str):
    """Problem ``name`` with its network on the meta device (no data set is read)."""
    _, num_classes, _, _ = DEEP_PROBLEMS[name]
    tp = testproblems.get_testproblem(name, batch_size=2, device="meta")
    tp._set_up_model(num_classes)
    tp._finish_set_up()
    return tp


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------------- layers
def test_tf_bn_momentum_converts_decay():
    assert tf_bn_momentum(0.9) == pytest.approx(0.1)
    assert tf_bn_momentum(0.9997) == pytest.approx(0.0003)
    assert tf_bn_momentum(0.0) == 1.0 and tf_bn_momentum(1.0) == 0.0
    with pytest.raises(ValueError, match="1.5"):
        tf_bn_momentum(1.5)


def test_tf_bn_momentum_gives_tf_running_average():
    # TF: running = m * running + (1 - m) * batch with m = 0.9.
    bn = nn.BatchNorm2d(3, momentum=tf_bn_momentum(0.9)).train()
    x = torch.randn(4, 3, 5, 5) + 2.0
    bn(x)
    expected = 0.9 * torch.zeros(3) + 0.1 * x.mean(dim=(0, 2, 3))
    torch.testing.assert_close(bn.running_mean, expected)


def _tf_legacy_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    # Independent loop version of TF 1.x resize_bilinear (align_corners=False, no half pixel).
    h, w = x.shape[-2:]
    out = torch.empty(*x.shape[:-2], size, size, dtype=torch.float64)
    for i in range(size):
        y = i * h / size
        y0, y1, fy = math.floor(y), min(math.floor(y) + 1, h - 1), y - math.floor(y)
        for j in range(size):
            xx = j * w / size
            x0, x1, fx = math.floor(xx), min(math.floor(xx) + 1, w - 1), xx - math.floor(xx)
            top = x[..., y0, x0] + (x[..., y0, x1] - x[..., y0, x0]) * fx
            bottom = x[..., y1, x0] + (x[..., y1, x1] - x[..., y1, x0]) * fx
            out[..., i, j] = top + (bottom - top) * fy
    return out


def test_tf_resize_bilinear_matches_tf_legacy_grid():
    row = torch.tensor([1.0, 3.0]).view(1, 1, 1, 2).expand(1, 1, 2, 2)
    expected_row = torch.tensor([1.0, 2.0, 3.0, 3.0])  # samples at 0, 0.5, 1, 1.5 (clamped)
    torch.testing.assert_close(tf_resize_bilinear(row, 4)[0, 0, 0], expected_row)
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(tf_resize_bilinear(x, 7), _tf_legacy_resize(x, 7))
    assert tf_resize_bilinear(x, 5) is x


# ---------------------------------------------------------------------- registry, counts
@pytest.mark.parametrize("name", sorted(DEEP_PROBLEMS))
def test_problem_is_registered_with_defaults(name):
    spec = testproblems.get_testproblem_class(name).spec
    assert spec.dataset == DEEP_PROBLEMS[name][0]
    assert spec.l2_reg == 5e-4
    assert spec.batch_size and spec.num_epochs and spec.has_accuracy
    if family(name) == "wrn":
        assert (spec.batch_size, spec.num_epochs) == (128, 160)
    if name == "imagenet_inception_v3":
        assert spec.batch_size == 32


@pytest.mark.parametrize(
    ("build", "expected", "tensors"),
    [
        (lambda: build_vgg(16, 10, device="meta"), 134_301_514, 32),
        (lambda: build_vgg(16, 100, device="meta"), 134_670_244, 32),
        (lambda: build_vgg(16, 1001, device="meta"), 138_361_641, 32),
        (lambda: build_vgg(19, 10, device="meta"), 139_611_210, 38),
        (lambda: build_vgg(19, 100, device="meta"), 139_979_940, 38),
        (lambda: build_vgg(19, 1001, device="meta"), 143_671_337, 38),
        (lambda: build_wrn(16, 10, device="meta"), 2_748_890, 44),
        (lambda: build_wrn(16, 100, device="meta"), 2_772_020, 44),
        (lambda: build_wrn(40, 100, device="meta"), 8_972_340, 116),
        (lambda: build_inception_v3(1001, device="meta"), 27_164_082, 292),
    ],
    ids=[
        "vgg16-10",
        "vgg16-100",
        "vgg16-1001",
        "vgg19-10",
        "vgg19-100",
        "vgg19-1001",
        "wrn164-10",
        "wrn164-100",
        "wrn404-100",
        "inception_v3-1001",
    ],
)
def test_reference_parameter_counts(build, expected, tensors):
    model = build()
    assert count(model) == expected
    assert len(list(model.parameters())) == tensors


def test_inception_aux_head_count():
    assert count(build_inception_v3(1001, device="meta").aux) == 3_327_465


@pytest.mark.parametrize("name", sorted(DEEP_PROBLEMS))
def test_problem_parameter_count(name):
    assert meta_problem(name).num_parameters() == DEEP_PROBLEMS[name][3]


@pytest.mark.parametrize("name", sorted(DEEP_PROBLEMS))
def test_batch_norm_momentum_and_eps(name):
    model = meta_problem(name).model
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    expected = BN_SETTINGS[family(name)]
    if expected is None:
        assert norms == []
        return
    assert norms, f"{name} has no batch norm"
    for bn in norms:
        assert (bn.momentum, bn.eps) == (pytest.approx(expected[0]), expected[1])
        assert bn.affine and bn.track_running_stats


@pytest.mark.parametrize("name", sorted(DEEP_PROBLEMS))
def test_l2_covers_the_reference_weights(name):
    tp = meta_problem(name)
    chosen = {id(p) for p in tp.regularization_groups[5e-4]}
    convs = [m.weight for m in tp.model.modules() if isinstance(m, nn.Conv2d)]
    denses = [m.weight for m in tp.model.modules() if isinstance(m, nn.Linear)]
    expected = convs + (denses if family(name) == "wrn" else [])  # VGG, Inception: convs only
    assert chosen == {id(p) for p in expected}
    assert len(tp.regularization_groups[0.0]) + len(chosen) == len(list(tp.model.parameters()))


@pytest.mark.parametrize("name", sorted(DEEP_PROBLEMS))
def test_full_size_forward_backward_shapes(name):
    tp = meta_problem(name)
    _, num_classes, side, _ = DEEP_PROBLEMS[name]
    batch = (
        torch.empty(2, 3, side, side, device="meta"),
        torch.empty(2, dtype=torch.long, device="meta"),
    )
    tp.model.train()
    loss, accuracy = tp._compute_loss_and_accuracy(batch, "mean", True)
    assert loss.shape == () and accuracy.shape == ()
    loss.backward()
    assert all(p.grad is not None for p in tp.model.parameters())
    tp.model.eval()
    with torch.no_grad():
        assert tp.model(batch[0]).shape == (2, num_classes)
        losses, _ = tp._compute_loss_and_accuracy(batch, "none", False)
    assert losses.shape == (2,)


# ---------------------------------------------------------------------- architectures
def test_vgg_input_size_changes_no_weight():
    small = build_vgg(16, 10, input_size=32, device="meta").state_dict()
    full = build_vgg(16, 10, device="meta").state_dict()
    assert {k: v.shape for k, v in small.items()} == {k: v.shape for k, v in full.items()}
    # At 224 the network is resize -> features -> classifier, nothing in between; a smaller
    # test-only size adds a pool back to the 7×7 the classifier expects.
    children = dict(build_vgg(16, 10, device="meta").named_children())
    assert list(children) == ["resize", "features", "classifier"]
    assert children["resize"].size == 224
    small_children = dict(build_vgg(16, 10, input_size=32, device="meta").named_children())
    assert list(small_children) == ["resize", "features", "pool", "classifier"]
    assert small_children["pool"].output_size == 7 and small_children["resize"].size == 32


def test_invalid_depths_are_rejected():
    with pytest.raises(ValueError, match="16, 19"):
        VGG(11, 10)
    with pytest.raises(ValueError, match="6n \\+ 4"):
        WideResNet(18, 10)


def test_wrn_shortcuts_and_initialisation():
    torch.manual_seed(0)
    model = build_wrn(16, 10)
    first = model.units[0]
    assert first.shortcut is not None and first.shortcut.kernel_size == (1, 1)
    assert model.units[1].shortcut is None  # identity on the un-activated input
    assert model.units[2].shortcut.stride == (2, 2)
    assert all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv2d))
    bn = model.bn
    assert torch.equal(bn.weight, torch.ones(256)) and torch.equal(bn.running_var, torch.ones(256))
    assert torch.equal(model.fc.bias, torch.zeros(10))
    w = model.units[3].conv1.weight  # Glorot uniform: U(±sqrt(6 / (fan_in + fan_out)))
    assert w.abs().max() <= math.sqrt(6 / (2 * 128 * 9))
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_init_refuses_unknown_parameter_modules():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(3))

    with pytest.raises(TypeError, match="Odd"):
        init_modules_(nn.Sequential(nn.Linear(2, 2), Odd()), glorot_uniform_)
    model = build_model(
        lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), glorot_uniform_
    )
    assert torch.isfinite(model[0].weight).all() and torch.equal(
        model[1].running_mean, torch.zeros(2)
    )


class _TwoHeads(nn.Module):
    """Stand-in for Inception-v3: fixed main and auxiliary logits."""

    def __init__(self, main, aux):
        super().__init__()
        self.main, self.aux = main, aux
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, x, with_aux=False):
        main, aux = self.w * self.main, self.w * self.aux
        return (main, aux) if with_aux else main


def test_inception_loss_adds_smoothed_aux_loss_in_training_only():
    tp = testproblems.imagenet_inception_v3(batch_size=4, device="meta")
    tp._set_up_model(5)
    torch.manual_seed(0)
    main, aux, labels = torch.randn(4, 5), torch.randn(4, 5), torch.tensor([0, 1, 2, 4])
    tp.model = _TwoHeads(main, aux)

    def smoothed(logits):  # TF: target 0.9 * one-hot + 0.1 / C
        target = 0.9 * F.one_hot(labels, 5) + 0.1 / 5
        return -(target * logits.log_softmax(dim=1)).sum(dim=1)

    tp.model.train()
    loss, accuracy = tp._loss_and_accuracy((torch.zeros(4), labels), "none")
    torch.testing.assert_close(loss, smoothed(main) + 0.4 * smoothed(aux))
    assert accuracy == (main.argmax(1) == labels).float().mean()
    tp.model.eval()
    loss, _ = tp._loss_and_accuracy((torch.zeros(4), labels), "mean")
    torch.testing.assert_close(loss, smoothed(main).mean())


def test_inception_forward_returns_one_type_in_both_modes():
    model = build_inception_v3(7, device="meta")
    x = torch.empty(2, 3, 224, 224, device="meta")
    for mode in (True, False):
        model.train(mode)
        assert isinstance(model(x), torch.Tensor)
        main, aux = model(x, with_aux=True)
        assert main.shape == aux.shape == (2, 7)


# ---------------------------------------------------------------------- real data paths
@pytest.fixture
def fake_data_dir(tmp_path, monkeypatch):
    fake_image_data.allow_fake_files(monkeypatch)
    for name in ("cifar10", "svhn"):
        fake_image_data.write_fake(name, tmp_path, 24, 8, learnable=True)
    return tmp_path


def test_cifar10_vgg16_trains_on_fake_data(fake_data_dir):
    torch.manual_seed(0)
    tp = testproblems.cifar10_vgg16(batch_size=2, data_dir=fake_data_dir, device="cpu")
    tp.input_size = 32  # test-only: the full 224 costs ~15 GFLOP per image
    tp.set_up()
    assert tp.model.input_size == 32
    tp.train_init_op()
    loss, accuracy = tp.get_batch_loss_and_accuracy()
    loss.backward()
    reg = (
        0.5
        * 5e-4
        * sum(m.weight.square().sum() for m in tp.model.modules() if isinstance(m, nn.Conv2d))
    )
    data_loss = (loss - reg).item()
    assert math.isfinite(data_loss) and abs(data_loss - math.log(10)) < 0.5
    assert isinstance(accuracy, float) and accuracy in (0.0, 0.5, 1.0)  # 2 examples
    assert tp.model.classifier[-1].weight.grad.abs().sum() > 0
    tp.test_init_op()
    first = tp.get_batch_loss_and_accuracy()[0]
    tp.test_init_op()
    assert torch.equal(first, tp.get_batch_loss_and_accuracy()[0])  # no dropout in eval


def test_svhn_wrn164_batch_norm_statistics_on_fake_data(fake_data_dir):
    torch.manual_seed(0)
    tp = testproblems.svhn_wrn164(batch_size=2, data_dir=fake_data_dir, device="cpu")
    tp.set_up()
    bn = tp.model.units[0].bn1
    seen = []
    bn.register_forward_hook(lambda module, args, out: seen.append(args[0].detach()))
    tp.train_init_op()
    loss, _ = tp.get_batch_loss_and_accuracy()
    loss.backward()
    assert math.isfinite(loss.item())
    # PyTorch momentum 0.1 = TF decay 0.9: one step moves the running mean 10 % of the way.
    torch.testing.assert_close(bn.running_mean, 0.1 * seen[0].mean(dim=(0, 2, 3)))
    assert all(p.grad is not None for p in tp.model.parameters())


def test_svhn_wrn164_through_the_runner_with_grad_accumulation(fake_data_dir, tmp_path):
    from deepobs.pytorch.runners import StandardRunner

    runner = StandardRunner(torch.optim.SGD, {"lr": {"type": float}})
    result = runner.run(
        testproblem="svhn_wrn164",
        hyperparams={"lr": 0.01},
        batch_size=4,
        num_epochs=1,
        data_dir=fake_data_dir,
        output_dir=tmp_path / "results",
        device="cpu",
        grad_accumulation=2,  # micro-batches of 2: batch norm statistics per micro-batch
    )
    assert result["status"] == "done" and result["training_params"] == {"grad_accumulation": 2}
    for key in ("train_losses", "valid_losses", "test_losses", "test_accuracies"):
        assert len(result[key]) == 2 and all(math.isfinite(v) for v in result[key])


# ---------------------------------------------------------------------- full size (mostly slow)
@pytest.mark.parametrize(
    ("build", "side", "classes"),
    [
        pytest.param(lambda: build_vgg(16, 1000), 224, 1000, marks=pytest.mark.slow, id="vgg16"),
        pytest.param(lambda: build_vgg(19, 100), 32, 100, marks=pytest.mark.slow, id="vgg19"),
        pytest.param(lambda: build_wrn(40, 100), 32, 100, id="wrn404"),  # 0.5 s: fast set
        pytest.param(
            lambda: build_inception_v3(1000), 224, 1000, marks=pytest.mark.slow, id="inception_v3"
        ),
    ],
)
def test_full_size_forward(build, side, classes):
    torch.manual_seed(0)
    model = build().eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, side, side))
    assert out.shape == (2, classes) and torch.isfinite(out).all()


@pytest.mark.slow
@pytest.mark.parametrize(("name", "lr"), [("cifar10_vgg16", 0.01), ("svhn_wrn164", 0.05)])
def test_full_size_training_reduces_loss(name, lr, fake_data_dir):
    # VGG: evaluation mode (no dropout). WRN: training mode, as its running statistics need
    # more than a few steps to settle; without dropout the training loss is deterministic.
    measure_mode = family(name) == "wrn"
    torch.manual_seed(0)
    tp = testproblems.get_testproblem(name, batch_size=4, data_dir=fake_data_dir, device="cpu")
    tp.set_up()
    optimizer = torch.optim.SGD(tp.model.parameters(), lr=lr, momentum=0.9)
    batch = next(iter(tp.data.train_loader))

    def eval_loss():
        tp.model.train(measure_mode)
        with torch.no_grad():
            return float(tp.loss_and_accuracy(batch, add_regularization=False)[0])

    before = eval_loss()
    for _ in range(4):
        tp.model.train()
        optimizer.zero_grad()
        tp.loss_and_accuracy(batch)[0].backward()
        optimizer.step()
    assert eval_loss() < before
