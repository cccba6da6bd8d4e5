"""The test-problem surface of DeepOBS' ``develop`` branch, which backobs and cockpit use.

Class hierarchy (``UnregularizedTestproblem`` / ``WeightRegularizedTestproblem``), loss
functions as factories of ``torch.nn`` loss modules with three reductions, the phase API
calling a replaceable ``get_batch_loss_and_accuracy_func`` and returning a float accuracy,
user problems written as in DeepOBS, the net modules under their DeepOBS names, and the
declared problem traits. Everything runs on generated or tiny fake data.
"""

from __future__ import annotations

import random
import types

import pytest
import torch
from fake_image_data import allow_fake_files, write_mnist
from torch import nn

from deepobs.pytorch import datasets, testproblems
from deepobs.pytorch.testproblems import testproblems_modules as modules
from deepobs.pytorch.testproblems import testproblems_utils as utils
from deepobs.pytorch.testproblems.testproblem import (
    TestProblem,
    UnregularizedTestproblem,
    WeightRegularizedTestproblem,
)

BS = 4
ALL = testproblems.list_testproblems()


def _cls(name):
    return testproblems.get_testproblem_class(name)


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist")
    write_mnist(root, 16, 8)
    return root


@pytest.fixture
def fake_files(monkeypatch):
    allow_fake_files(monkeypatch)


def _problem(name, root=None, **kwargs):
    torch.manual_seed(0)
    tp = _cls(name)(BS, device="cpu", data_dir=root, **kwargs)
    tp.set_up()
    return tp


# ---------------------------------------------------------------------- hierarchy
@pytest.mark.parametrize("name", ALL)
def test_hierarchy_tells_regularised_problems_apart(name):
    cls = _cls(name)
    unregularized = issubclass(cls, UnregularizedTestproblem)
    assert unregularized != issubclass(cls, WeightRegularizedTestproblem)
    assert unregularized == (cls.spec.l2_reg is None)


def test_develop_classification_of_the_deepobs_problems():
    unregularized = {n for n in ALL if issubclass(_cls(n), UnregularizedTestproblem)}
    expected = {
        "quadratic_deep",
        "two_d_beale",
        "two_d_branin",
        "two_d_rosenbrock",
        "mnist_logreg",
        "mnist_mlp",
        "mnist_2c2d",
        "mnist_vae",
        "fmnist_logreg",
        "fmnist_mlp",
        "fmnist_2c2d",
        "fmnist_vae",
        "tolstoi_char_rnn",
        "textgen",
    }
    assert expected <= unregularized
    for name in ("cifar10_3c3d", "cifar100_allcnnc", "cifar10_vgg16", "svhn_wrn164"):
        assert issubclass(_cls(name), WeightRegularizedTestproblem)


def test_backobs_style_construction_with_l2_zero_is_silent_and_unregularised(recwarn):
    tp = testproblems.quadratic_deep(BS, l2_reg=0.0)
    assert tp._l2_reg is None and not recwarn.list
    assert testproblems.cifar10_3c3d(BS, l2_reg=0.0)._l2_reg == 0.0
    assert testproblems.cifar10_3c3d(BS)._l2_reg == 0.002


# ---------------------------------------------------------------------- user problems
class _Lin(UnregularizedTestproblem):
    """A DeepOBS-style user problem: linear model on the quadratic data, MSE loss."""

    def __init__(self, batch_size, l2_reg=None):
        super().__init__(batch_size, l2_reg=l2_reg)

    def set_up(self):
        self.data = datasets.quadratic(self._batch_size)
        self.net = nn.Sequential(nn.Linear(100, 100))
        self.net.to(self._device)
        self.loss_function = nn.MSELoss
        self.regularization_groups = self.get_regularization_groups()


class _RegLin(WeightRegularizedTestproblem):
    """The same model with L2 on its weight."""

    def __init__(self, batch_size, l2_reg=None):
        super().__init__(batch_size, l2_reg=l2_reg)

    set_up = _Lin.set_up


def test_user_subclasses_written_as_for_develop():
    plain = _Lin(10)
    plain.set_up()
    assert plain.get_regularization_groups() == {0.0: list(plain.net.parameters())}
    plain.train_init_op()
    loss, acc = plain.get_batch_loss_and_accuracy()
    assert loss.ndim == 0 and acc == 0.0  # float targets: no accuracy, DeepOBS' 0.0
    reg = _RegLin(10, l2_reg=0.1)
    reg.set_up()
    groups = reg.get_regularization_groups()
    assert [p is reg.net[0].weight for p in groups[0.1]] == [True]
    assert [p is reg.net[0].bias for p in groups[0.0]] == [True]
    expected = 0.05 * reg.net[0].weight.square().sum()
    torch.testing.assert_close(reg.get_regularization_loss(), expected)
    reg.test_init_op()  # unshuffled: both closures see the same batch
    with_r, _ = reg.get_batch_loss_and_accuracy_func()()
    reg.test_init_op()
    without_r, _ = reg.get_batch_loss_and_accuracy_func(add_regularization_if_available=False)()
    torch.testing.assert_close(with_r - without_r, expected)


def test_unregularised_user_problem_warns_on_l2_and_ignores_it():
    with pytest.warns(UserWarning, match="no regularisation"):
        tp = _Lin(10, l2_reg=0.5)
    assert tp.l2_reg is None


# ---------------------------------------------------------------------- loss factories
def test_quadratic_loss_factory_three_reductions():
    tp = _problem("quadratic_deep")
    tp.train_init_op()
    inputs, targets = tp._get_next_batch()
    out = tp.net(inputs)
    losses = {r: tp.loss_function(reduction=r)(out, targets) for r in ("mean", "sum", "none")}
    assert isinstance(tp.loss_function(), nn.MSELoss)
    assert losses["none"].shape == (BS, 100)
    torch.testing.assert_close(losses["sum"], losses["none"].sum())
    torch.testing.assert_close(losses["mean"], losses["none"].mean())


def test_classification_and_vae_loss_factories(mnist_root, fake_files):
    clf = _problem("mnist_2c2d", mnist_root)
    assert isinstance(clf.loss_function(reduction="sum"), nn.CrossEntropyLoss)
    clf.test_init_op()
    x, y = clf._get_next_batch()
    logits = clf.net(x)
    none = clf.loss_function(reduction="none")(logits, y)
    assert none.shape == (BS,)
    torch.testing.assert_close(clf.loss_function(reduction="sum")(logits, y), none.sum())
    vae = _problem("mnist_vae", mnist_root)
    vae.test_init_op()
    images, _ = vae._get_next_batch()
    torch.manual_seed(1)
    x_hat, mean, log_std = vae.net(images)
    per_example = vae.loss_function(reduction="none")(x_hat, images, mean, log_std)  # DeepOBS
    assert per_example.shape == (BS,)
    both = vae.loss_function(reduction="none")((x_hat, mean, log_std), images)  # ours
    torch.testing.assert_close(per_example, both)
    total = vae.loss_function(reduction="sum")(x_hat, images, mean, log_std)
    torch.testing.assert_close(total, per_example.sum())
    sse = (x_hat.flatten(1) - images.flatten(1)).square().sum(1)
    kl = 0.5 * (mean.square() + torch.exp(2 * log_std) - 1 - 2 * log_std).sum(1)
    torch.testing.assert_close(per_example, sse + kl)


def test_char_rnn_loss_factory(tmp_path):
    rng = random.Random(0)
    folder = tmp_path / "ptb"
    folder.mkdir()
    words = ["the", "cat", "sat", "on", "a", "mat", "<unk>", "N"]
    for split, n in (("train", 200), ("valid", 40), ("test", 40)):
        lines = (" ".join(rng.choice(words) for _ in range(8)) for _ in range(n))
        (folder / f"ptb.{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tp = _problem("textgen", tmp_path)
    assert isinstance(tp.loss_function(reduction="none"), nn.CrossEntropyLoss)
    tp.test_init_op()
    per_seq, acc = tp.get_batch_loss_and_accuracy(reduction="none")
    tp.test_init_op()
    total, _ = tp.get_batch_loss_and_accuracy(reduction="sum")
    assert per_seq.shape == (BS,) and isinstance(acc, float)
    torch.testing.assert_close(total, per_seq.sum())


@pytest.mark.parametrize("name", ["two_d_beale", "two_d_rosenbrock", "two_d_branin"])
def test_two_d_loss_factory_reduces_the_model_outputs(name):
    tp = _problem(name)
    tp.test_init_op()
    x, y = tp._get_next_batch()
    outputs = tp.net(x, y)
    assert isinstance(tp.loss_function(), nn.Module)
    torch.testing.assert_close(tp.loss_function(reduction="none")(outputs), outputs)
    torch.testing.assert_close(tp.loss_function(reduction="sum")(outputs), outputs.sum())
    torch.testing.assert_close(tp.loss_function()(outputs), outputs.mean())


# ---------------------------------------------------------------------- phase API
def test_phase_api_calls_a_replaced_closure_factory_on_the_instance():
    tp = _problem("quadratic_deep")
    calls = []

    def replaced(self, reduction="mean", add_regularization_if_available=True):
        inputs, labels = self._get_next_batch()
        calls.append((reduction, add_regularization_if_available))

        def forward():
            loss = self.loss_function(reduction=reduction)(self.net(inputs), labels)
            loss.unreduced = self.loss_function(reduction="none")(self.net(inputs), labels)
            return loss, 0.25

        return forward

    tp.get_batch_loss_and_accuracy_func = types.MethodType(replaced, tp)
    tp.train_init_op()
    loss, acc = tp.get_batch_loss_and_accuracy(reduction="sum")
    assert calls == [("sum", True)] and acc == 0.25
    assert loss.unreduced.shape == (BS, 100)
    torch.testing.assert_close(loss, loss.unreduced.sum())


def test_phase_api_float_accuracy_and_sync_free_closure(mnist_root, fake_files):
    tp = _problem("mnist_logreg", mnist_root)
    tp.train_init_op()
    loss, acc = tp.get_batch_loss_and_accuracy_func()()
    assert isinstance(acc, torch.Tensor) and acc.shape == ()  # no .item() in the closure
    tp.train_init_op()
    loss2, acc2 = tp.get_batch_loss_and_accuracy()
    assert isinstance(acc2, float) and acc2 == float(acc)
    torch.testing.assert_close(loss, loss2)


def test_next_batch_is_public_and_the_develop_name_stays():
    tp = _problem("quadratic_deep")
    tp.test_init_op()
    first = tp.next_batch()
    second = tp._get_next_batch()
    assert not torch.equal(first[0], second[0])
    tp.test_init_op()
    torch.testing.assert_close(tp._get_next_batch()[0], first[0])


def test_regularisation_loss_is_a_tensor_on_unregularised_problems():
    tp = _problem("quadratic_deep")
    reg = tp.get_regularization_loss()
    assert isinstance(reg, torch.Tensor) and reg.item() == 0.0


# ---------------------------------------------------------------------- traits
def test_declared_traits():
    traits = testproblems.problem_traits
    assert traits(testproblems.textgen) == testproblems.ProblemTraits(True, False)
    assert traits(testproblems.tolstoi_char_rnn).stateful
    assert not traits(testproblems.mnist_vae).batch_independent_eval
    assert not traits(testproblems.mnist_vae).stateful
    assert traits(testproblems.cifar10_3c3d) == testproblems.ProblemTraits(False, True)
    assert traits(testproblems.quadratic_deep) == testproblems.ProblemTraits(False, True)
    with pytest.raises(ValueError, match="stateful"):
        testproblems.register_testproblem(
            dataset="quadratic", stateful=True, batch_independent_eval=True
        )


def test_traits_of_user_problems_declared_or_inferred():
    class Declared(_Lin):
        """Declares itself batch-dependent."""

        batch_independent_eval = False

    class Stateful(_Lin):
        """Resets a state at each phase, so it is stateful."""

        def _on_phase_start(self, phase):
            self.state = None

    class OwnLoss(_Lin):
        """Computes its loss its own way: not assumed batch-independent."""

        def _loss_and_accuracy(self, batch, reduction):
            return super()._loss_and_accuracy(batch, reduction)

    traits = testproblems.problem_traits
    assert traits(_Lin) == testproblems.ProblemTraits(False, True)
    assert traits(Declared(3)) == testproblems.ProblemTraits(False, False)
    assert traits(Stateful) == testproblems.ProblemTraits(True, False)
    assert traits(OwnLoss) == testproblems.ProblemTraits(False, False)


# ---------------------------------------------------------------------- net modules
def test_net_modules_under_their_deepobs_names():
    cases = {
        "net_mnist_logreg": (modules.net_mnist_logreg(num_outputs=10), (2, 1, 28, 28), 7_850),
        "net_mlp": (modules.net_mlp(num_outputs=10), (2, 1, 28, 28), 1_336_610),
        "net_mnist_2c2d": (modules.net_mnist_2c2d(num_outputs=10), (2, 1, 28, 28), 3_274_634),
        "net_cifar10_3c3d": (modules.net_cifar10_3c3d(num_outputs=100), (2, 3, 32, 32), 918_340),
        "net_cifar100_allcnnc": (modules.net_cifar100_allcnnc(), (2, 3, 32, 32), 1_387_108),
        "net_wrn": (
            modules.net_wrn(num_residual_blocks=2, widening_factor=4, num_outputs=10),
            (2, 3, 32, 32),
            2_748_890,
        ),
    }
    for name, (net, shape, n_params) in cases.items():
        assert sum(p.numel() for p in net.parameters()) == n_params, name
        assert net.eval()(torch.rand(shape)).shape[0] == 2, name
    wrn = cases["net_wrn"][0]
    norms = [m for m in wrn.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.momentum == pytest.approx(0.1) for m in norms)  # TF decay 0.9
    vae = modules.net_vae(n_latent=8)
    x_hat, mean, log_std = vae(torch.rand(2, 1, 28, 28))
    assert x_hat.shape == (2, 784) and mean.shape == log_std.shape == (2, 8)
    rnn = modules.net_char_rnn(seq_len=50, hidden_dim=128, vocab_size=83, num_layers=2)
    logits, (h, c) = rnn(torch.randint(0, 83, (2, 5)))
    assert logits.shape == (2, 5, 83) and h.shape == (2, 2, 128)
    assert sum(p.numel() for p in rnn.parameters() if p.requires_grad) == 284_499
    with pytest.raises(ValueError, match="hidden_dim=64"):
        modules.net_char_rnn(50, 64, 83, 2)


def test_net_quadratic_deep_with_another_hessian():
    hessian = torch.diag(torch.tensor([1.0, 4.0, 9.0])).numpy()
    net = modules.net_quadratic_deep(hessian)
    x = torch.tensor([[1.0, 0.0, -1.0]])
    loss = nn.MSELoss()(net(x), torch.zeros(1, 3))
    # 0.5 (θ - x)^T Q (θ - x) with θ = 1: differences (0, 1, 2) -> 0.5 (0 + 4 + 36) = 20
    torch.testing.assert_close(loss, torch.tensor(20.0))
    assert [p.shape for p in net.parameters() if p.requires_grad] == [(3,)]


def test_testproblems_utils_tf_padding():
    torch.manual_seed(0)
    conv = utils.tfconv2d(1, 2, kernel_size=4, stride=2, tf_padding_type="same")
    x = torch.rand(1, 1, 7, 7)
    assert isinstance(conv, nn.Conv2d) and conv(x).shape == (1, 2, 4, 4)  # ceil(7 / 2)
    plain = nn.Conv2d(1, 2, 4, 2)
    plain.load_state_dict(conv.state_dict())
    # TF: total padding (4 - 1) * 2 + 4 - 7 = 3, one before and two after.
    torch.testing.assert_close(conv(x), plain(nn.functional.pad(x, (1, 2, 1, 2))))
    assert utils.tfconv2d(1, 2, 3)(x).shape == (1, 2, 5, 5)  # valid by default
    pool = utils.tfmaxpool2d(3, 2, tf_padding_type="same")
    assert pool(torch.rand(1, 1, 28, 28)).shape == (1, 1, 14, 14)
    assert utils.flatten()(torch.rand(2, 3, 4)).shape == (2, 12)
    y = torch.rand(2, 5, 6, 6)
    torch.testing.assert_close(utils.mean_allcnnc()(y), y.mean(dim=(2, 3)))
    with pytest.raises(ValueError, match="'same', 'valid' or None"):
        utils.tfconv2d(1, 1, 3, tf_padding_type="SAME ")


def test_compat_modules_are_not_problem_modules():
    assert "testproblems_modules" not in ALL and "testproblems_utils" not in ALL
    assert not any(
        isinstance(v, type) and issubclass(v, TestProblem) and v.spec is not None
        for v in vars(modules).values()
        if v not in (testproblems.quadratic_deep,)
    )
