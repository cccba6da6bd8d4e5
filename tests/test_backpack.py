"""BackPACK on every registered problem, on random inputs of the right shape (no data sets).

The networks are built from standard layers BackPACK knows (TF ``SAME`` padding as
``nn.ZeroPad2d`` before plain convs and pools, no in-place activations), so its extensions
work on the problems' own models and loss modules (``tproblem.loss_function(...)``):

* ``BatchGrad`` (individual gradients) on every problem but :data:`FIRST_ORDER_EXCEPTIONS`;
  networks with batch norm in evaluation mode (individual gradients are undefined when the
  batch statistics couple the examples). Checked against the gradient (their sum) on every
  problem and against per-example autograd gradients on several networks.
* ``DiagGGNExact`` and ``KFAC`` on every problem but :data:`SECOND_ORDER_EXCEPTIONS`; on
  ``quadratic_deep`` the exact GGN diagonal is checked against the Hessian's diagonal.

Full-size VGG, Inception-v3, the Wide ResNets and All-CNN-C cost seconds to a minute each
and are ``slow``, as are the problems that repeat a network with another number of classes
(``fmnist_*``, ``cifar100_3c3d``, ``svhn_3c3d``); the fast set covers the layer types of the
slow ones on a small Wide ResNet.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pytest
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from deepobs.pytorch import testproblems
from deepobs.pytorch.testproblems._char_rnn import CharRNNProblem
from deepobs.pytorch.testproblems._image_problem import ImageClassificationProblem
from deepobs.pytorch.testproblems._vae import VAELoss, VAEProblem, build_vae
from deepobs.pytorch.testproblems._vgg import VGGProblem
from deepobs.pytorch.testproblems._wrn import WideResNet, build_wrn
from deepobs.pytorch.testproblems.quadratic_deep import QuadraticDeepNet, deep_hessian

backpack = pytest.importorskip("backpack")  # in the test extra; missing only outside it
from backpack.extensions import KFAC, BatchGrad, DiagGGNExact  # noqa: E402

N = 3  # batch size of the random inputs
#: Input shape ``[C, H, W]`` per data set of the image problems. ImageNet-sized problems
#: resize inside the network, so any size is a valid input.
IMAGE_SHAPES = {
    "mnist": (1, 28, 28),
    "fmnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
    "cifar100": (3, 32, 32),
    "svhn": (3, 32, 32),
    "imagenet": (3, 32, 32),
    "food101": (3, 32, 32),
    "mnist1d": (40,),
}
#: Problem name patterns whose first-order extensions BackPACK cannot run, and why.
FIRST_ORDER_EXCEPTIONS = {
    "two_d_": "parameters are the raw scalars of a custom function module (no standard layer)",
    "tolstoi_char_rnn": "nn.LSTM with num_layers=2: BackPACK supports single-layer LSTMs only",
    "textgen": "nn.LSTM with num_layers=2: BackPACK supports single-layer LSTMs only",
    "ptb_transformer": "nn.LayerNorm and the attention's functional ops: no BackPACK extension",
}
#: Problem name patterns without second-order support (DiagGGNExact, KFAC), and why.
SECOND_ORDER_EXCEPTIONS = {
    **FIRST_ORDER_EXCEPTIONS,
    "_vae": "latent sampling and a tuple output: the graph is no chain of layers",
    "inception": "batch norm and branch concatenation (BackPACK's converter adds, not concats)",
    "wrn": "KFAC has no batch norm extension (DiagGGNExact: see the converter tests below)",
    "resnet": "batch norm and residual sums: no chain of layers (KFAC: no batch norm)",
}
#: Second order tested by a dedicated test instead of the generic one.
SECOND_ORDER_ELSEWHERE = {
    "vgg": "test_vgg_second_order_at_full_size: one VGG at 224 (the others differ in depth)",
}
#: Problems too expensive for the fast set (seconds to a minute per extension), and problems
#: whose network is that of a fast one with another number of classes.
SLOW = ("vgg", "inception", "wrn", "allcnnc", "resnet", "fmnist_", "cifar100_3c3d", "svhn_3c3d")


#: Problems whose network is another problem's with another number of classes: their layer
#: types are checked to be the same (fast), the extensions run on the representative only.
SAME_NETWORK = {
    "cifar100_vgg16": "cifar10_vgg16",
    "food101_vgg16": "cifar10_vgg16",
    "imagenet_vgg16": "cifar10_vgg16",
    "cifar100_vgg19": "cifar10_vgg19",
    "imagenet_vgg19": "cifar10_vgg19",
}


def _exception(name: str, table: dict[str, str]) -> str | None:
    return next((why for pattern, why in table.items() if pattern in name), None)


@dataclass
class Case:
    """A problem's model, random inputs and targets, and its loss module factory."""

    model: nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor
    loss_function: type

    def outputs(self) -> torch.Tensor:
        return self.model(self.inputs)


def build_case(name: str, small_vgg: bool = True) -> Case:
    """Model, random batch and loss of problem ``name``; no data set is read.

    ``small_vgg``: build VGG for its test-only input size 32 (the same weights).
    """
    cls = testproblems.get_testproblem_class(name)
    torch.manual_seed(0)
    if issubclass(cls, ImageClassificationProblem):
        shape = IMAGE_SHAPES.get(cls.spec.dataset)
        assert shape is not None, f"add the input shape of data set {cls.spec.dataset!r}"
        tp = cls(batch_size=N, device="cpu")
        if issubclass(cls, VGGProblem) and small_vgg:
            tp.input_size = 32
        num_classes = cls.num_classes or 10
        tp._set_up_model(num_classes)
        x = torch.rand(N, *shape)
        return Case(tp.model, x, torch.randint(0, num_classes, (N,)), tp.loss_function)
    if name == "quadratic_deep":
        x = 0.6 * torch.randn(N, 100)
        return Case(QuadraticDeepNet(deep_hessian()), x, torch.zeros(N, 100), nn.MSELoss)
    if issubclass(cls, VAEProblem):
        x = torch.rand(N, 1, 28, 28)
        return Case(build_vae(), x, x, VAELoss)
    raise AssertionError(f"no BackPACK recipe for {name!r}: add one to build_case")


def _params(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def _has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, _BatchNorm) for m in model.modules())


def _run(case: Case, extension, **extend_kwargs) -> torch.Tensor:
    """Extend model and loss, run one backward pass with ``extension``; return the loss."""
    model = backpack.extend(case.model, **extend_kwargs)
    loss_module = backpack.extend(case.loss_function(reduction="mean"))
    with warnings.catch_warnings():
        # A custom container (e.g. the VAE) holds parameters but computes nothing itself;
        # BackPACK warns about it and runs the extensions on its layers.
        warnings.filterwarnings("ignore", "Extension saving to grad_batch does not have")
        warnings.filterwarnings("ignore", "Full backward hook is firing")  # inputs need no grad
        loss = loss_module(model(case.inputs), case.targets)
        with backpack.backpack(extension):
            loss.backward()
    return loss


def _params_for(name):
    marks = [pytest.mark.slow] if any(s in name for s in SLOW) else []
    return pytest.param(name, marks=marks, id=name)


FIRST_ORDER = [
    _params_for(n)
    for n in testproblems.list_testproblems()
    if _exception(n, FIRST_ORDER_EXCEPTIONS) is None and n not in SAME_NETWORK
]
SECOND_ORDER = [
    _params_for(n)
    for n in testproblems.list_testproblems()
    if _exception(n, {**SECOND_ORDER_EXCEPTIONS, **SECOND_ORDER_ELSEWHERE}) is None
    and n not in SAME_NETWORK
]


def _layer_types(name: str) -> tuple[list[type], list[torch.Size]]:
    tp = testproblems.get_testproblem(name, batch_size=N, device="meta")
    tp._set_up_model(10)  # the same class count: only the layers are compared
    return [type(m) for m in tp.model.modules()], [p.shape for p in tp.model.parameters()]


@pytest.mark.parametrize("name", sorted(SAME_NETWORK))
def test_problems_left_out_have_the_network_of_their_representative(name):
    assert _layer_types(name) == _layer_types(SAME_NETWORK[name])


# ---------------------------------------------------------------------- first order
@pytest.mark.parametrize("name", FIRST_ORDER)
def test_batch_grad_sums_to_the_gradient(name):
    case = build_case(name)
    case.model.train(not _has_batch_norm(case.model))  # batch norm: evaluation mode
    if "inception" in name:  # 299 pixels inside the network: two images suffice
        case.inputs, case.targets = case.inputs[:2], case.targets[:2]
    n = len(case.inputs)
    _run(case, BatchGrad())
    unused = {id(p) for p in getattr(case.model, "aux", nn.Module()).parameters()}
    for p in _params(case.model):
        if p.grad is None and id(p) in unused:
            continue  # Inception-v3's auxiliary head is used in training only
        assert p.grad_batch.shape == (n, *p.shape)
        _assert_sums_to(p.grad_batch, p.grad)


def _assert_sums_to(grad_batch: torch.Tensor, grad: torch.Tensor) -> None:
    # float32 sums of N terms in another order: errors ~1e-6 of the largest entry.
    error = (grad_batch.sum(0) - grad).abs().max()
    assert error <= 1e-4 * grad.abs().max() + 1e-8


def _per_example_gradients(case: Case) -> list[torch.Tensor]:
    """Gradients of each example's share of the mean loss, by autograd (same forward)."""
    unreduced = case.loss_function(reduction="none")(case.outputs(), case.targets)
    terms = unreduced.flatten(1).sum(1) if unreduced.dim() > 1 else unreduced
    terms = terms / unreduced.numel()
    params = _params(case.model)
    rows = [torch.autograd.grad(t, params, retain_graph=True) for t in terms]
    return [torch.stack(per_param) for per_param in zip(*rows)]


@pytest.mark.parametrize("name", ["mnist_mlp", "cifar10_3c3d", "quadratic_deep", "mnist_vae"])
def test_individual_gradients_match_autograd(name):
    case = build_case(name)
    case.model.train()
    torch.manual_seed(1)  # the same dropout masks and latent noise in both forward passes
    expected = _per_example_gradients(case)
    case.model.zero_grad()
    torch.manual_seed(1)
    _run(case, BatchGrad())
    for p, ref in zip(_params(case.model), expected, strict=True):
        torch.testing.assert_close(p.grad_batch, ref, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------- second order
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_diag_ggn_exact_and_kfac(name):
    case = build_case(name)
    case.model.eval()  # dropout off: a deterministic network for the curvature
    _run(case, DiagGGNExact())
    for p in _params(case.model):
        assert p.diag_ggn_exact.shape == p.shape
        assert torch.isfinite(p.diag_ggn_exact).all() and (p.diag_ggn_exact >= -1e-6).all()
    case = build_case(name)
    case.model.eval()
    _run(case, KFAC(mc_samples=1))
    for p in _params(case.model):
        factors = p.kfac
        assert len(factors) in (1, 2)
        side = [f.shape[0] for f in factors]
        assert all(f.shape == (s, s) for f, s in zip(factors, side, strict=True))
        assert torch.tensor(side).prod() == p.numel()


def test_quadratic_exact_ggn_diagonal_is_the_hessian_diagonal():
    case = build_case("quadratic_deep")
    _run(case, DiagGGNExact())
    theta = case.model.theta
    expected = torch.from_numpy(deep_hessian().diagonal().copy()).float()
    torch.testing.assert_close(theta.diag_ggn_exact, expected, rtol=1e-4, atol=1e-5)
    assert len(_params(case.model)) == 1


# ---------------------------------------------------------------------- residual networks
def _small_wrn_case() -> Case:
    torch.manual_seed(0)
    model = build_wrn(10, 5, widen=1).eval()  # the problems' layer types, 1/100 of the cost
    return Case(model, torch.rand(2, 3, 32, 32), torch.randint(0, 5, (2,)), nn.CrossEntropyLoss)


def test_small_wide_resnet_batch_grad_and_diag_ggn_via_the_converter():
    case = _small_wrn_case()
    _run(case, BatchGrad())
    for p in _params(case.model):
        _assert_sums_to(p.grad_batch, p.grad)
    case = _small_wrn_case()
    model = backpack.extend(case.model, use_converter=True)  # residual sums -> BackPACK graph
    loss = backpack.extend(nn.CrossEntropyLoss())(model(case.inputs), case.targets)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Full backward hook is firing")
        with backpack.backpack(DiagGGNExact()):
            loss.backward()
    assert all(torch.isfinite(p.diag_ggn_exact).all() for p in _params(model))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["svhn_wrn164"])  # WRN-40-4: the same layers, 200 s
def test_wide_resnet_diag_ggn_via_the_converter(name):
    case = build_case(name)
    assert isinstance(case.model, WideResNet)
    model = backpack.extend(case.model.eval(), use_converter=True)
    loss = backpack.extend(nn.CrossEntropyLoss())(model(case.inputs), case.targets)
    with backpack.backpack(DiagGGNExact()):
        loss.backward()
    assert all(torch.isfinite(p.diag_ggn_exact).all() for p in _params(model))


@pytest.mark.slow
@pytest.mark.parametrize("extension", [DiagGGNExact, KFAC], ids=["DiagGGNExact", "KFAC"])
def test_vgg_second_order_at_full_size(extension):
    case = build_case("cifar10_vgg16", small_vgg=False)  # resized to 224 inside the network
    case.model.eval()
    case.inputs, case.targets = case.inputs[:1], case.targets[:1]  # 224 pixels: one image
    _run(case, extension())
    field = "diag_ggn_exact" if extension is DiagGGNExact else "kfac"
    assert all(hasattr(p, field) for p in _params(case.model))


def test_exception_lists_name_registered_problems_or_families():
    names = testproblems.list_testproblems()
    for pattern in {**SECOND_ORDER_EXCEPTIONS, **SECOND_ORDER_ELSEWHERE}:
        assert any(pattern in n for n in names), pattern
    rnn = [n for n in names if issubclass(testproblems.get_testproblem_class(n), CharRNNProblem)]
    assert all(_exception(n, FIRST_ORDER_EXCEPTIONS) for n in rnn)
