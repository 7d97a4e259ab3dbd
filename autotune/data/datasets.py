"""Datasets: offline sources, a verified writable cache, seeded train/validation splits.

Data are loaded once per process into tensors and batched by index slicing (see
:mod:`autotune.training.loop`). The test split is kept apart: :func:`load_splits` never returns it,
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
from typing import TYPE_CHECKING, Any

from autotune.base.paths import cache_dir
from autotune.data.sources import DataSource
from autotune.data.sources import read as read_source
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
    raw = root / cls.__name__ / "raw"
    _drop_unverified_unpacked(cls, raw)
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
            f"set AUTOTUNE_DATA_DIR or «data_dir» to a folder holding {folder}/{{{files}}}"
        ) from None
    _record_unpacked(cls, raw)
    return ds.data.to(torch.float32).div_(255.0).unsqueeze(1), ds.targets.to(torch.long)


#: Digests of the files torchvision unpacked from MD5-verified archives, beside them in the cache.
UNPACKED_MANIFEST = "autotune-unpacked.json"


def _unpacked_manifest(raw: Path) -> dict[str, str]:
    import json

    try:
        data = json.loads((raw / UNPACKED_MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _drop_unverified_unpacked(cls: type, raw: Path) -> None:
    """torchvision trusts any unpacked file it finds; delete one that differs from what autotune
    unpacked (truncated, altered, or of unknown origin) so it is unpacked again from its verified archive."""
    manifest = _unpacked_manifest(raw)
    kept = {}
    for name, _ in cls.resources:
        unpacked = raw / name[: -len(".gz")]
        if not unpacked.is_file():
            continue
        if manifest.get(unpacked.name) == _md5(unpacked):
            kept[unpacked.name] = manifest[unpacked.name]
            continue
        print(
            f"autotune: {unpacked} does not match the archive it came from (truncated, altered or unknown); "
            "unpacking it again",
            file=sys.stderr,
        )
        unpacked.unlink()
    if kept != manifest:
        _write_manifest(raw, kept)


def _record_unpacked(cls: type, raw: Path) -> None:
    """Remember the digests of the files torchvision just unpacked from verified archives."""
    manifest = _unpacked_manifest(raw)
    fresh = {
        n: _md5(raw / n)
        for n in (name[: -len(".gz")] for name, _ in cls.resources)
        if n not in manifest and (raw / n).is_file()
    }
    if fresh:
        _write_manifest(raw, {**manifest, **fresh})


def _write_manifest(raw: Path, manifest: dict[str, str]) -> None:
    import json

    tmp = raw / (UNPACKED_MANIFEST + ".part")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, raw / UNPACKED_MANIFEST)


def _copy_from_source(cls: type, root: Path, source: Path | None) -> None:
    """Copy the original .gz files from ``source`` into the cache, verifying each MD5. A ``source`` the user named
    must hold every file: one that does not (empty, or the wrong level) is an error, not a silent fall-back on the
    cache or a download."""
    raw = root / cls.__name__ / "raw"
    if source is not None:
        for name, _ in cls.resources:
            if not any(
                c.is_file() for c in (source / cls.__name__ / "raw" / name, source / "raw" / name, source / name)
            ):
                raise DataError(
                    f"data folder '{source}' (from «data_dir» or AUTOTUNE_DATA_DIR) holds no {name}: "
                    f"looked in {cls.__name__}/raw/, raw/ and the folder itself; name the folder that "
                    f"holds {cls.__name__}/raw/"
                )
    for name, md5 in cls.resources:
        target = raw / name
        if target.is_file() and _md5(target) == md5:
            continue
        if target.is_file():  # a damaged cached archive: never unpacked or trained on
            print(f"autotune: cached {target} fails its MD5 check; replacing it", file=sys.stderr)
            target.unlink()
            with contextlib.suppress(FileNotFoundError):
                (raw / name[: -len(".gz")]).unlink()
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
