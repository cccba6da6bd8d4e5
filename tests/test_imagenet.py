"""File-backed image data sets: ImageNet (manual folder) and Food-101 (torchvision layout).

Fast tests run the real loaders on tiny JPEGs written with PIL in each data set's on-disk
layout. ``test_imagenet_vgg16``, ``test_imagenet_vgg19`` and ``test_imagenet_inception_v3``
train one step on the real ImageNet when ``<data_dir>/imagenet`` exists (data directory:
``$DEEPOBS_DATA_DIR`` when pytest starts, else ``./data``), and are skipped otherwise.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from deepobs.pytorch import config, datasets, testproblems
from deepobs.pytorch.datasets._download import downloadable_datasets
from deepobs.pytorch.datasets._image_folder import standardize_image

#: Data directory of the real-data tests, read at collection (conftest hides the variable).
REAL_DATA_DIR = config.get_data_dir()
#: One colour per fake class, so a test can see that labels follow the class folders.
COLOURS = ((220, 30, 30), (30, 220, 30), (30, 30, 220))
SIZES = ((48, 40), (40, 64), (300, 260))  # (width, height): landscape, portrait, large


def _write_jpegs(folder: Path, colour, n: int, suffix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        width, height = SIZES[i % len(SIZES)]
        image = Image.new("RGB", (width, height), colour)
        image.putpixel((i % width, 0), (255, 255, 255))  # not constant: std > 0
        image.save(folder / f"img_{i}{suffix}", quality=95)


def write_fake_imagenet(data_dir: Path, n_train: int = 6, n_val: int = 2) -> Path:
    """``<data_dir>/imagenet/{train,val}/<wnid>/*.JPEG`` with one colour per class."""
    root = data_dir / "imagenet"
    for k, colour in enumerate(COLOURS):
        wnid = f"n0000000{k}"
        _write_jpegs(root / "train" / wnid, colour, n_train, ".JPEG")
        _write_jpegs(root / "val" / wnid, colour, n_val, ".JPEG")
    return root


def write_fake_food101(data_dir: Path, n_train: int = 6, n_test: int = 2) -> Path:
    """torchvision's Food-101 layout: ``food-101/images/<dish>/<id>.jpg`` + ``meta/*.json``."""
    root = data_dir / "food-101"
    meta = {"train": {}, "test": {}}
    for k, colour in enumerate(COLOURS):
        dish = ("apple_pie", "bibimbap", "churros")[k]
        _write_jpegs(root / "images" / dish, colour, n_train + n_test, ".jpg")
        ids = [f"{dish}/img_{i}" for i in range(n_train + n_test)]
        meta["train"][dish], meta["test"][dish] = ids[:n_train], ids[n_train:]
    (root / "meta").mkdir(parents=True)
    for split, entries in meta.items():
        (root / "meta" / f"{split}.json").write_text(json.dumps(entries))
    return root


@pytest.fixture
def fake_imagenet(tmp_path):
    write_fake_imagenet(tmp_path)
    return tmp_path


def _channel_argmax(images: torch.Tensor) -> torch.Tensor:
    return images.mean(dim=(2, 3)).argmax(dim=1)


# ---------------------------------------------------------------------- ImageNet
def test_missing_imagenet_explains_manual_download(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        datasets.imagenet(2, data_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "imagenet" / "train") in message
    assert "cannot be downloaded automatically" in message and "licence" in message
    assert "train/<wnid>/*.JPEG" in message and "val/<wnid>/*.JPEG" in message
    assert not datasets.imagenet.is_available(tmp_path)


def test_imagenet_is_not_downloadable_but_food101_is():
    names = downloadable_datasets()
    assert "imagenet" not in names and "food101" in names


def test_fake_imagenet_splits_and_batches(fake_imagenet):
    data = datasets.imagenet(2, data_dir=fake_imagenet, seed=1)
    assert data.num_classes == 3 and data.classes == ["n00000000", "n00000001", "n00000002"]
    # 18 training files: valid = min(50,000, 18 // 2) = 9, train = 9, train_eval = 9.
    idx = data.split_indices
    assert (len(idx.train), len(idx.valid), len(idx.train_eval)) == (9, 9, 9)
    assert not set(idx.valid.tolist()) & set(idx.train.tolist())
    assert set(idx.train_eval.tolist()) <= set(idx.train.tolist())
    lengths = {split: len(loader) for split, loader in data.loaders().items()}
    assert lengths == {"train": 4, "train_eval": 4, "valid": 4, "test": 3}
    images, labels = next(iter(data.test_loader))
    assert images.shape == (2, 3, 224, 224) and images.dtype == torch.float32
    assert labels.dtype == torch.int64
    torch.testing.assert_close(images.mean(dim=(1, 2, 3)), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(images.std(dim=(1, 2, 3), unbiased=False), torch.ones(2))


def test_imagenet_labels_follow_class_folders(fake_imagenet):
    data = datasets.imagenet(3, data_dir=fake_imagenet)
    for loader in data.loaders().values():
        for images, labels in loader:
            assert torch.equal(_channel_argmax(images), labels)  # class k is colour k


def test_imagenet_split_ignores_seed_and_evaluation_is_fixed(fake_imagenet):
    first = datasets.imagenet(2, data_dir=fake_imagenet, seed=1)
    second = datasets.imagenet(2, data_dir=fake_imagenet, seed=2)
    assert torch.equal(first.split_indices.valid, second.split_indices.valid)
    pass_1 = [labels for _, labels in first.valid_loader]
    pass_2 = [labels for _, labels in first.valid_loader]
    assert all(torch.equal(a, b) for a, b in zip(pass_1, pass_2))


def test_imagenet_worker_augmentation_follows_the_seed(fake_imagenet):
    # With workers, crops and flips draw from per-worker seeds taken from the loader's seed.
    config.set_num_workers(1)
    batches = [
        next(iter(datasets.imagenet(2, data_dir=fake_imagenet, seed=s).train_loader))
        for s in (5, 5, 6)
    ]
    assert torch.equal(batches[0][0], batches[1][0]) and torch.equal(batches[0][1], batches[1][1])
    assert not torch.equal(batches[0][0], batches[2][0])


def test_imagenet_class_folders_must_match(fake_imagenet):
    extra = fake_imagenet / "imagenet" / "train" / "n00000009"
    _write_jpegs(extra, (1, 2, 3), 1, ".JPEG")
    with pytest.raises(ValueError, match="n00000009"):
        datasets.imagenet(2, data_dir=fake_imagenet)


def test_standardize_image_is_tf_per_image_standardization():
    x = torch.rand(3, 4, 5)
    expected = (x - x.mean()) / max(float(x.std(unbiased=False)), 1 / math.sqrt(60))
    torch.testing.assert_close(standardize_image(x), expected)
    constant = torch.full((3, 4, 5), 0.5)  # std 0: divide by 1/sqrt(N), not by 0
    assert torch.equal(standardize_image(constant), torch.zeros(3, 4, 5))


@pytest.mark.parametrize("name", ["imagenet_vgg16", "imagenet_vgg19", "imagenet_inception_v3"])
def test_imagenet_problems_on_fake_folder(name, fake_imagenet):
    # The real loader feeds a shape-only (meta) network at full size: no arithmetic.
    tp = testproblems.get_testproblem(name, batch_size=2, data_dir=fake_imagenet, device="meta")
    tp.set_up()
    head = tp.model.fc if "inception" in name else tp.model.classifier[-1]
    assert tp.data.num_classes == 3 and head.out_features == 3
    tp.train_init_op()  # the closure form: a meta tensor has no value to return as a float
    loss, accuracy = tp.get_batch_loss_and_accuracy_func()()
    assert loss.shape == () and loss.device.type == "meta" and accuracy.device.type == "meta"
    tp.test_init_op()
    assert tp.get_batch_loss_and_accuracy_func(reduction="none")()[0].shape == (2,)


# ---------------------------------------------------------------------- Food-101
def test_missing_food101_names_download_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="deepobs download food101"):
        datasets.food101(2, data_dir=tmp_path)
    assert not datasets.food101.is_available(tmp_path)


def test_fake_food101_loads_with_imagenet_preprocessing(tmp_path):
    write_fake_food101(tmp_path)
    assert datasets.food101.is_available(tmp_path)
    assert datasets.food101.download(tmp_path) == tmp_path  # present: nothing is fetched
    data = datasets.food101(2, data_dir=tmp_path, seed=0)
    assert data.num_classes == 101
    # 18 training images: valid 9, train 9, train_eval 9; 6 test images.
    assert {s: len(loader) for s, loader in data.loaders().items()} == {
        "train": 4,
        "train_eval": 4,
        "valid": 4,
        "test": 3,
    }
    for images, labels in data.test_loader:
        assert images.shape == (2, 3, 224, 224)
        assert torch.equal(_channel_argmax(images), labels)


# ---------------------------------------------------------------------- real ImageNet
_needs_imagenet = pytest.mark.skipif(
    not datasets.imagenet.is_available(REAL_DATA_DIR),
    reason=(
        f"ImageNet not found in {REAL_DATA_DIR / 'imagenet'} (it cannot be downloaded "
        "automatically; set DEEPOBS_DATA_DIR to the folder that holds imagenet/train, val)"
    ),
)


def _one_real_step(name: str, params: int) -> None:
    torch.manual_seed(0)
    tp = testproblems.get_testproblem(name, batch_size=2, data_dir=REAL_DATA_DIR)
    tp.set_up()
    assert tp.data.num_classes == 1000 and tp.num_parameters() == params
    tp.train_init_op()
    loss, _ = tp.get_batch_loss_and_accuracy()
    loss.backward()
    assert math.isfinite(loss.item())
    tp.valid_init_op()
    assert math.isfinite(tp.get_batch_loss_and_accuracy()[0].item())


@pytest.mark.slow
@_needs_imagenet
def test_imagenet_vgg16():
    _one_real_step("imagenet_vgg16", 138_357_544)


@pytest.mark.slow
@_needs_imagenet
def test_imagenet_vgg19():
    _one_real_step("imagenet_vgg19", 143_667_240)


@pytest.mark.slow
@_needs_imagenet
def test_imagenet_inception_v3():
    _one_real_step("imagenet_inception_v3", 27_161_264)
