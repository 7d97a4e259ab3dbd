"""The built-in datasets' examples as tensors: MNIST and Fashion-MNIST through torchvision from a verified
cache, scikit-learn's 8x8 digits (embedded), and sine (generated).

MNIST and Fashion-MNIST's original ``.gz`` files are looked for in a local source folder (``--data-dir`` or
``$AUTOTUNE_DATA_DIR``, laid out as ``<dir>/MNIST/raw/*.gz``), checked against torchvision's MD5 sums, copied into
autotune's own cache and unpacked there; an unpacked file that differs from what autotune unpacked is unpacked
again. Without a local copy, torchvision's normal download is tried. :func:`autotune.data.datasets.load_splits`
and :func:`~autotune.data.datasets.load_test` call these readers once per process and split what they return.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autotune.base.paths import cache_dir
from autotune.errors import DataError

if TYPE_CHECKING:  # torch is imported lazily: `autotune --help` must stay instant
    import torch

#: Fixed seeds of the built-in synthetic/embedded sets, so every study sees the same data.
_DIGITS_TEST_SEED = 20240601
_SINE_SEED = 20240602


def digits_pool(*, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    import torch
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(bunch.target, dtype=torch.long)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(_DIGITS_TEST_SEED))
    n_test = 360
    idx = perm[n_test:] if train else perm[:n_test]
    return x[idx].contiguous(), y[idx].contiguous()


def sine_pool(*, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    if train:
        gen = torch.Generator().manual_seed(_SINE_SEED)
        x = (torch.rand(2000, 1, generator=gen) * 2 - 1) * math.pi
    else:
        x = torch.linspace(-math.pi, math.pi, 1000).unsqueeze(1)
    return x, torch.sin(x)


def torchvision_pool(
    name: str, class_name: str, source: Path | None, *, train: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """The train (or test) pool of torchvision's dataset ``class_name`` (``MNIST``, ``FashionMNIST``), its
    archives copied from ``source`` or the cache after their MD5 checks, or downloaded when there is no local copy."""
    import torch
    from torchvision import datasets

    cls = getattr(datasets, class_name)
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
        folder = f"{class_name}/raw"
        files = ", ".join(file for file, _ in cls.resources)
        where = f"'{source}' has no {folder}/ files" if source else "AUTOTUNE_DATA_DIR is not set"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"{name} data not found: {where} and the download failed ({reason}); "
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
