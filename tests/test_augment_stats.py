"""The in-memory fast data path against the torchvision pipeline of DeepOBS 1.2.

* Without augmentation both paths give the same batches for the same indices.
* The same seed gives the same augmented batches.
* With augmentation both give the same *distribution*: crop offsets, flip rate and the
  per-image brightness, contrast and saturation of the outputs, compared with statistical
  tests on the same input images. The torchvision pipeline is ``Pad(2)``, ``RandomCrop(32)``,
  ``RandomHorizontalFlip``, ``ColorJitter`` on PIL images, ``ToTensor``, ``Normalize``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fake_image_data import (
    SHAPES,
    allow_fake_files,
    write_cifar10,
    write_fake,
    write_mnist,
    write_svhn,
)
from PIL import Image
from scipy import stats
from torch.utils.data import DataLoader, Subset
from torchvision import transforms as T
from torchvision.datasets import CIFAR10, MNIST

from deepobs.pytorch import datasets
from deepobs.pytorch.datasets import TensorBatchLoader

#: Significance level of every statistical test: a correct pipeline fails one in 10,000 runs.
ALPHA = 1e-4

# The independent reference: DeepOBS 1.2's published transform arguments and normalisation
# constants (reference §4.4), written out here rather than read from the code under test.
PUBLISHED_JITTER = {"brightness": 63 / 255, "contrast": (0.2, 1.8), "saturation": (0.5, 1.5)}
PUBLISHED_MEAN_STD = {
    "cifar10": ((0.49139968, 0.48215841, 0.44653091), (0.24703223, 0.24348513, 0.26158784)),
    "cifar100": ((0.50707516, 0.48654887, 0.44091784), (0.26733429, 0.25643846, 0.27615047)),
    "svhn": ((0.4376821, 0.4437697, 0.47280442), (0.19803012, 0.20101562, 0.19703614)),
}


class UncheckedCIFAR10(CIFAR10):
    """torchvision's CIFAR-10 reader without the MD5 check (fake files cannot match it)."""

    def _check_integrity(self) -> bool:
        return True

    def _load_meta(self) -> None:
        self.classes = [f"class_{i}" for i in range(10)]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}


def reference_augmentation(ds) -> T.Compose:
    """DeepOBS 1.2's torchvision training transform for data set ``ds``."""
    flip = [T.RandomHorizontalFlip()] if ds.name != "svhn" else []
    mean, std = PUBLISHED_MEAN_STD[ds.name]
    return T.Compose(
        [
            T.Pad(2),
            T.RandomCrop(32),
            *flip,
            T.ColorJitter(**PUBLISHED_JITTER),
            T.ToTensor(),
            T.Normalize(mean, std),
        ]
    )


@pytest.fixture
def cifar_dir(tmp_path, monkeypatch):
    allow_fake_files(monkeypatch)
    write_cifar10(tmp_path, 120, 40, seed=1)
    return tmp_path


def both_paths(fast_loader, reference_loader):
    pairs = list(zip(fast_loader, reference_loader, strict=True))
    assert pairs
    for (x_fast, y_fast), (x_ref, y_ref) in pairs:
        torch.testing.assert_close(x_fast, x_ref, rtol=0, atol=1e-6)
        assert torch.equal(y_fast, y_ref)


def test_cifar10_unaugmented_batches_equal_dataloader_path(cifar_dir):
    ds = datasets.cifar10(8, data_dir=cifar_dir)
    to_tensor = T.Compose([T.ToTensor(), T.Normalize(*PUBLISHED_MEAN_STD["cifar10"])])
    test_set = UncheckedCIFAR10(str(cifar_dir), train=False, transform=to_tensor)
    both_paths(ds.test_loader, DataLoader(test_set, batch_size=8, drop_last=True))
    train_set = UncheckedCIFAR10(str(cifar_dir), train=True, transform=to_tensor)
    valid = Subset(train_set, ds.split_indices.valid.tolist())
    both_paths(ds.valid_loader, DataLoader(valid, batch_size=8, drop_last=True))


def test_mnist_unaugmented_batches_equal_dataloader_path(tmp_path, monkeypatch):
    allow_fake_files(monkeypatch)
    write_mnist(tmp_path, 64, 40, seed=2)
    ds = datasets.mnist(8, data_dir=tmp_path)
    test_set = MNIST(str(tmp_path), train=False, transform=T.ToTensor())
    both_paths(ds.test_loader, DataLoader(test_set, batch_size=8, drop_last=True))


@pytest.mark.parametrize("name", [*sorted(SHAPES), "quadratic"])
def test_in_memory_data_sets_use_the_fast_path(name, tmp_path, monkeypatch):
    if name in SHAPES:
        allow_fake_files(monkeypatch)
        write_fake(name, tmp_path, 40, 12)
    ds = getattr(datasets, name)(4, data_dir=tmp_path)
    assert all(isinstance(loader, TensorBatchLoader) for loader in ds.loaders().values())


def test_same_seed_same_augmented_batches(cifar_dir):
    def batches(seed, epochs=2):
        loader = datasets.cifar10(16, data_dir=cifar_dir, seed=seed).train_loader
        return [b for _ in range(epochs) for b in loader]

    a, b, other = batches(5), batches(5), batches(6)
    assert all(torch.equal(x, y) for p, q in zip(a, b, strict=True) for x, y in zip(p, q))
    assert not torch.equal(a[0][0], other[0][0])
    assert not torch.equal(a[0][0], a[len(a) // 2][0])  # epoch 2 is not a copy of epoch 1


# ---------------------------------------------------------------------------- distributions
def marker_image() -> np.ndarray:
    """A grey ``[3, 32, 32]`` image whose crop offset and flip can be read off any output.

    Grey: saturation changes nothing. Brightness and contrast are increasing maps, so the
    zero padding stays the darkest value. The left half is brighter than the right (flips),
    and a bright middle row keeps every content column above the padding's value.
    """
    image = np.full((32, 32), 120, dtype=np.uint8)
    image[:, :16] = 220
    image[16, :] = 250
    return np.repeat(image[None], 3, axis=0)


def decode_offsets(outputs: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop offsets (top, left, each in 0..4) and flips of augmented marker images."""
    images = outputs[:, 0]  # [N, 32, 32]; the three channels carry the same pattern
    pad = images <= images.amin(dim=(1, 2), keepdim=True) + 1e-4
    rows, cols = pad.all(dim=2), pad.all(dim=1)  # [N, 32]: fully padded rows / columns

    def runs(flags):  # lengths of the leading and trailing runs of True
        lead = flags.int().cumprod(dim=1).sum(dim=1)
        return lead, flags.flip(1).int().cumprod(dim=1).sum(dim=1)

    (lead_r, trail_r), (lead_c, trail_c) = runs(rows), runs(cols)
    column_means = images.mean(dim=1)
    brightest = torch.where(cols, -torch.inf, column_means).argmax(dim=1)
    darkest = torch.where(cols, torch.inf, column_means).argmin(dim=1)
    flips = brightest > darkest  # the bright half of the marker is on the right
    lead_c, trail_c = torch.where(flips, trail_c, lead_c), torch.where(flips, lead_c, trail_c)
    tops = torch.where(lead_r > 0, 2 - lead_r, 2 + trail_r)
    lefts = torch.where(lead_c > 0, 2 - lead_c, 2 + trail_c)
    return tops.numpy(), lefts.numpy(), flips.numpy()


def reference_outputs(transform, images: np.ndarray, seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)  # torchvision's transforms draw from the global generator
    return torch.stack([transform(Image.fromarray(im.transpose(1, 2, 0))) for im in images])


def fast_outputs(ds, images: np.ndarray, seed: int = 0) -> torch.Tensor:
    transform = ds.train_loader.transform  # the data set's own default training transform
    generator = torch.Generator().manual_seed(seed)
    labels = torch.zeros(len(images), dtype=torch.int64)
    return transform([torch.from_numpy(images), labels], generator)[0]


def test_crop_offsets_and_flips_match_torchvision(cifar_dir):
    ds = datasets.cifar10(8, data_dir=cifar_dir)
    n = 2500
    images = np.repeat(marker_image()[None], n, axis=0)
    fast = decode_offsets(fast_outputs(ds, images))
    ref = decode_offsets(reference_outputs(reference_augmentation(ds), images))
    cells = []
    for tops, lefts, flips in (fast, ref):
        counts = np.bincount(tops * 5 + lefts, minlength=25)
        assert counts.sum() == n and counts.min() > 0
        assert stats.chisquare(counts).pvalue > ALPHA  # uniform over the 25 offsets
        assert stats.binomtest(int(flips.sum()), n, 0.5).pvalue > ALPHA
        cells.append(counts)
    assert stats.chi2_contingency(np.stack(cells)).pvalue > ALPHA  # same offset distribution


def test_svhn_is_cropped_but_never_flipped(tmp_path, monkeypatch):
    allow_fake_files(monkeypatch)
    write_svhn(tmp_path, 60, 20)
    ds = datasets.svhn(8, data_dir=tmp_path)
    tops, lefts, flips = decode_offsets(fast_outputs(ds, np.repeat(marker_image()[None], 400, 0)))
    assert not flips.any()
    assert set(tops) == set(lefts) == set(range(5))


def natural_images(n: int, seed: int = 0) -> np.ndarray:
    """Images with a colour tint, a smooth gradient and noise (so every jitter matters)."""
    rng = np.random.RandomState(seed)
    base = rng.uniform(40, 215, size=(n, 3, 1, 1))
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    slope = rng.uniform(-60, 60, size=(2, n, 3, 1, 1))
    noise = rng.normal(0, 20, size=(n, 3, 32, 32))
    return np.clip(base + slope[0] * yy + slope[1] * xx + noise, 0, 255).astype(np.uint8)


def image_statistics(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-image brightness, contrast and saturation of RGB images in [0, 1]."""
    grey = T.functional.rgb_to_grayscale(x)
    return {
        "brightness": grey.mean(dim=(1, 2, 3)),
        "contrast": grey.std(dim=(1, 2, 3)),
        "saturation": (x - grey).abs().mean(dim=(1, 2, 3)),
    }


def jitter_factors(outputs: torch.Tensor, images: np.ndarray, ds) -> dict[str, torch.Tensor]:
    """Each output's statistics relative to its input's: the jitter's effect per image."""
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in PUBLISHED_MEAN_STD[ds.name])
    after = image_statistics(outputs * std + mean)
    before = image_statistics(torch.from_numpy(images).float() / 255)
    return {name: after[name] / before[name] for name in after}


def moments(outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation over all images and pixels."""
    return outputs.mean(dim=(0, 2, 3)), outputs.std(dim=(0, 2, 3))


def test_color_jitter_and_normalisation_match_torchvision(cifar_dir):
    # torchvision's transforms on float tensors: ColorJitter's exact semantics, no rounding.
    ds = datasets.cifar10(8, data_dir=cifar_dir)
    images = natural_images(1500)
    fast = fast_outputs(ds, images)
    steps = [t for t in reference_augmentation(ds).transforms if not isinstance(t, T.ToTensor)]
    torch.manual_seed(0)
    ref = torch.stack([T.Compose(steps)(x) for x in torch.from_numpy(images) / 255.0])
    (fast_mean, fast_std), (ref_mean, ref_std) = moments(fast), moments(ref)
    torch.testing.assert_close(fast_mean, ref_mean, atol=0.05, rtol=0)
    torch.testing.assert_close(fast_std, ref_std, atol=0, rtol=0.05)
    fast_factors, ref_factors = jitter_factors(fast, images, ds), jitter_factors(ref, images, ds)
    for name in fast_factors:  # the same distribution of each per-image change
        assert stats.ks_2samp(fast_factors[name], ref_factors[name]).pvalue > ALPHA, name


def test_deepobs_pil_pipeline_differs_only_by_its_8_bit_rounding(cifar_dir):
    # DeepOBS 1.2 jittered PIL images: each of the three colour operations truncates to 8
    # bits, lowering values by ~0.5/255 each (~0.025 after normalisation, in all).
    ds = datasets.cifar10(8, data_dir=cifar_dir)
    images = natural_images(1500)
    (fast_mean, fast_std) = moments(fast_outputs(ds, images))
    (pil_mean, pil_std) = moments(reference_outputs(reference_augmentation(ds), images))
    assert ((fast_mean - pil_mean).abs() < 0.08).all(), (fast_mean, pil_mean)
    torch.testing.assert_close(fast_std, pil_std, atol=0, rtol=0.05)


def test_brightness_factors_span_the_published_range(tmp_path, monkeypatch):
    # A uniform grey image shows its brightness factor directly where no padding is visible
    # (the centred crop: contrast and saturation leave a uniform grey image unchanged).
    allow_fake_files(monkeypatch)
    write_cifar10(tmp_path, 16, 4)
    ds = datasets.cifar10(4, data_dir=tmp_path)
    grey = 128
    images = np.full((4000, 3, 32, 32), grey, dtype=np.uint8)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in PUBLISHED_MEAN_STD["cifar10"])
    outputs = fast_outputs(ds, images) * std + mean
    uniform = outputs.flatten(1).std(dim=1) < 1e-5
    factors = outputs[uniform].mean(dim=(1, 2, 3)) / (grey / 255)
    low, high = 1 - PUBLISHED_JITTER["brightness"], 1 + PUBLISHED_JITTER["brightness"]
    assert 100 < len(factors) < 230  # about 1 in 25 crops is the centred one
    assert low - 1e-4 <= factors.min() < low + 0.035
    assert high - 0.035 < factors.max() <= high + 1e-4
    assert stats.kstest(factors.numpy(), stats.uniform(low, high - low).cdf).pvalue > ALPHA
