"""storage.optuna_private: the one module that touches Optuna's private API, and the Optuna versions it allows."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import optuna
import pytest
from packaging.specifiers import SpecifierSet

from autotune.errors import StorageError
from autotune.storage import optuna_private

REPO = Path(__file__).resolve().parents[2]
PRIVATE = re.compile(r"\._(storage|backend|trial_id|study_id)\b|optuna\.storages\._|[\"']_(storage|backend)[\"']")


def test_the_installed_optuna_has_every_internal_autotune_relies_on():
    optuna_private.check()  # raises, naming what is missing, after an Optuna release that renamed one


def test_a_missing_internal_is_named_in_one_clear_error(monkeypatch):
    import optuna.storages._rdb.storage as rdb

    monkeypatch.delattr(rdb, "_create_scoped_session")  # as if a release had renamed it
    with pytest.raises(StorageError) as err:
        optuna_private.check()
    assert str(err.value) == (
        f"optuna {optuna.__version__} lacks optuna.storages._rdb.storage._create_scoped_session, "
        "which autotune relies on (tested with optuna>=5.0,<6); install a version in that range"
    )


def test_a_trial_model_without_its_columns_is_named(monkeypatch):
    monkeypatch.setattr(optuna_private, "trial_model", lambda: type("TrialModel", (), {"trial_id": 1}))
    with pytest.raises(
        StorageError,
        match=r"lacks TrialModel\.study_id, TrialModel\.state, TrialModel\.datetime_start, "
        r"TrialModel\.heartbeats, which autotune relies on",
    ):
        optuna_private.check()


def test_no_other_module_touches_optunas_private_names():
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in sorted((REPO / "autotune").rglob("*.py"))
        if path.name != "optuna_private.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PRIVATE.search(line)
    ]
    assert found == []


def test_pyproject_bounds_optuna_to_the_tested_versions_and_the_installed_one_is_inside():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    (bound,) = [d.removeprefix("optuna") for d in deps if re.match(r"optuna[<>=]", d)]
    assert bound == optuna_private.TESTED and optuna.__version__ in SpecifierSet(bound)
