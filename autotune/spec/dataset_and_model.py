"""A spec's ``dataset`` (a user's own data, as a :class:`DataSource`) and ``model`` (a built-in family or a
user's model builder), with relative paths made absolute.

:func:`autotune.spec.study.parse_spec` calls the parsers; each raises a :class:`SpecError` that names the file,
the key, the bad value and what is allowed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from autotune.data.sources import SOURCE_KINDS, DataSource
from autotune.spec.params import IDENT_RE, MODELS, Checker, show_value

MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
DATASET_KEYS = {
    "image_folder": {"type", "path", "validation", "test", "image_size", "grayscale"},
    "npz": {"type", "path", "validation", "test", "features", "labels", "task", "classes", "standardize"},
    "csv": {"type", "path", "validation", "test", "features", "labels", "task", "classes", "standardize"},
}


def parse_dataset(ctx: Checker, raw: dict, base: Path) -> DataSource:
    """``dataset: {type: image_folder|npz|csv, path: ..., ...}``: a user's data (see :class:`DataSource`)."""
    sub = Checker(ctx.source, "dataset.")
    kind = sub.choice(raw, "type", SOURCE_KINDS, None)
    ctx.mapping(raw, "dataset", DATASET_KEYS[kind])
    if "path" not in raw:
        raise sub.error("path", f"is required: the {'folder' if kind == 'image_folder' else 'file'} holding the data")

    def path(key: str) -> str | None:
        value = raw.get(key)
        if value is None and key != "path":
            return None
        if not isinstance(value, str) or not value.strip():
            raise sub.error(key, f"must be a path, got {show_value(value)}")
        return str((base / Path(value).expanduser()).resolve())

    size = raw.get("image_size")
    if size is not None:
        sizes = [size, size] if isinstance(size, int) and not isinstance(size, bool) else size
        if not (
            isinstance(sizes, list)
            and len(sizes) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in sizes)
        ):
            raise sub.error("image_size", f"must be an integer in [1, 4096] or [height, width], got {show_value(size)}")
        size = (sizes[0], sizes[1])
    task = (
        "classification"
        if kind == "image_folder"
        else sub.choice(raw, "task", ("classification", "regression"), "classification")
    )
    features = raw.get("features")
    if features is not None:
        ok = (
            (isinstance(features, str) and features)
            if kind == "npz"
            else (isinstance(features, list) and features and all(isinstance(f, str) and f for f in features))
        )
        if not ok:
            want = "an array name" if kind == "npz" else "a non-empty list of column names"
            raise sub.error("features", f"must be {want}, got {show_value(features)}")
        features = tuple(features) if isinstance(features, list) else features
    labels = raw.get("labels")
    if labels is not None and not (isinstance(labels, str) and labels):
        raise sub.error(
            "labels", f"must be {'an array' if kind == 'npz' else 'a column'} name, got {show_value(labels)}"
        )
    classes = raw.get("classes")
    if classes is not None:
        if task != "classification":
            raise sub.error("classes", "applies to classification only")
        classes = sub.integer(raw, "classes", None, minimum=2)
    return DataSource(
        kind=kind,
        path=path("path"),
        task=task,
        validation=path("validation"),
        test=path("test"),
        image_size=size,
        grayscale=sub.boolean(raw, "grayscale", False),
        features=features,
        labels=labels,
        classes=classes,
        standardize=sub.boolean(raw, "standardize", True),
    )


def parse_model(ctx: Checker, raw: Any, base: Path) -> str:
    """``mlp``, ``cnn``, ``path/to/file.py:function`` (made absolute) or ``package.module:function``."""
    usage = (
        f"must be one of {', '.join(MODELS)}, or a model builder 'path/to/models.py:build' or "
        f"'package.module:build'; got {show_value(raw)}"
    )
    if raw in MODELS:
        return raw
    if not isinstance(raw, str) or ":" not in raw:
        raise ctx.error("model", usage)
    target, _, func = raw.rpartition(":")
    if not IDENT_RE.match(func):
        raise ctx.error("model", f"'{func}' is not a function name; {usage}")
    if target.endswith(".py"):
        path = (base / Path(target).expanduser()).resolve()
        if not path.is_file():
            raise ctx.error("model", f"model file '{path}' does not exist")
        return f"{path}:{func}"
    if not MODULE_RE.match(target):
        raise ctx.error("model", f"'{target}' is neither a .py file nor a module name; {usage}")
    return raw
