"""Tiny fake image data sets written in each data set's real on-disk format.

The files are what torchvision leaves in a data directory after a download, so the real
loaders read them unchanged:

* MNIST / Fashion-MNIST: big-endian idx files in ``MNIST/raw`` / ``FashionMNIST/raw``, both the
  ``.gz`` archives and the unpacked files.
* CIFAR-10: pickled batches ``cifar-10-batches-py/data_batch_1..5``, ``test_batch``,
  ``batches.meta``; CIFAR-100: ``cifar-100-python/train``, ``test``, ``meta``.
* SVHN: ``svhn/train_32x32.mat`` and ``test_32x32.mat`` (``X``: 32×32×3×N, ``y``: 1..10).

The fake files cannot match torchvision's MD5 checksums, so tests that read them call
:func:`allow_fake_files` (it turns checksum and size verification off for that test only,
through ``monkeypatch``). With ``learnable=True`` each class has its own image pattern plus
noise, so a model can fit the data.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

from deepobs.pytorch.datasets._image import ImageDataSet

#: Data sets this module can fake, with (channels, size, number of classes).
SHAPES = {
    "mnist": (1, 28, 10),
    "fmnist": (1, 28, 10),
    "cifar10": (3, 32, 10),
    "cifar100": (3, 32, 100),
    "svhn": (3, 32, 10),
}


def allow_fake_files(monkeypatch) -> None:
    """Let the image data sets read fake files (no checksum or size checks) in this test."""
    monkeypatch.setattr(ImageDataSet, "_verify_files", False)


def fake_images(
    n: int, name: str, seed: int = 0, learnable: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``uint8`` images ``[n, C, H, W]`` and ``int64`` labels for data set ``name``."""
    channels, size, num_classes = SHAPES[name]
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, num_classes, size=n).astype(np.int64)
    if not learnable:
        return rng.randint(0, 256, size=(n, channels, size, size), dtype=np.uint8), labels
    # One pattern per class, the same in every split (its own fixed seed).
    patterns = np.random.RandomState(1234).randint(0, 2, size=(num_classes, channels, size, size))
    templates = patterns * 160.0
    noise = rng.normal(0.0, 30.0, size=(n, channels, size, size))
    return np.clip(templates[labels] + 40.0 + noise, 0, 255).astype(np.uint8), labels


def _write_idx(path: Path, array: np.ndarray) -> None:
    # idx format: two zero bytes, type code 0x08 (unsigned byte), number of dimensions, then
    # each dimension as a big-endian uint32, then the data. torchvision keeps both the .gz
    # archive and the unpacked file.
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(payload)
    with gzip.open(f"{path}.gz", "wb") as f:
        f.write(payload)


def write_mnist(
    root,
    n_train: int = 64,
    n_test: int = 32,
    *,
    fashion: bool = False,
    seed: int = 0,
    learnable: bool = False,
) -> Path:
    """Write a fake MNIST (or Fashion-MNIST) into data directory ``root``; return the folder."""
    name = "fmnist" if fashion else "mnist"
    raw = Path(root) / ("FashionMNIST" if fashion else "MNIST") / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n, s in (("train", n_train, seed), ("t10k", n_test, seed + 1)):
        images, labels = fake_images(n, name, s, learnable)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images[:, 0])
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels.astype(np.uint8))
    return raw


def _dump(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)  # the real files are Python 2 pickles


def write_cifar10(
    root, n_train: int = 50, n_test: int = 20, *, seed: int = 0, learnable: bool = False
) -> Path:
    """Write a fake CIFAR-10 (five training batches) into ``root``; return the folder."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = fake_images(n_train, "cifar10", seed, learnable)
    parts = np.array_split(np.arange(n_train), 5)
    files = [(f"data_batch_{i + 1}", idx) for i, idx in enumerate(parts)]
    test_images, test_labels = fake_images(n_test, "cifar10", seed + 1, learnable)
    for file_name, imgs, labs in [
        *((f, images[idx], labels[idx]) for f, idx in files),
        ("test_batch", test_images, test_labels),
    ]:
        _dump(
            folder / file_name,
            {
                "batch_label": file_name,
                "labels": [int(v) for v in labs],
                "data": imgs.reshape(len(imgs), -1),
                "filenames": [f"img_{i}.png" for i in range(len(imgs))],
            },
        )
    _dump(
        folder / "batches.meta",
        {
            "num_cases_per_batch": 10000,
            "label_names": [f"class_{i}" for i in range(10)],
            "num_vis": 3072,
        },
    )
    return folder


def write_cifar100(
    root, n_train: int = 50, n_test: int = 20, *, seed: int = 0, learnable: bool = False
) -> Path:
    """Write a fake CIFAR-100 (``train``, ``test``, ``meta``) into ``root``; return the folder."""
    folder = Path(root) / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, n, s in (("train", n_train, seed), ("test", n_test, seed + 1)):
        images, labels = fake_images(n, "cifar100", s, learnable)
        _dump(
            folder / file_name,
            {
                "filenames": [f"img_{i}.png" for i in range(n)],
                "batch_label": file_name,
                "fine_labels": [int(v) for v in labels],
                "coarse_labels": [int(v) // 5 for v in labels],
                "data": images.reshape(n, -1),
            },
        )
    _dump(
        folder / "meta",
        {
            "fine_label_names": [f"fine_{i}" for i in range(100)],
            "coarse_label_names": [f"coarse_{i}" for i in range(20)],
        },
    )
    return folder


def write_svhn(
    root, n_train: int = 50, n_test: int = 20, *, seed: int = 0, learnable: bool = False
) -> Path:
    """Write fake SVHN ``.mat`` files into ``root/svhn``; return the folder."""
    import scipy.io

    folder = Path(root) / "svhn"
    folder.mkdir(parents=True, exist_ok=True)
    for split, n, s in (("train", n_train, seed), ("test", n_test, seed + 1)):
        images, labels = fake_images(n, "svhn", s, learnable)
        mat_labels = np.where(labels == 0, 10, labels).astype(np.uint8).reshape(n, 1)
        x = np.transpose(images, (2, 3, 1, 0))  # [N, C, H, W] -> [H, W, C, N]
        scipy.io.savemat(str(folder / f"{split}_32x32.mat"), {"X": x, "y": mat_labels})
    return folder


def write_fake(name: str, root, n_train: int, n_test: int, **kwargs) -> Path:
    """Write a fake data set ``name`` (a key of :data:`SHAPES`) into ``root``."""
    if name in ("mnist", "fmnist"):
        return write_mnist(root, n_train, n_test, fashion=name == "fmnist", **kwargs)
    writer = {"cifar10": write_cifar10, "cifar100": write_cifar100, "svhn": write_svhn}[name]
    return writer(root, n_train, n_test, **kwargs)


def read_fake(name: str, root, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read back a fake split independently of deepobs (``[N, C, H, W]`` uint8, labels)."""
    root = Path(root)
    if name in ("mnist", "fmnist"):
        raw = root / ("FashionMNIST" if name == "fmnist" else "MNIST") / "raw"
        prefix = "train" if split == "train" else "t10k"
        with gzip.open(raw / f"{prefix}-images-idx3-ubyte.gz") as f:
            images = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 1, 28, 28)
        with gzip.open(raw / f"{prefix}-labels-idx1-ubyte.gz") as f:
            labels = np.frombuffer(f.read()[8:], dtype=np.uint8).astype(np.int64)
        return images, labels
    if name == "svhn":
        import scipy.io

        mat = scipy.io.loadmat(str(root / "svhn" / f"{split}_32x32.mat"))
        labels = mat["y"].reshape(-1).astype(np.int64)
        return np.transpose(mat["X"], (3, 2, 0, 1)), np.where(labels == 10, 0, labels)
    folder, files, key = {
        "cifar10": (
            "cifar-10-batches-py",
            {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]},
            "labels",
        ),
        "cifar100": ("cifar-100-python", {"train": ["train"], "test": ["test"]}, "fine_labels"),
    }[name]
    entries = []
    for file_name in files[split]:
        with open(root / folder / file_name, "rb") as f:
            entries.append(pickle.load(f, encoding="latin1"))
    images = np.concatenate([e["data"] for e in entries]).reshape(-1, 3, 32, 32)
    return images, np.concatenate([np.asarray(e[key], dtype=np.int64) for e in entries])
