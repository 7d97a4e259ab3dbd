"""Readers for a user's own data: image folders, ``.npz`` arrays and CSV files.

Each reader returns every example of one file or folder as in-memory tensors (inputs as
float32, class labels as int64, regression targets as float32 of shape ``(n, k)``) plus the
class names. Everything that can be wrong with the data is reported as a :class:`DataError`
naming the file and the problem; nothing here knows about splits, specs or Optuna.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autotune.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import torch

#: The kinds of user dataset a spec may declare under ``dataset: {type: ...}``.
SOURCE_KINDS = ("image_folder", "npz", "csv")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


@dataclass(frozen=True)
class DataSource:
    """A user's dataset, as declared in a spec: an image folder, an ``.npz`` file or a CSV file.

    Paths are absolute (a spec resolves them against its own folder). Without ``validation``,
    the validation split is carved from ``path`` with the spec's seed; ``test`` is only read
    for final reporting.
    """

    kind: str  # one of SOURCE_KINDS
    path: str
    task: str = "classification"
    validation: str | None = None
    test: str | None = None
    image_size: tuple[int, int] | None = None  # (height, width) to resize images to
    grayscale: bool = False
    features: str | tuple[str, ...] | None = None  # npz: an array name; csv: column names (None: all but labels)
    labels: str | None = None
    classes: int | None = None  # number of classes of integer labels (None: the largest label + 1)
    standardize: bool = True  # tabular features: per-feature mean/std of the training split

    @property
    def name(self) -> str:
        """``data/train`` for a folder (its parent and its own name), the file's stem for a file."""
        path = Path(self.path)
        return f"{path.parent.name}/{path.name}" if self.kind == "image_folder" else path.stem

    @property
    def is_image(self) -> bool | None:
        """True for image folders, False for CSV, None (known once loaded) for ``.npz`` arrays."""
        return True if self.kind == "image_folder" else False if self.kind == "csv" else None

    def to_dict(self) -> dict:
        out: dict = {"type": self.kind, "path": self.path}
        if self.kind != "image_folder":
            out["task"] = self.task
        for key in ("validation", "test", "labels", "classes"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.kind == "image_folder":
            out["grayscale"] = self.grayscale
            if self.image_size is not None:
                out["image_size"] = list(self.image_size)
        else:
            out["standardize"] = self.standardize
            if self.features is not None:
                out["features"] = list(self.features) if isinstance(self.features, tuple) else self.features
        return out


#: At most this share of the memory available now may hold a dataset ($AUTOTUNE_DATA_MEMORY_MB overrides).
MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class Arrays:
    x: torch.Tensor
    y: torch.Tensor
    classes: tuple[str, ...] = ()  # class names in label order (classification)


def read(src: DataSource, path: str, *, classes: tuple[str, ...] | None = None) -> Arrays:
    """Read one file or folder of ``src`` (its training ``path``, or its validation/test one).

    ``classes`` (the training data's) must match for a validation/test image folder.
    """
    if src.kind == "image_folder":
        return read_image_folder(Path(path), src, classes=classes)
    if src.kind == "npz":
        return read_npz(Path(path), src)
    return read_csv(Path(path), src, classes=classes)


# --------------------------------------------------------------------------------------
# Image folders


def read_image_folder(root: Path, src: DataSource, *, classes: tuple[str, ...] | None = None) -> Arrays:
    """``root/<class>/<image>`` (torchvision's ImageFolder layout), classes in sorted order."""
    import numpy as np
    import torch

    if not root.is_dir():
        raise DataError(f"image folder '{root}' does not exist")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        raise DataError(
            f"image folder '{root}' has no class folders: expected {root}/<class>/<image> "
            "(torchvision's ImageFolder layout)"
        )
    if classes is None and len(found) < 2:
        raise DataError(f"image folder '{root}' has one class folder ('{found[0]}'); a classifier needs at least 2")
    if classes is not None and tuple(found) != classes:
        missing, extra = sorted(set(classes) - set(found)), sorted(set(found) - set(classes))
        raise DataError(
            f"image folder '{root}' must have the training classes {list(classes)}; missing {missing}, extra {extra}"
        )
    files: list[tuple[Path, int]] = []
    for label, name in enumerate(found):
        images = sorted(
            p
            for p in (root / name).iterdir()
            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
        )
        if not images:
            raise DataError(f"class folder '{root / name}' has no images ({', '.join(IMAGE_EXTENSIONS)})")
        files += [(p, label) for p in images]

    mode = "L" if src.grayscale else "RGB"
    channels = 1 if src.grayscale else 3
    first = _open(files[0][0], mode, src.image_size)
    height, width = first.shape[:2]
    check_memory(
        len(files) * channels * height * width * 4,
        f"image folder '{root}' ({len(files)} images of {channels}x{height}x{width})",
    )
    pixels = np.empty((len(files), height, width, channels), dtype=np.uint8)
    for i, (path, _) in enumerate(files):
        array = first if i == 0 else _open(path, mode, src.image_size)
        if array.shape[:2] != (height, width):
            raise DataError(
                f"image '{path}' is {array.shape[1]}x{array.shape[0]} but '{files[0][0]}' is "
                f"{width}x{height}; images must share one size, or set dataset.image_size to resize them"
            )
        pixels[i] = array.reshape(height, width, channels)
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).to(torch.float32).div_(255.0).contiguous()
    y = torch.tensor([label for _, label in files], dtype=torch.long)
    return Arrays(x, y, tuple(found))


def _open(path: Path, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()  # decode now: a truncated file fails here, with its name
            image = image.convert(mode)
            if size is not None and image.size != (size[1], size[0]):
                image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            return np.asarray(image, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read image '{path}': {reason}") from None


# --------------------------------------------------------------------------------------
# Arrays and tables


def read_npz(path: Path, src: DataSource) -> Arrays:
    """Arrays ``features`` (default ``x``) and ``labels`` (default ``y``) of an ``.npz`` file; no pickles."""
    import numpy as np
    import torch

    if not path.is_file():
        raise DataError(f"array file '{path}' does not exist")
    x_name, y_name = src.features or "x", src.labels or "y"
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            for key, name in (("features", x_name), ("labels", y_name)):
                if name not in names:
                    raise DataError(
                        f"'{path}' has no array '{name}' (dataset.{key}); it holds: {', '.join(names) or 'nothing'}"
                    )
            x, y = archive[x_name], archive[y_name]
    except DataError:
        raise
    except (OSError, ValueError, EOFError) as exc:  # not a zip, a truncated file, or object arrays (pickles)
        raise DataError(f"cannot read '{path}' as an .npz file of numeric arrays: {str(exc).splitlines()[0]}") from None
    if x.dtype.kind not in "biuf":
        raise DataError(f"'{path}': array '{x_name}' must be numeric, got dtype {x.dtype}")
    if x.ndim < 2:
        raise DataError(f"'{path}': array '{x_name}' must have one row per example, shape (n, ...); got {x.shape}")
    if x.ndim == 3:  # (n, height, width): grayscale images
        x = x[:, None]
    check_memory(x.size * 4, f"array '{x_name}' of '{path}' (shape {x.shape})")
    return _with_targets(path, src, torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), y, y_name)


def read_csv(path: Path, src: DataSource, *, classes: tuple[str, ...] | None = None) -> Arrays:
    """A CSV file with a header row: numeric feature columns and one label column."""
    import numpy as np
    import torch

    if not path.is_file():
        raise DataError(f"CSV file '{path}' does not exist")
    label = src.labels or "label"
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read CSV file '{path}': {exc}") from None
    if not rows:
        raise DataError(f"CSV file '{path}' is empty; it needs a header row and one row per example")
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if r]
    if label not in header:
        raise DataError(
            f"CSV file '{path}' has no label column '{label}' (dataset.labels); its columns: {', '.join(header)}"
        )
    features = list(src.features) if src.features else [h for h in header if h != label]
    missing = [f for f in features if f not in header]
    if missing or not features:
        raise DataError(
            f"CSV file '{path}' has no feature column '{missing[0] if missing else ''}'; "
            f"its columns: {', '.join(header)}"
        )
    if not body:
        raise DataError(f"CSV file '{path}' has a header but no examples")
    columns = [header.index(f) for f in features]
    x = np.empty((len(body), len(columns)), dtype=np.float32)
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise DataError(f"CSV file '{path}' line {i + 2} has {len(row)} fields; the header has {len(header)}")
        for j, c in enumerate(columns):
            try:
                x[i, j] = float(row[c])
            except ValueError:
                raise DataError(
                    f"CSV file '{path}' line {i + 2}, column '{header[c]}': {row[c]!r} is not a number"
                ) from None
    raw = [row[header.index(label)].strip() for row in body]
    if src.task == "classification" and not all(_parses(v, int) for v in raw):  # class names: sorted, then numbered
        names = classes or tuple(sorted(set(raw)))
        unknown = sorted(set(raw) - set(names))
        if unknown:
            raise DataError(
                f"CSV file '{path}': label {unknown[0]!r} is not a class of the training data {list(names)}"
            )
        index = {name: i for i, name in enumerate(names)}
        return _with_targets(path, src, torch.from_numpy(x), np.array([index[v] for v in raw]), label, names)
    try:
        y = np.array([float(v) for v in raw])
    except ValueError:
        bad = next(v for v in raw if not _parses(v, float))
        raise DataError(f"CSV file '{path}', column '{label}': {bad!r} is not a number") from None
    return _with_targets(path, src, torch.from_numpy(x), y, label)


def _with_targets(
    path: Path, src: DataSource, x: torch.Tensor, y: np.ndarray, y_name: str, names: tuple[str, ...] = ()
) -> Arrays:
    import numpy as np
    import torch

    if len(y) != len(x):
        raise DataError(f"'{path}': {len(x)} examples but {len(y)} labels in '{y_name}'")
    if not torch.isfinite(x).all():
        row = int((~torch.isfinite(x.reshape(len(x), -1))).any(1).nonzero()[0])
        raise DataError(f"'{path}': example {row} has a missing or non-finite feature value")
    if src.task == "regression":
        if y.dtype.kind not in "biuf" or not np.isfinite(y).all():
            raise DataError(f"'{path}': regression targets '{y_name}' must be finite numbers")
        target = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))
        return Arrays(x, target.unsqueeze(1) if target.ndim == 1 else target.reshape(len(y), -1))
    if y.ndim != 1 or y.dtype.kind not in "biuf" or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
        raise DataError(
            f"'{path}': class labels '{y_name}' must be whole numbers in one column, "
            f"got dtype {y.dtype} and shape {y.shape}"
        )
    labels = y.astype(np.int64)
    n_classes = src.classes if src.classes is not None else len(names) or int(labels.max()) + 1
    bad = np.nonzero((labels < 0) | (labels >= n_classes))[0]
    if len(bad):
        allowed = f"0..{n_classes - 1} (dataset.classes: {n_classes})" if src.classes else "0 or more"
        raise DataError(
            f"'{path}': label {int(labels[bad[0]])} of example {int(bad[0])} is out of range; allowed: {allowed}"
        )
    return Arrays(x, torch.from_numpy(labels), names or tuple(str(i) for i in range(n_classes)))


def _parses(text: str, kind: type) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------
# Memory


def memory_limit() -> int:
    """Bytes a dataset may take: $AUTOTUNE_DATA_MEMORY_MB, else half of the memory available now."""
    value = os.environ.get("AUTOTUNE_DATA_MEMORY_MB")
    if value:
        try:
            return int(float(value) * 2**20)
        except ValueError:
            raise DataError(f"AUTOTUNE_DATA_MEMORY_MB must be a number of megabytes, got {value!r}") from None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(int(line.split()[1]) * 1024 * MEMORY_SHARE)
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES") * MEMORY_SHARE)


def check_memory(nbytes: int, what: str) -> None:
    limit = memory_limit()
    if nbytes > limit:
        raise DataError(
            f"{what} needs {nbytes / 2**20:.0f} MB in memory as float32, more than the "
            f"{limit / 2**20:.0f} MB allowed (half of the memory available, or $AUTOTUNE_DATA_MEMORY_MB); "
            "use a smaller image_size or fewer examples"
        )
