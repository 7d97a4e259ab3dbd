"""Datasets: the built-in catalogue, seeded train/validation splits of a built-in or a user's dataset, and
the held-out test split.

Data are loaded once per process into tensors and batched by index slicing (see
:mod:`autotune.training.loop`). The test split is kept apart: :func:`load_splits` never returns it,
and only :func:`load_test` (used for final reporting) reads it. The built-in datasets' examples come from
:mod:`autotune.data.builtin_readers` (MNIST and Fashion-MNIST through a verified cache), a user's from
:mod:`autotune.data.sources`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autotune.data.builtin_readers import digits_pool, sine_pool, torchvision_pool
from autotune.data.sources import DataSource
from autotune.data.sources import read as read_source
from autotune.errors import DataError

if TYPE_CHECKING:  # torch is imported lazily: `autotune --help` must stay instant
    import torch


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: str  # "classification" | "regression"
    shape: tuple[int, ...]  # one input example
    n_outputs: int
    description: str
    torchvision_class: str | None = None  # "MNIST" | "FashionMNIST"
    classes: tuple[str, ...] = ()  # class names of a user's dataset, in label order

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        "mnist", "classification", (1, 28, 28), 10, "MNIST handwritten digits, 60k train / 10k test, 28x28", "MNIST"
    ),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist",
        "classification",
        (1, 28, 28),
        10,
        "Fashion-MNIST clothing images, 60k train / 10k test, 28x28",
        "FashionMNIST",
    ),
    "digits": DatasetInfo(
        "digits", "classification", (1, 8, 8), 10, "scikit-learn 8x8 digits (embedded), 1437 train / 360 test"
    ),
    "sine": DatasetInfo("sine", "regression", (1,), 1, "sin(x) on [-pi, pi] (generated), 2000 train / 1000 test, MSE"),
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
    mean: float | torch.Tensor  # a tensor: per-feature statistics of a user's tabular data
    std: float | torch.Tensor
    source: DataSource | None = None  # a user's dataset; None for a built-in one

    @property
    def nbytes(self) -> int:
        return sum(t.element_size() * t.nelement() for t in (self.train.x, self.train.y, self.val.x, self.val.y))

    def describe(self) -> str:
        """One line for the start of a run: what was loaded and the memory it takes."""
        shape = "x".join(str(d) for d in self.info.shape)
        kind = f"{self.info.n_outputs} classes" if self.info.task == "classification" else "regression"
        return (
            f"data: {self.info.name} ({kind}, inputs {shape}): {len(self.train)} train / {len(self.val)} "
            f"validation examples, {self.nbytes / 2**20:.1f} MB in memory on {self.train.x.device}"
        )

    def to(self, device: str | torch.device) -> Splits:
        """The same splits with their tensors on ``device``."""
        import torch

        def move(split: Split) -> Split:
            return split if split.x.device == torch.device(device) else Split(split.x.to(device), split.y.to(device))

        return Splits(self.info, move(self.train), move(self.val), self.mean, self.std, self.source)


def load_splits(
    dataset: str | DataSource,
    *,
    validation_size: float,
    seed: int,
    train_subset: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> Splits:
    """Load ``dataset``'s training data, split it into train/validation with ``seed``.

    Args:
        dataset: a name from :data:`DATASETS`, or a user's :class:`DataSource`.
        validation_size: a fraction in (0, 1) or a number of examples (ignored when a user's
            dataset names its own validation file or folder).
        seed: seeds the split; the same seed gives the same split.
        train_subset: keep only this many training examples (a budget knob).
        data_dir: local source of the original files (default ``$AUTOTUNE_DATA_DIR``).
    """

    if isinstance(dataset, DataSource):
        return _user_splits(dataset, validation_size=validation_size, seed=seed, train_subset=train_subset)
    info = _info(dataset)
    x, y = _pool(dataset, _source(data_dir), train=True)
    train_idx, val_idx = _split_indices(int(x.shape[0]), validation_size, seed, dataset)
    if train_subset is not None:
        train_idx = train_idx[:train_subset]
    train_x, val_x = x[train_idx], x[val_idx]
    mean, std = 0.0, 1.0
    if info.is_image:  # normalise with statistics of the training split only
        mean, std = float(train_x.mean()), float(train_x.std())
        train_x, val_x = (train_x - mean) / std, (val_x - mean) / std
    return Splits(info, Split(train_x.contiguous(), y[train_idx]), Split(val_x.contiguous(), y[val_idx]), mean, std)


def has_test(dataset: str | DataSource) -> bool:
    """Whether ``dataset`` has a test split (a user's dataset has one only if its spec names it)."""
    return not isinstance(dataset, DataSource) or dataset.test is not None


def load_test(splits: Splits, *, data_dir: str | os.PathLike | None = None) -> Split:
    """The held-out test split, normalised like ``splits``. For final reporting only."""
    if splits.source is not None:
        src = splits.source
        if src.test is None:
            raise DataError(f"dataset '{src.name}' has no test split; name one with dataset.test in the spec")
        arrays = _user_pool(src, src.test, classes=splits.info.classes or None)
        _check_same_inputs(arrays.x, splits.info, src.test)
        x, y = arrays.x, arrays.y
    else:
        x, y = _pool(splits.info.name, _source(data_dir), train=False)
    if splits.info.is_image or splits.source is not None:
        x = (x - splits.mean) / splits.std
    return Split(x.contiguous(), y)


def _split_indices(n: int, validation_size: float, seed: int, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, validation) indices of a seeded random split of ``n`` examples."""
    import torch

    n_val = int(round(validation_size * n)) if isinstance(validation_size, float) else int(validation_size)
    if not 1 <= n_val < n:
        raise DataError(
            f"validation_size {validation_size} gives {n_val} validation examples of the {n} in "
            f"'{name}'; validation and training need at least one each"
        )
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[n_val:], perm[:n_val]


def _user_splits(src: DataSource, *, validation_size: float, seed: int, train_subset: int | None) -> Splits:
    """A user's dataset: its own validation file/folder, or a seeded split of its training data."""
    import torch

    pool = _user_pool(src, src.path)
    x, y = pool.x, pool.y
    if src.validation is not None:
        val = _user_pool(src, src.validation, classes=pool.classes or None)
        train_idx = torch.arange(len(x))
        val_x, val_y = val.x, val.y
    else:
        train_idx, val_idx = _split_indices(len(x), validation_size, seed, src.name)
        val_x, val_y = x[val_idx], y[val_idx]
    if train_subset is not None:
        train_idx = train_idx[:train_subset]
    train_x, train_y = x[train_idx], y[train_idx]
    classification = src.task == "classification"
    mean: float | torch.Tensor
    std: float | torch.Tensor
    if train_x.ndim == 4:  # images: one scalar, like the built-in sets
        mean, std = float(train_x.mean()), float(train_x.std()) or 1.0
    elif src.standardize:  # tabular: each feature to zero mean and unit variance, with training statistics only
        mean, std = train_x.mean(0), train_x.std(0)
        std = torch.where(std > 0, std, torch.ones_like(std))
    else:
        mean, std = 0.0, 1.0
    n_outputs = len(pool.classes) if classification else int(y.shape[1])
    kind = {"image_folder": "image folder", "npz": "arrays", "csv": "CSV file"}[src.kind]
    info = DatasetInfo(
        src.name,
        src.task,
        tuple(int(d) for d in x.shape[1:]),
        n_outputs,
        f"{kind} {src.path}",
        classes=pool.classes if classification else (),
    )
    if src.validation is not None:
        _check_same_inputs(val_x, info, src.validation)
    train = Split(((train_x - mean) / std).contiguous(), train_y.contiguous())
    val = Split(((val_x - mean) / std).contiguous(), val_y.contiguous())
    return Splits(info, train, val, mean, std, src)


def _check_same_inputs(x: torch.Tensor, info: DatasetInfo, path: str) -> None:
    shape = tuple(int(d) for d in x.shape[1:])
    if shape != info.shape:
        raise DataError(f"'{path}' has inputs of shape {shape}, but the training data's are {info.shape}")


def _user_pool(src: DataSource, path: str, *, classes: tuple[str, ...] | None = None) -> Any:
    """Every example of one file or folder of a user's dataset; cached per process while unchanged."""
    return _user_pool_cached(src, path, classes, _signature(Path(path)))


@functools.lru_cache(maxsize=8)
def _user_pool_cached(src: DataSource, path: str, classes: tuple[str, ...] | None, signature: Any) -> Any:
    return read_source(src, path, classes=classes)


def _signature(path: Path) -> tuple:
    """Names, sizes and modification times: a changed file or folder is read again."""
    try:
        if path.is_file():
            st = path.stat()
            return (st.st_size, st.st_mtime_ns)
        return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.rglob("*")) if p.is_file())
    except OSError:
        return ()


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
        raise DataError(f"data folder '{value}' (from «data_dir» or AUTOTUNE_DATA_DIR) does not exist")
    return path


@functools.lru_cache(maxsize=8)
def _pool(dataset: str, source: Path | None, *, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """All examples of the train (or test) pool as float inputs and targets; cached per process."""
    info = _info(dataset)
    if info.torchvision_class:
        return torchvision_pool(info.name, info.torchvision_class, source, train=train)
    if dataset == "digits":
        return digits_pool(train=train)
    return sine_pool(train=train)
