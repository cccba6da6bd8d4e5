"""The image data sets (MNIST, Fashion-MNIST, CIFAR-10/100, SVHN) on tiny fake files.

The fake files are written in each data set's real on-disk format (``fake_image_data``) and
read by the real loaders; nothing here touches the network (the ``download`` test aside).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_image_data import SHAPES, allow_fake_files, read_fake, write_fake, write_mnist

from deepobs.pytorch import cli, datasets
from deepobs.pytorch.datasets import _augment
from deepobs.pytorch.datasets._image import split_indices

NAMES = sorted(SHAPES)
N_TRAIN, N_TEST, BS = 40, 12, 4

# Independent references (reference §4.1 and §4.4), written out rather than read from the code.
#: DeepOBS 1.2's normalisation constants (mean, std); MNIST and Fashion-MNIST have none.
PUBLISHED_MEAN_STD = {
    "cifar10": ((0.49139968, 0.48215841, 0.44653091), (0.24703223, 0.24348513, 0.26158784)),
    "cifar100": ((0.50707516, 0.48654887, 0.44091784), (0.26733429, 0.25643846, 0.27615047)),
    "svhn": ((0.4376821, 0.4437697, 0.47280442), (0.19803012, 0.20101562, 0.19703614)),
}
#: Raw (train, test) sizes and DeepOBS 1.2's (train, valid, train_eval, test) sizes.
PUBLISHED_SIZES = {
    "mnist": ((60_000, 10_000), (50_000, 10_000, 10_000, 10_000)),
    "fmnist": ((60_000, 10_000), (50_000, 10_000, 10_000, 10_000)),
    "cifar10": ((50_000, 10_000), (40_000, 10_000, 10_000, 10_000)),
    "cifar100": ((50_000, 10_000), (40_000, 10_000, 10_000, 10_000)),
    "svhn": ((73_257, 26_032), (47_225, 26_032, 26_032, 26_032)),
}


@pytest.fixture
def fake_dir(tmp_path, monkeypatch):
    """A data directory holding all five fake data sets; checksum verification off."""
    allow_fake_files(monkeypatch)
    for name in NAMES:
        write_fake(name, tmp_path, N_TRAIN, N_TEST, seed=3)
    return tmp_path


@pytest.fixture
def no_network(monkeypatch):
    """Every URL request fails as it does without a network connection."""

    def fail(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", fail)


def _expected_eval_images(name: str, raw: np.ndarray) -> torch.Tensor:
    """torchvision's ``ToTensor`` (+ ``Normalize`` with the published constants) of ``raw``."""
    from torchvision.transforms import functional as tvf

    x = torch.from_numpy(np.array(raw)).float() / 255.0
    if name in ("mnist", "fmnist"):
        return x
    return torch.stack([tvf.normalize(image, *PUBLISHED_MEAN_STD[name]) for image in x])


def test_file_layout_matches_torchvision():
    from torchvision.datasets import CIFAR10, CIFAR100, MNIST, SVHN, FashionMNIST

    for cls, tv in ((datasets.mnist, MNIST), (datasets.fmnist, FashionMNIST)):
        files = cls._files(Path("root"))
        names = {p.name for paths in files.values() for p in paths}
        assert names == {f.removesuffix(".gz") for f, _ in tv.resources}
        assert files["train"][0].parent == Path("root", tv.__name__, "raw")
    for cls, tv in ((datasets.cifar10, CIFAR10), (datasets.cifar100, CIFAR100)):
        assert cls.folder == tv.base_folder
        assert cls.file_names["train"] == [f for f, _ in tv.train_list]
        assert cls.file_names["test"] == [f for f, _ in tv.test_list]
    assert {s: v[1] for s, v in SVHN.split_list.items() if s != "extra"} == datasets.svhn.file_names


@pytest.mark.parametrize("name", NAMES)
def test_loaders_read_the_files(fake_dir, name):
    cls = datasets.DATASETS[name]
    channels, size, num_classes = SHAPES[name]
    data = cls(BS, data_dir=fake_dir, seed=0)
    sizes = {"train": N_TRAIN // 2, "valid": N_TRAIN // 2, "train_eval": N_TRAIN // 2}
    for split, loader in data.loaders().items():
        assert loader.num_examples == sizes.get(split, N_TEST)
        assert loader.tensors[0].dtype == torch.uint8  # kept small in memory
        images, labels = next(iter(loader))
        assert images.shape == (BS, channels, size, size) and images.dtype == torch.float32
        assert labels.dtype == torch.int64 and 0 <= labels.min() <= labels.max() < num_classes
    raw_images, raw_labels = read_fake(name, fake_dir, "test")  # read without deepobs
    images = torch.cat([b[0] for b in data.test_loader])
    labels = torch.cat([b[1] for b in data.test_loader])
    assert torch.equal(labels, torch.from_numpy(raw_labels[: len(labels)]))
    expected = _expected_eval_images(name, raw_images[: len(labels)])
    torch.testing.assert_close(images, expected)


@pytest.mark.parametrize("name", NAMES)
def test_split_sizes_are_deepobs_sizes_for_real_data(name):
    # The data set's own sizes (what its loaders use on the real files), not typed-in ones.
    cls = datasets.DATASETS[name]
    raw, (n_train, n_valid, n_train_eval, n_test) = PUBLISHED_SIZES[name]
    assert tuple(cls.expected_sizes) == raw and cls.eval_size == n_test
    idx = split_indices(cls.expected_sizes[0], cls.eval_size)
    assert (len(idx.train), len(idx.valid), len(idx.train_eval)) == (n_train, n_valid, n_train_eval)


@pytest.mark.parametrize("name", sorted(PUBLISHED_MEAN_STD))
def test_normalisation_constants_are_the_published_ones(name):
    cls = datasets.DATASETS[name]
    mean, std = PUBLISHED_MEAN_STD[name]
    np.testing.assert_allclose(cls.mean, mean, rtol=0, atol=1e-8)
    np.testing.assert_allclose(cls.std, std, rtol=0, atol=1e-8)


def test_corrupt_data_file_is_one_line_and_exit_2_on_the_command_line(tmp_path, capsys):
    write_mnist(tmp_path, 16, 8)  # too few images for the real MNIST: a corrupted download
    argv = [
        "run",
        "mnist_logreg",
        "--optimizer",
        "torch.optim.SGD",
        "--hp",
        "lr=0.1",
        "-N",
        "1",
        "--data-dir",
        str(tmp_path),
        "--output-dir",
        str(tmp_path / "out"),
    ]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("deepobs: error: Data files ")
    assert "corrupted or incomplete" in err and "deepobs download mnist" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.json"))


@pytest.mark.parametrize("n_train", [2, 3, 10, 41])
def test_split_sizes_scale_for_tiny_sets(n_train):
    idx = split_indices(n_train, 10_000)
    assert len(idx.valid) == n_train // 2 >= 1
    assert len(idx.train) == n_train - n_train // 2 == len(idx.train_eval)


def test_splits_are_disjoint_and_cover_the_training_split():
    idx = split_indices(1000, 300)
    train, valid, train_eval = (set(t.tolist()) for t in idx)
    assert not train & valid and train | valid == set(range(1000))
    assert train_eval <= train and len(train_eval) == 300 and not train_eval & valid


def test_split_is_fixed_while_data_order_follows_the_seed(fake_dir):
    torch.manual_seed(1)
    a = datasets.cifar10(BS, data_dir=fake_dir)
    torch.manual_seed(2)
    b = datasets.cifar10(BS, data_dir=fake_dir)
    c = datasets.cifar10(BS, data_dir=fake_dir, seed=a._seed)
    for ia, ib in zip(a.split_indices, b.split_indices):
        assert torch.equal(ia, ib)
    assert torch.equal(a.valid_loader.tensors[0], b.valid_loader.tensors[0])
    order = [torch.cat([y for _, y in d.train_loader]) for d in (a, b, c)]
    assert not torch.equal(order[0], order[1]) and torch.equal(order[0], order[2])
    assert torch.equal(next(iter(a.train_loader))[0], next(iter(c.train_loader))[0])


@pytest.mark.parametrize("name", NAMES)
def test_only_training_batches_are_augmented(fake_dir, name):
    data = datasets.DATASETS[name](BS, data_dir=fake_dir, seed=0)
    idx = data.split_indices
    raw, _ = read_fake(name, fake_dir, "train")
    for split in ("valid", "train_eval"):  # fixed, unaugmented subsets of the training split
        images = torch.cat([b[0] for b in data.loaders()[split]])
        torch.testing.assert_close(
            images, _expected_eval_images(name, raw[getattr(idx, split).numpy()])
        )
    batch = [t[:BS] for t in data.train_loader.tensors]
    gen = torch.Generator().manual_seed(0)
    augmented = data.train_loader.transform(batch, gen)[0]
    plain = data.valid_loader.transform(batch, gen)[0]
    assert torch.equal(augmented, plain) == (name in ("mnist", "fmnist"))
    if name not in ("mnist", "fmnist"):
        assert data.train_loader.transform.flip == (name != "svhn")


def test_random_crop_is_a_window_of_the_padded_image():
    images = torch.randint(0, 256, (32, 3, 8, 8), dtype=torch.uint8)
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(_augment.random_crop(images, 0, gen), images)
    crops = _augment.random_crop(images, 2, gen)
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    offsets = set()
    for i in range(32):
        hits = [
            (y, x)
            for y in range(5)
            for x in range(5)
            if torch.equal(crops[i], padded[i, :, y : y + 8, x : x + 8])
        ]
        assert hits
        offsets.update(hits)
    assert len(offsets) > 5  # offsets differ between the images of a batch


def test_flip_and_jitter():
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(64, 3, 8, 8, generator=gen)
    flipped = _augment.random_hflip(images, gen)
    same = [torch.equal(f, x) for f, x in zip(flipped, images)]
    mirrored = [torch.equal(f, x.flip(-1)) for f, x in zip(flipped, images)]
    assert all(s or m for s, m in zip(same, mirrored)) and 10 < sum(mirrored) < 54
    out = _augment.color_jitter(images, torch.Generator().manual_seed(1))
    again = _augment.color_jitter(images, torch.Generator().manual_seed(1))
    assert torch.equal(out, again) and out.shape == images.shape
    assert out.min() >= 0.0 and out.max() <= 1.0 and not torch.allclose(out, images)


def test_color_adjustments_match_torchvision():
    from torchvision.transforms import functional as tvf

    gen = torch.Generator().manual_seed(0)
    images = torch.rand(6, 3, 8, 8, generator=gen)
    factors = [torch.rand(6, generator=gen) * 1.6 + 0.2 for _ in range(3)]
    out = _augment.adjust_colors(images, *factors)
    for i, (b, c, s) in enumerate(zip(*factors, strict=True)):
        ref = tvf.adjust_saturation(
            tvf.adjust_contrast(tvf.adjust_brightness(images[i], b.item()), c.item()), s.item()
        )
        torch.testing.assert_close(out[i], ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_missing_data_names_path_and_command(tmp_path, name):
    cls = datasets.DATASETS[name]
    assert not cls.is_available(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        cls(BS, data_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and f"deepobs download {name} --data-dir {tmp_path}" in message
    write_fake(name, tmp_path, 8, 4)
    assert cls.is_available(tmp_path)


@pytest.mark.parametrize("name, file_name", [("cifar10", "data_batch_1"), ("svhn", "train_32x32")])
def test_checksum_mismatch_names_the_file(tmp_path, name, file_name):
    write_fake(name, tmp_path, 8, 4)  # fake files never match torchvision's MD5s
    with pytest.raises(RuntimeError, match=file_name) as info:
        datasets.DATASETS[name](BS, data_dir=tmp_path)
    assert "Delete it" in str(info.value) and f"deepobs download {name}" in str(info.value)


def test_wrong_sizes_are_reported_when_verifying(tmp_path):
    write_mnist(tmp_path, 16, 8)
    with pytest.raises(RuntimeError, match="expected 60000"):
        datasets.mnist(BS, data_dir=tmp_path)


@pytest.mark.parametrize(
    "name, relative",
    [
        ("mnist", "MNIST/raw/t10k-images-idx3-ubyte"),
        ("cifar100", "cifar-100-python/test"),
        ("svhn", "svhn/test_32x32.mat"),
    ],
)
def test_truncated_file_names_the_file(tmp_path, monkeypatch, name, relative):
    allow_fake_files(monkeypatch)
    write_fake(name, tmp_path, 8, 4)
    path = tmp_path / relative
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(RuntimeError, match="corrupted or incomplete") as info:
        datasets.DATASETS[name](BS, data_dir=tmp_path)
    assert str(path) in str(info.value) and f"deepobs download {name}" in str(info.value)


@pytest.mark.parametrize("name", ["cifar10", "mnist", "svhn"])
def test_download_without_network_fails_with_one_line(tmp_path, no_network, capsys, name):
    assert cli.main(["download", name, "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("deepobs: error: Could not download")
    assert f"deepobs download {name} --data-dir {tmp_path}" in err and "Traceback" not in err


def test_download_function_and_flag_raise_runtime_error(tmp_path, no_network):
    with pytest.raises(RuntimeError, match="Could not download cifar100"):
        datasets.download("cifar100", tmp_path)
    with pytest.raises(RuntimeError, match="Could not download fmnist"):
        datasets.fmnist(BS, data_dir=tmp_path, download=True)


def test_download_rejects_unknown_and_generated_names(capsys):
    assert cli.main(["download", "cifar"]) == 2
    assert "Did you mean 'cifar10' or 'cifar100'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="generated"):
        datasets.download("quadratic")


@pytest.mark.download
def test_real_mnist_download_and_splits(tmp_path):
    datasets.download("mnist", tmp_path)
    data = datasets.mnist(128, data_dir=tmp_path, seed=0)
    sizes = {k: v.num_examples for k, v in data.loaders().items()}
    assert sizes == {"train": 50_000, "train_eval": 10_000, "valid": 10_000, "test": 10_000}
