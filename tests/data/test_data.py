"""Datasets: seeded splits, the test split kept apart, a verified offline cache, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from autotune.data.datasets import DATASETS, load_splits, load_test
from autotune.errors import DataError
from tests.conftest import assert_one_error_line, invoke


def test_digits_split_sizes_and_seed():
    a = load_splits("digits", validation_size=0.2, seed=1)
    b = load_splits("digits", validation_size=0.2, seed=1)
    c = load_splits("digits", validation_size=0.2, seed=2)
    assert (len(a.train), len(a.val)) == (1437 - 287, 287)
    assert torch.equal(a.val.x, b.val.x) and torch.equal(a.train.y, b.train.y)
    assert not torch.equal(a.val.x, c.val.x)
    assert a.train.x.shape[1:] == (1, 8, 8)


def test_digits_test_split_is_disjoint_from_training():
    splits = load_splits("digits", validation_size=0.2, seed=0)
    test = load_test(splits)
    assert len(test) == 360
    pool = torch.cat([splits.train.x, splits.val.x]).flatten(1)
    overlap = (torch.cdist(test.x.flatten(1), pool) == 0).any(dim=1).float().mean()
    # sklearn's digits has a handful of exact duplicates; a shared split would overlap completely
    assert overlap < 0.02


def test_normalisation_uses_training_statistics():
    splits = load_splits("digits", validation_size=0.2, seed=0)
    assert abs(float(splits.train.x.mean())) < 1e-4
    assert abs(float(splits.train.x.std()) - 1) < 1e-3


def test_train_subset_and_count_validation_size():
    splits = load_splits("digits", validation_size=100, seed=0, train_subset=50)
    assert (len(splits.train), len(splits.val)) == (50, 100)


def test_sine_regression_targets():
    splits = load_splits("sine", validation_size=0.2, seed=0)
    assert torch.allclose(splits.train.y, torch.sin(splits.train.x))
    assert (len(splits.train), len(splits.val)) == (1600, 400)
    assert DATASETS["sine"].task == "regression"


def test_validation_too_large():
    with pytest.raises(
        DataError,
        match="validation_size 5000 gives 5000 validation examples of the 1437 in 'digits'; "
        "validation and training need at least one each",
    ):
        load_splits("digits", validation_size=5000, seed=0)


@pytest.mark.slow
def test_mnist_from_offline_copy(mnist_available, session_cache):
    splits = load_splits("mnist", validation_size=10000, seed=0, data_dir=mnist_available)
    assert (len(splits.train), len(splits.val)) == (50000, 10000)
    assert splits.train.x.shape[1:] == (1, 28, 28)
    assert sorted(splits.train.y.unique().tolist()) == list(range(10))
    assert (session_cache / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()
    test = load_test(splits, data_dir=mnist_available)
    assert len(test) == 10000


def test_missing_data_folder_is_named(tmp_path):
    with pytest.raises(DataError, match="data folder '.*nowhere' .* does not exist"):
        load_splits("mnist", validation_size=0.1, seed=0, data_dir=tmp_path / "nowhere")


def test_tampered_source_file_is_refused(tmp_path, monkeypatch, mnist_available):
    monkeypatch.setenv("AUTOTUNE_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "src" / "MNIST" / "raw"
    src.mkdir(parents=True)
    for f in (mnist_available / "MNIST" / "raw").iterdir():
        shutil.copyfile(f, src / f.name)
    with open(src / "train-labels-idx1-ubyte.gz", "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz' fails its MD5 check"):
        load_splits("mnist", validation_size=0.1, seed=0, data_dir=tmp_path / "src")


@pytest.mark.slow
def test_no_local_copy_and_no_download_says_what_is_missing(tmp_path, monkeypatch):
    # This machine has no internet, so torchvision's download fails for real: no mock.
    monkeypatch.setenv("AUTOTUNE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("AUTOTUNE_DATA_DIR")
    with pytest.raises(DataError) as info:
        load_splits("fashion-mnist", validation_size=0.1, seed=0)
    message = str(info.value)
    assert message.startswith("fashion-mnist data not found: AUTOTUNE_DATA_DIR is not set and the download failed (")
    assert message.endswith(
        "; set AUTOTUNE_DATA_DIR or data_dir to a folder holding FashionMNIST/raw/"
        "{train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz}"
    )


@pytest.mark.parametrize("where", ["empty", "MNIST/raw/deeper"])
def test_a_data_folder_without_the_dataset_is_an_error_even_with_a_filled_cache(tmp_path, mnist_available, where):
    """#31: --data-dir at an empty folder, or one level too deep, trained from the cache without a word."""
    load_splits("mnist", validation_size=0.1, seed=0, data_dir=mnist_available)  # the session's cache holds MNIST
    (tmp_path / where).mkdir(parents=True)
    with pytest.raises(DataError) as info:
        load_splits("mnist", validation_size=0.1, seed=0, data_dir=tmp_path / where)
    assert str(info.value) == (
        f"data folder '{tmp_path / where}' (from data_dir or AUTOTUNE_DATA_DIR) holds no "
        "train-images-idx3-ubyte.gz: looked in MNIST/raw/, raw/ and the folder itself; name "
        "the folder that holds MNIST/raw/"
    )


def test_a_data_folder_without_the_dataset_is_one_error_line_and_nothing_is_written(tmp_path, mnist_available):
    (tmp_path / "empty").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    result = invoke("run", "--study", "mlp-mnist", "--trials", "1", "--data-dir", str(tmp_path / "empty"))
    assert_one_error_line(
        result,
        f"data folder '{tmp_path / 'empty'}' (from --data-dir or AUTOTUNE_DATA_DIR) holds "
        "no train-images-idx3-ubyte.gz",
        code=1,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def _private_mnist_cache(tmp_path, monkeypatch, source) -> Path:
    import autotune.data.datasets as data

    monkeypatch.setenv("AUTOTUNE_CACHE_DIR", str(tmp_path / "cache"))
    data._pool.cache_clear()
    load_splits("mnist", validation_size=0.1, seed=0, data_dir=source)
    return tmp_path / "cache" / "data" / "MNIST" / "raw"


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["altered", "truncated"])
def test_a_damaged_unpacked_cache_file_is_unpacked_again_never_trained_on(
    tmp_path, monkeypatch, capsys, damage, mnist_available
):
    import autotune.data.datasets as data

    raw = _private_mnist_cache(tmp_path, monkeypatch, mnist_available)
    reference = load_splits("mnist", validation_size=0.1, seed=0, data_dir=mnist_available)
    target = raw / "train-images-idx3-ubyte"
    if damage == "altered":  # same size, different pixels: torchvision alone would train on it
        with open(target, "r+b") as fh:
            fh.seek(5000)
            fh.write(bytes(range(200)))
    else:
        target.write_bytes(target.read_bytes()[:1000])
    data._pool.cache_clear()
    capsys.readouterr()
    again = load_splits("mnist", validation_size=0.1, seed=0, data_dir=mnist_available)
    assert f"{target} does not match the archive it came from" in capsys.readouterr().err
    assert torch.equal(again.train.x, reference.train.x)
    data._pool.cache_clear()
    load_splits("mnist", validation_size=0.1, seed=0, data_dir=mnist_available)
    assert capsys.readouterr().err == ""  # unpacked once more, then trusted again


@pytest.mark.slow
def test_a_damaged_cached_archive_is_replaced_from_the_source_or_reported(
    tmp_path, monkeypatch, capsys, mnist_available
):
    import autotune.data.datasets as data

    raw = _private_mnist_cache(tmp_path, monkeypatch, mnist_available)
    archive = raw / "t10k-labels-idx1-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:-10])
    data._pool.cache_clear()
    capsys.readouterr()
    load_splits("mnist", validation_size=0.1, seed=0, data_dir=mnist_available)
    assert f"cached {archive} fails its MD5 check; replacing it" in capsys.readouterr().err
    assert archive.read_bytes() == (mnist_available / "MNIST" / "raw" / archive.name).read_bytes()
    archive.write_bytes(b"garbage")  # and with no source to copy from (no internet here either): an error
    data._pool.cache_clear()
    monkeypatch.delenv("AUTOTUNE_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="mnist data not found"):
        load_splits("mnist", validation_size=0.1, seed=0)
    assert not archive.exists()
