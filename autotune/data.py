"""Datasets: offline sources, a verified writable cache, seeded train/validation splits.

Data are loaded once per process into tensors and batched by index slicing (see
:mod:`autotune.train`). The test split is kept apart: :func:`load_splits` never returns it,
and only :func:`load_test` (used for final reporting) reads it.

MNIST and Fashion-MNIST come through torchvision. Their original ``.gz`` files are looked
for in a local source folder (``--data-dir`` or ``$AUTOTUNE_DATA_DIR``, laid out as
``<dir>/MNIST/raw/*.gz``), checked against torchvision's MD5 sums, copied into autotune's own
cache and unpacked there. Without a local copy, torchvision's normal download is tried.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autotune._paths import cache_dir
from autotune.errors import DataError

if TYPE_CHECKING:  # torch is imported lazily: `autotune --help` must stay instant
    import torch

#: Fixed seeds of the built-in synthetic/embedded sets, so every study sees the same data.
_DIGITS_TEST_SEED = 20240601
_SINE_SEED = 20240602


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: str  # "classification" | "regression"
    shape: tuple[int, ...]  # one input example
    n_outputs: int
    description: str
    torchvision_class: str | None = None  # "MNIST" | "FashionMNIST"

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("mnist", "classification", (1, 28, 28), 10,
                         "MNIST handwritten digits, 60k train / 10k test, 28x28", "MNIST"),
    "fashion-mnist": DatasetInfo("fashion-mnist", "classification", (1, 28, 28), 10,
                                 "Fashion-MNIST clothing images, 60k train / 10k test, 28x28", "FashionMNIST"),
    "digits": DatasetInfo("digits", "classification", (1, 8, 8), 10,
                          "scikit-learn 8x8 digits (embedded), 1437 train / 360 test"),
    "sine": DatasetInfo("sine", "regression", (1,), 1,
                        "sin(x) on [-pi, pi] (generated), 2000 train / 1000 test, MSE"),
}


@dataclass(frozen=True)
class Split:
    """Inputs and targets of one split, as tensors in memory."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class Splits:
    """The training and validation splits of a dataset (never the test split)."""

    info: DatasetInfo
    train: Split
    val: Split
    mean: float
    std: float


def load_splits(dataset: str, *, validation_size: float, seed: int, train_subset: int | None = None,
                data_dir: str | os.PathLike | None = None) -> Splits:
    """Load ``dataset``'s training data, split it into train/validation with ``seed``.

    Args:
        dataset: a name from :data:`DATASETS`.
        validation_size: a fraction in (0, 1) or a number of examples.
        seed: seeds the split; the same seed gives the same split.
        train_subset: keep only this many training examples (a budget knob).
        data_dir: local source of the original files (default ``$AUTOTUNE_DATA_DIR``).
    """
    import torch

    info = _info(dataset)
    x, y = _pool(dataset, _source(data_dir), train=True)
    n = int(x.shape[0])
    n_val = int(round(validation_size * n)) if isinstance(validation_size, float) else int(validation_size)
    if not 1 <= n_val < n:
        raise DataError(f"validation_size {validation_size} leaves no training data: '{dataset}' has {n} examples")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    if train_subset is not None:
        train_idx = train_idx[:train_subset]
    train_x, val_x = x[train_idx], x[val_idx]
    mean, std = 0.0, 1.0
    if info.is_image:  # normalise with statistics of the training split only
        mean, std = float(train_x.mean()), float(train_x.std())
        train_x, val_x = (train_x - mean) / std, (val_x - mean) / std
    return Splits(info, Split(train_x.contiguous(), y[train_idx]), Split(val_x.contiguous(), y[val_idx]), mean, std)


def load_test(splits: Splits, *, data_dir: str | os.PathLike | None = None) -> Split:
    """The held-out test split, normalised like ``splits``. For final reporting only."""
    x, y = _pool(splits.info.name, _source(data_dir), train=False)
    if splits.info.is_image:
        x = (x - splits.mean) / splits.std
    return Split(x.contiguous(), y)


def _info(dataset: str) -> DatasetInfo:
    try:
        return DATASETS[dataset]
    except KeyError:
        raise DataError(f"unknown dataset '{dataset}'; allowed: {', '.join(DATASETS)}") from None


def _source(data_dir: str | os.PathLike | None) -> Path | None:
    value = data_dir if data_dir is not None else os.environ.get("AUTOTUNE_DATA_DIR")
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataError(f"data folder '{value}' (from --data-dir or AUTOTUNE_DATA_DIR) does not exist")
    return path


@functools.lru_cache(maxsize=8)
def _pool(dataset: str, source: Path | None, *, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """All examples of the train (or test) pool as float inputs and targets; cached per process."""
    info = _info(dataset)
    if info.torchvision_class:
        return _torchvision_pool(info, source, train=train)
    if dataset == "digits":
        return _digits_pool(train=train)
    return _sine_pool(train=train)


def _digits_pool(*, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    import torch
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(bunch.target, dtype=torch.long)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(_DIGITS_TEST_SEED))
    n_test = 360
    idx = perm[n_test:] if train else perm[:n_test]
    return x[idx].contiguous(), y[idx].contiguous()


def _sine_pool(*, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    if train:
        gen = torch.Generator().manual_seed(_SINE_SEED)
        x = (torch.rand(2000, 1, generator=gen) * 2 - 1) * math.pi
    else:
        x = torch.linspace(-math.pi, math.pi, 1000).unsqueeze(1)
    return x, torch.sin(x)


def _torchvision_pool(info: DatasetInfo, source: Path | None, *, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    import torch
    from torchvision import datasets

    cls = getattr(datasets, info.torchvision_class)
    root = cache_dir() / "data"
    _copy_from_source(cls, root, source)
    try:
        # torchvision finds the verified .gz files in the cache and skips the network;
        # it only downloads when no local copy was found. Its chatter goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            ds = cls(root=str(root), train=train, download=True)
    except Exception as exc:  # torchvision raises RuntimeError/URLError/OSError on failure
        folder = f"{info.torchvision_class}/raw"
        files = ", ".join(name for name, _ in cls.resources)
        where = f"'{source}' has no {folder}/ files" if source else "AUTOTUNE_DATA_DIR is not set"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"{info.name} data not found: {where} and the download failed ({reason}); "
            f"set AUTOTUNE_DATA_DIR or --data-dir to a folder holding {folder}/{{{files}}}"
        ) from None
    return ds.data.to(torch.float32).div_(255.0).unsqueeze(1), ds.targets.to(torch.long)


def _copy_from_source(cls: type, root: Path, source: Path | None) -> None:
    """Copy the original .gz files from ``source`` into the cache, verifying each MD5."""
    raw = root / cls.__name__ / "raw"
    for name, md5 in cls.resources:
        target = raw / name
        if target.is_file() and _md5(target) == md5:
            continue
        if source is None:
            continue
        candidates = [source / cls.__name__ / "raw" / name, source / "raw" / name, source / name]
        src = next((c for c in candidates if c.is_file()), None)
        if src is None:
            continue
        if _md5(src) != md5:
            raise DataError(f"'{src}' fails its MD5 check (expected {md5}): it is damaged or not the original file")
        raw.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        shutil.copyfile(src, tmp)
        os.replace(tmp, target)
        with contextlib.suppress(FileNotFoundError):  # a stale unpacked copy must be re-extracted
            (raw / name[: -len(".gz")]).unlink()


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
