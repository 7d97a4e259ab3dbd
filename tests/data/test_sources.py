"""A user's own data: image folders, .npz arrays and CSV files, loaded through load_splits/load_test."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from autotune.data.datasets import load_splits, load_test
from autotune.data.sources import DataSource
from autotune.errors import DataError
from tests.conftest import make_glyph_folder


def folder(path, **kw) -> DataSource:
    return DataSource(kind="image_folder", path=str(path), **kw)


def test_image_folder_classes_shapes_seeded_split_and_training_normalisation(tmp_path):
    root = make_glyph_folder(tmp_path / "g", per_class=10, test_per_class=4, size=16)
    src = folder(root / "train", grayscale=True, test=str(root / "test"))
    a = load_splits(src, validation_size=0.2, seed=3)
    b = load_splits(src, validation_size=0.2, seed=3)
    c = load_splits(src, validation_size=0.2, seed=4)
    assert a.info.classes == ("circle", "cross", "square", "star", "triangle")
    assert a.info.shape == (1, 16, 16) and a.info.n_outputs == 5 and a.info.task == "classification"
    assert (len(a.train), len(a.val)) == (40, 10)
    assert torch.equal(a.val.x, b.val.x) and not torch.equal(a.val.x, c.val.x)
    assert abs(float(a.train.x.mean())) < 1e-4 and abs(float(a.train.x.std()) - 1) < 1e-3
    assert sorted(torch.bincount(torch.cat([a.train.y, a.val.y])).tolist()) == [10] * 5
    test = load_test(a)
    assert len(test) == 20 and test.x.shape[1:] == (1, 16, 16)
    raw = np.asarray(Image.open(sorted((root / "test" / "circle").iterdir())[0]), dtype=np.float32) / 255
    assert torch.allclose(test.x[0, 0], (torch.from_numpy(raw) - a.mean) / a.std, atol=1e-5)
    assert "data/train" not in a.describe() and "MB in memory" in a.describe()


def test_image_folder_resize_colour_and_own_validation_folder(tmp_path):
    root = make_glyph_folder(tmp_path / "g", per_class=6, test_per_class=3, size=20)
    src = folder(root / "train", image_size=(12, 10), validation=str(root / "test"))
    splits = load_splits(src, validation_size=0.5, seed=0)
    assert splits.info.shape == (3, 12, 10)  # RGB by default, resized to height 12, width 10
    assert (len(splits.train), len(splits.val)) == (30, 15)  # validation_size is ignored


def test_npz_regression_standardises_features_with_training_statistics(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, size=(200, 3))
    np.savez(tmp_path / "r.npz", inputs=x, target=x @ [1.0, -2.0, 0.5])
    src = DataSource(kind="npz", path=str(tmp_path / "r.npz"), task="regression", features="inputs", labels="target")
    splits = load_splits(src, validation_size=50, seed=1)
    assert splits.info.shape == (3,) and splits.info.n_outputs == 1 and splits.train.y.shape == (150, 1)
    assert torch.allclose(splits.train.x.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(splits.train.x.std(0), torch.ones(3), atol=1e-4)
    assert not torch.allclose(splits.val.x.mean(0), torch.zeros(3), atol=1e-3)  # validation keeps its own offset


def test_npz_labels_and_classes(tmp_path):
    np.savez(tmp_path / "c.npz", x=np.zeros((6, 2)), y=np.array([0, 1, 2, 1, 0, 2]))
    src = DataSource(kind="npz", path=str(tmp_path / "c.npz"))
    assert load_splits(src, validation_size=2, seed=0).info.n_outputs == 3
    src5 = DataSource(kind="npz", path=str(tmp_path / "c.npz"), classes=5)
    assert load_splits(src5, validation_size=2, seed=0).info.n_outputs == 5
    np.savez(tmp_path / "bad.npz", x=np.zeros((3, 2)), y=np.array([0, 7, 1]))
    with pytest.raises(
        DataError, match=r"label 7 of example 1 is out of range; allowed: 0\.\.2 \(dataset.classes: 3\)"
    ):
        load_splits(DataSource(kind="npz", path=str(tmp_path / "bad.npz"), classes=3), validation_size=1, seed=0)


def test_npz_of_images_is_an_image_dataset(tmp_path):
    np.savez(tmp_path / "i.npz", x=np.random.default_rng(0).random((10, 8, 8)), y=np.arange(10) % 2)
    splits = load_splits(DataSource(kind="npz", path=str(tmp_path / "i.npz")), validation_size=2, seed=0)
    assert splits.info.shape == (1, 8, 8) and splits.info.is_image


def test_csv_with_class_names_and_a_regression_column(tmp_path):
    rows = ["a,b,kind,score"] + [f"{i},{i % 3},{'cat' if i % 2 else 'dog'},{i * 0.5}" for i in range(20)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    cls = load_splits(
        DataSource(kind="csv", path=str(tmp_path / "t.csv"), features=("a", "b"), labels="kind"),
        validation_size=4,
        seed=0,
    )
    assert cls.info.classes == ("cat", "dog") and cls.info.shape == (2,) and cls.info.n_outputs == 2
    reg = load_splits(
        DataSource(
            kind="csv",
            path=str(tmp_path / "t.csv"),
            task="regression",
            features=("a",),
            labels="score",
            standardize=False,
        ),
        validation_size=4,
        seed=0,
    )
    assert reg.info.shape == (1,) and torch.equal(reg.train.y[:, 0], reg.train.x[:, 0] * 0.5)


def test_a_changed_file_is_read_again(tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, x=np.zeros((6, 2)), y=np.array([0, 1, 0, 1, 0, 1]))
    src = DataSource(kind="npz", path=str(path))
    assert load_splits(src, validation_size=2, seed=0).info.n_outputs == 2
    np.savez(path, x=np.zeros((7, 2)), y=np.array([0, 1, 2, 1, 0, 1, 2]))
    assert load_splits(src, validation_size=2, seed=0).info.n_outputs == 3


def test_a_dataset_too_large_for_memory_is_refused_before_decoding(tmp_path, monkeypatch):
    root = make_glyph_folder(tmp_path / "g", per_class=4, test_per_class=1, size=16)
    monkeypatch.setenv("AUTOTUNE_DATA_MEMORY_MB", "0.01")
    with pytest.raises(
        DataError, match=r"\(20 images of 1x16x16\) needs 0 MB in memory as float32, more than the 0 MB"
    ):
        load_splits(folder(root / "train", grayscale=True), validation_size=0.2, seed=0)


BAD_DATA = [
    # (what to set up, DataSource keywords, expected message fragment)
    ("missing", {}, "image folder '{root}/nope' does not exist"),
    ("one-class", {}, "has one class folder ('only'); a classifier needs at least 2"),
    ("empty-class", {}, "class folder '{root}/data/b' has no images"),
    ("corrupt", {}, "cannot read image '{root}/data/b/1.png'"),
    ("sizes", {}, "images must share one size, or set dataset.image_size"),
    ("no-classes", {}, "has no class folders"),
    ("val-classes", {"validation": "{root}/val"}, "must have the training classes ['a', 'b']; missing ['b']"),
]


@pytest.mark.parametrize("case, extra, fragment", BAD_DATA, ids=[c[0] for c in BAD_DATA])
def test_bad_image_folders_name_the_problem(tmp_path, case, extra, fragment):
    data = tmp_path / "data"

    def image(path, size=(8, 8)):
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", size, 128).save(path)

    if case != "missing":
        image(data / ("only" if case == "one-class" else "a") / "0.png")
    if case in ("empty-class",):
        (data / "b").mkdir()
    if case in ("corrupt", "sizes", "val-classes"):
        image(data / "b" / "0.png")
    if case == "corrupt":
        (data / "b" / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    if case == "sizes":
        image(data / "b" / "2.png", size=(9, 8))
    if case == "no-classes":
        data.mkdir(exist_ok=True)
        for p in data.rglob("*"):
            if p.is_file():
                p.unlink()
        for p in sorted(data.iterdir()):
            p.rmdir()
    if case == "val-classes":
        image(tmp_path / "val" / "a" / "0.png")
    path = tmp_path / "nope" if case == "missing" else data
    kw = {k: v.format(root=tmp_path) for k, v in extra.items()}
    with pytest.raises(DataError) as info:
        load_splits(folder(path, grayscale=True, **kw), validation_size=1, seed=0)
    assert fragment.format(root=tmp_path) in str(info.value)


BAD_ARRAYS = [
    ("npz-missing-array", "npz", {"features": "pixels"}, "has no array 'pixels' (dataset.features); it holds: x, y"),
    ("npz-pickle", "npz", {}, "cannot read '{path}' as an .npz file of numeric arrays"),
    ("npz-not-a-file", "npz", {"path": "{root}/none.npz"}, "array file '{root}/none.npz' does not exist"),
    ("npz-lengths", "npz", {}, "10 examples but 9 labels"),
    ("npz-float-labels", "npz", {}, "class labels 'y' must be whole numbers"),
    ("npz-nan", "npz", {}, "example 3 has a missing or non-finite feature value"),
    (
        "csv-no-label",
        "csv",
        {"labels": "target"},
        "has no label column 'target' (dataset.labels); its columns: a, b, label",
    ),
    ("csv-text", "csv", {}, "line 3, column 'b': 'oops' is not a number"),
    ("csv-ragged", "csv", {}, "line 2 has 2 fields; the header has 3"),
    ("csv-unknown-class", "csv", {"validation": "{root}/v.csv"}, "label 'zebra' is not a class of the training data"),
]


@pytest.mark.parametrize("case, kind, extra, fragment", BAD_ARRAYS, ids=[c[0] for c in BAD_ARRAYS])
def test_bad_arrays_and_tables_name_the_problem(tmp_path, case, kind, extra, fragment):
    path = tmp_path / f"d.{kind}"
    x, y = np.zeros((10, 2)), np.arange(10) % 2
    if case == "npz-pickle":
        np.savez(path, x=np.array([{"a": 1}] * 10, dtype=object), y=y)
    elif case == "npz-lengths":
        np.savez(path, x=x, y=y[:9])
    elif case == "npz-float-labels":
        np.savez(path, x=x, y=y + 0.5)
    elif case == "npz-nan":
        x[3, 1] = np.nan
        np.savez(path, x=x, y=y)
    elif kind == "npz":
        np.savez(path, x=x, y=y)
    rows = (
        ["a,b,label", "1,2,x", "3,oops,y"]
        if case == "csv-text"
        else ["a,b,label", "1,2", "3,4,y"]
        if case == "csv-ragged"
        else ["a,b,label"] + [f"{i},{i},{'xy'[i % 2]}" for i in range(6)]
    )
    if kind == "csv":
        path.write_text("\n".join(rows) + "\n")
        (tmp_path / "v.csv").write_text("a,b,label\n1,2,zebra\n")
    kw = {k: v.format(root=tmp_path) for k, v in extra.items()}
    src = DataSource(kind=kind, path=kw.pop("path", str(path)), **kw)
    with pytest.raises(DataError) as info:
        load_splits(src, validation_size=1, seed=0)
    assert fragment.format(root=tmp_path, path=path) in str(info.value)
