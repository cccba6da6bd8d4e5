"""The twelve classic image problems (MNIST, Fashion-MNIST, CIFAR-10/100, SVHN) on fake data.

The problem list comes from the registry: every problem on one of these data sets that is
built on the nets of this area (logistic regression, MLP, 2c2d, VAE, 3c3d, All-CNN-C).
Batches are tiny (4 examples) so that the full-size networks stay cheap.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from fake_image_data import SHAPES, allow_fake_files, write_fake, write_mnist
from torch import nn

from deepobs.pytorch import datasets
from deepobs.pytorch.testproblems import get_testproblem, get_testproblem_class, list_testproblems
from deepobs.pytorch.testproblems._nets_cifar import AllCNNCProblem, C3DProblem
from deepobs.pytorch.testproblems._nets_mnist import C2DProblem, LogRegProblem, MLPProblem
from deepobs.pytorch.testproblems._vae import VAELoss, VAEProblem

BS = 4
FAMILIES = (LogRegProblem, MLPProblem, C2DProblem, VAEProblem, C3DProblem, AllCNNCProblem)
PROBLEMS = [
    n
    for n in list_testproblems()
    if get_testproblem_class(n).spec.dataset in SHAPES
    and issubclass(get_testproblem_class(n), FAMILIES)
]

#: Trainable parameters (reference §3).
PARAMETERS = {
    "mnist_logreg": 7_850,
    "fmnist_logreg": 7_850,
    "mnist_mlp": 1_336_610,
    "fmnist_mlp": 1_336_610,
    "mnist_2c2d": 3_274_634,
    "fmnist_2c2d": 3_274_634,
    "mnist_vae": 10_151_489,
    "fmnist_vae": 10_151_489,
    "cifar10_3c3d": 895_210,
    "svhn_3c3d": 895_210,
    "cifar100_3c3d": 918_340,
    "cifar100_allcnnc": 1_387_108,
}
#: (batch size, epochs, L2 factor, has accuracy) (reference §2.1).
DEFAULTS = {
    "mnist_logreg": (128, 50, None, True),
    "fmnist_logreg": (128, 50, None, True),
    "mnist_mlp": (128, 100, None, True),
    "fmnist_mlp": (128, 100, None, True),
    "mnist_2c2d": (128, 100, None, True),
    "fmnist_2c2d": (128, 100, None, True),
    "mnist_vae": (64, 50, None, False),
    "fmnist_vae": (64, 100, None, False),
    "cifar10_3c3d": (128, 100, 0.002, True),
    "cifar100_3c3d": (128, 100, 0.002, True),
    "svhn_3c3d": (128, 100, 0.002, True),
    "cifar100_allcnnc": (256, 350, 5e-4, True),
}
#: Number of regularised weight tensors.
N_REGULARISED = {"cifar10_3c3d": 6, "cifar100_3c3d": 6, "svhn_3c3d": 6, "cifar100_allcnnc": 9}


@pytest.fixture(scope="module")
def problems(tmp_path_factory):
    """Each problem built once on fake data (16 train / 8 test examples), batch size 4."""
    root = tmp_path_factory.mktemp("image_data")
    for name in SHAPES:
        write_fake(name, root, 16, 8, seed=len(name))
    built = {}
    with pytest.MonkeyPatch.context() as mp:
        allow_fake_files(mp)
        for name in PROBLEMS:
            torch.manual_seed(0)
            built[name] = get_testproblem(name, batch_size=BS, data_dir=root, device="cpu")
            built[name].set_up()
    return built


def test_all_twelve_problems_are_registered():
    assert sorted(PROBLEMS) == sorted(PARAMETERS)


@pytest.mark.parametrize("name", PROBLEMS)
def test_defaults_and_data_set(problems, name):
    spec = get_testproblem_class(name).spec
    assert (spec.batch_size, spec.num_epochs, spec.l2_reg, spec.has_accuracy) == DEFAULTS[name]
    assert spec.metric == ("test_accuracy" if spec.has_accuracy else "test_loss")
    assert spec.dataset == name.split("_")[0]
    assert type(problems[name].data) is datasets.DATASETS[spec.dataset]  # fmnist_* on FMNIST


@pytest.mark.parametrize("name", PROBLEMS)
def test_parameter_count(problems, name):
    assert problems[name].num_parameters() == PARAMETERS[name]


@pytest.mark.parametrize("name", PROBLEMS)
def test_every_phase_forward_and_backward(problems, name):
    problem = problems[name]
    for phase in ("train", "train_eval", "valid", "test"):
        getattr(problem, f"{phase}_init_op")()
        assert problem.model.training == (phase == "train")
        loss, accuracy = problem.get_batch_loss_and_accuracy()
        assert loss.shape == () and math.isfinite(loss.item())
        assert isinstance(accuracy, float)  # the phase API: DeepOBS' float
        if problem.spec.has_accuracy:
            assert 0.0 <= accuracy <= 1.0 and accuracy * BS == round(accuracy * BS)  # k / BS
        else:
            assert accuracy == 0.0
        if phase == "train":
            problem.model.zero_grad()
            loss.backward()
            grads = [p.grad for p in problem.model.parameters()]
            assert all(g is not None and torch.isfinite(g).all() for g in grads)
        else:
            assert not loss.requires_grad
        losses, _ = problem.get_batch_loss_and_accuracy(reduction="none")
        assert losses.shape == (BS,) and torch.isfinite(losses).all()


@pytest.mark.parametrize("name", PROBLEMS)
def test_l2_covers_exactly_the_kernels(problems, name):
    problem = problems[name]
    groups = problem.regularization_groups
    if name not in N_REGULARISED:
        assert list(groups) == [0.0]
        return
    kernels = [m.weight for m in problem.model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert len(kernels) == N_REGULARISED[name]
    assert {id(p) for p in groups[problem.l2_reg]} == {id(p) for p in kernels}
    assert all(p.dim() > 1 for p in groups[problem.l2_reg])  # no bias vectors
    expected = 0.5 * problem.l2_reg * sum(p.square().sum() for p in kernels)
    torch.testing.assert_close(problem.get_regularization_loss(), expected)


def test_l2_is_ignored_with_a_warning_where_there_is_none():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        problem = get_testproblem("mnist_mlp", batch_size=BS, l2_reg=0.1)
    assert problem.l2_reg is None and any("ignored" in str(w.message) for w in caught)


def _weights_and_biases(model):
    layers = [
        m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))
    ]
    return [m.weight for m in layers], [m.bias for m in layers]


@pytest.mark.parametrize(
    "name, bias, weight_bound",
    [
        ("mnist_logreg", 0.0, 0.0),
        ("mnist_mlp", 0.0, 0.06),  # truncated normal sigma 0.03, cut at 2 sigma
        ("mnist_2c2d", 0.05, 0.1),
        ("mnist_vae", 0.0, None),
        ("cifar10_3c3d", 0.0, None),
        ("cifar100_allcnnc", 0.1, None),
    ],
)
def test_initialisation(problems, name, bias, weight_bound):
    weights, biases = _weights_and_biases(problems[name].model)
    assert all(torch.all(b == bias) for b in biases)
    if weight_bound is not None:
        assert all(w.abs().max() <= weight_bound for w in weights)
    if name == "mnist_mlp":
        std = torch.cat([w.flatten() for w in weights]).std().item()
        assert abs(std - 0.03 * 0.8796) < 0.002  # std of a normal truncated at 2 sigma


@pytest.mark.parametrize(
    "name, conv_init, dense_init",
    [
        ("cifar10_3c3d", "normal", "uniform"),
        ("cifar100_allcnnc", "normal", None),
        ("mnist_vae", "uniform", "uniform"),
    ],
)
def test_glorot_initialisation(problems, name, conv_init, dense_init):
    for module in problems[name].model.modules():
        if not isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            continue
        w = module.weight.detach()
        if w.numel() < 2000:  # too few draws for a stable estimate
            continue
        fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(w)
        kind = dense_init if isinstance(module, nn.Linear) else conv_init
        scale = math.sqrt(2.0 / (fan_in + fan_out))  # std of both Glorot variants
        assert abs(w.std().item() / scale - 1.0) < 0.1, module
        bound = 2.0 * scale / 0.8796 if kind == "normal" else math.sqrt(3.0) * scale
        assert w.abs().max().item() <= bound * 1.0001, module


def test_vae_loss_is_squared_error_plus_kl():
    x_hat, images = torch.full((2, 784), 0.5), torch.zeros(2, 1, 28, 28)
    mu, log_std = torch.tensor([[1.0] * 8, [0.0] * 8]), torch.zeros(2, 8)
    losses = VAELoss(reduction="none")((x_hat, mu, log_std), images)
    torch.testing.assert_close(losses, torch.tensor([784 * 0.25 + 4.0, 784 * 0.25]))


def test_vae_samples_the_latent_noise_in_evaluation(problems):
    problem = problems["mnist_vae"]
    problem.test_init_op()
    batch = next(iter(problem.data.test_loader))
    problem.model.eval()
    with torch.no_grad():
        first, _ = problem.loss_and_accuracy(batch)
        second, _ = problem.loss_and_accuracy(batch)
    assert not torch.equal(first, second)


@pytest.mark.slow
def test_mnist_logreg_learns_fake_digits(tmp_path, monkeypatch):
    allow_fake_files(monkeypatch)
    write_mnist(tmp_path, 2000, 200, learnable=True)
    torch.manual_seed(0)
    problem = get_testproblem("mnist_logreg", batch_size=32, data_dir=tmp_path, device="cpu")
    problem.set_up()
    optimizer = torch.optim.SGD(problem.model.parameters(), lr=0.05)

    def test_loss():
        problem.test_init_op()
        with torch.no_grad():
            return sum(problem.get_batch_loss_and_accuracy()[0].item() for _ in range(6)) / 6

    before = test_loss()
    for _ in range(20):  # 20 epochs of 31 steps
        problem.train_init_op()
        for _ in range(len(problem.data.train_loader)):
            optimizer.zero_grad()
            loss, _ = problem.get_batch_loss_and_accuracy()
            loss.backward()
            optimizer.step()
    assert test_loss() < 0.5 * before
