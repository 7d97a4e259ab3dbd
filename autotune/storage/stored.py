"""A stored study with the spec it was created from: what report, export, replay, ablate and sweep read.

``study`` names a shipped spec, a YAML file, or a study in the storage (by its name); the spec
stored with the study wins, since it is the one its trials were run with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import optuna

from autotune.errors import OptionError, SpecError, StudyNotFoundError
from autotune.spec.study import StudySpec, load_spec, parse_spec, shipped_specs
from autotune.storage.replays import ReplayStore
from autotune.storage.studies import open_storage, redact, resolve_storage_url

#: What a ``study`` argument of the Python API takes: a spec, a shipped spec's name, a YAML path, or a stored study's
#: name (its stored spec is used)
Study = StudySpec | str


@dataclass
class Context:
    spec: StudySpec
    study: optuna.Study | None
    storage: Any

    def store(self) -> ReplayStore | None:
        return ReplayStore(self.storage, self.study.study_name) if self.study is not None else None


def open_context(
    study: str | StudySpec | None,
    *,
    storage: str | None,
    study_name: str | None,
    need_study: bool,
    train_subset: int | None = None,
    batch_seeds: bool | None = None,
) -> Context:
    """Load the stored study (its own stored spec wins) or, without one, just the spec.

    ``train_subset`` shrinks the training split for every run (a smaller budget); it is part of
    the spec, so such runs are recorded apart from full-budget ones. ``batch_seeds`` (not None) says whether the
    seeds of each configuration train at once (the spec's ``batch_seeds``); each run records how it was batched.
    """
    context = _open_context(study, storage=storage, study_name=study_name, need_study=need_study)
    if train_subset is not None:
        context.spec = replace(context.spec, train_subset=train_subset)
    if batch_seeds is not None:
        context.spec = replace(context.spec, batch_seeds=bool(batch_seeds))
    return context


def is_spec_reference(text: str) -> bool:
    """Whether ``--study TEXT`` names a spec (a shipped one, or a YAML file) rather than a stored study."""
    path = Path(text).expanduser()
    return text in shipped_specs() or path.suffix in (".yaml", ".yml") or path.is_file()


def _open_context(
    study: str | StudySpec | None, *, storage: str | None, study_name: str | None, need_study: bool
) -> Context:
    if study is None:
        raise OptionError("«study» is required (a shipped spec name, a YAML file or a stored study's name)")
    if need_study and isinstance(study, str) and not is_spec_reference(study):
        return _by_name(study, storage=storage, study_name=study_name)
    spec = study if isinstance(study, StudySpec) else load_spec(study)
    if not need_study:
        return Context(spec, None, None)
    url = resolve_storage_url(storage)
    rdb = open_storage(url, must_exist=True)
    name = study_name or spec.name
    try:
        loaded = optuna.load_study(study_name=name, storage=rdb)
    except KeyError:
        raise StudyNotFoundError(f"no study '{name}' in storage '{redact(url)}'") from None
    stored = stored_spec(loaded)
    if stored is not None:
        given, spec = spec, stored
        if given.fingerprint() == spec.fingerprint():  # the same search: your spec's final-model budget applies,
            spec = replace(spec, final=given.final, batch_seeds=given.batch_seeds)  # and how its seeds train
    return Context(spec, loaded, rdb)


def _by_name(study: str, *, storage: str | None, study_name: str | None) -> Context:
    """``--study NAME`` of a study in the storage: its stored spec is the only spec there is."""
    url = resolve_storage_url(storage)
    rdb = open_storage(url, must_exist=True)
    name = study_name or study
    try:
        loaded = optuna.load_study(study_name=name, storage=rdb)
    except KeyError:
        shipped = ", ".join(shipped_specs()) or "(none found)"
        raise StudyNotFoundError(
            f"unknown study '{study}': not a shipped spec ({shipped}), a YAML file, nor a study "
            f"in storage '{redact(url)}'"
        ) from None
    spec = stored_spec(loaded)
    if spec is None:
        raise SpecError(
            f"study '{name}' in storage '{redact(url)}' has no stored spec (it was not created by "
            f"autotune); give its spec file: «study» FILE «study_name» {name}"
        )
    return Context(spec, loaded, rdb)


def stored_spec(study: optuna.Study) -> StudySpec | None:
    """The spec a study was created from, as ``autotune run`` stored it (None for a foreign study)."""
    data = study.user_attrs.get("spec")
    return parse_spec(data, source=f"study '{study.study_name}'") if isinstance(data, dict) else None
