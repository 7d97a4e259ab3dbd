"""Replaying a stored trial or a configuration, as ``autotune replay`` does: the configuration resolved (a trial's,
a file's or a mapping's, with overrides), trained over seeds in the precision it was recorded in, each run kept in the
replay store, and whether the stored value was reproduced exactly (``ReplayResult``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from autotune.errors import OptionError
from autotune.hardware import precision
from autotune.hardware.steps import recorded_step
from autotune.search import configs
from autotune.search.prepare import replay_data
from autotune.spec.study import StudySpec
from autotune.storage import replays
from autotune.storage.replays import Replay, SeedRun
from autotune.storage.stored import Study, open_context


@dataclass(frozen=True)
class ReplayResult:
    """A replay's runs (``replay.runs``, ``replay.mean(key)``, ``replay.std(key)``), its notes, and
    whether it reproduced the stored trial exactly (a sentence; None where no fair comparison exists)."""

    replay: Replay
    spec: StudySpec
    trial: int | None
    notes: list[str] = field(default_factory=list)
    reproduction: str | None = None

    @property
    def runs(self) -> list[SeedRun]:
        return self.replay.runs

    def to_dict(self) -> dict[str, Any]:
        return {**self.replay.summary(), "reproduction": self.reproduction}


def replay(
    study: Study | None = None,
    *,
    trial: int | str | None = None,
    config: dict[str, Any] | str | None = None,
    overrides: dict[str, Any] | None = None,
    seeds: int = 1,
    epochs: int | None = None,
    train_subset: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    data_dir: str | os.PathLike | None = None,
    threads: int | None = None,
    batch_seeds: bool | None = None,
) -> ReplayResult:
    """Re-run a stored trial (``trial``: a number or ``"best"``) or a configuration (a mapping, or a YAML/JSON
    file as export writes it) over ``seeds`` seeds, with optional ``overrides`` (``autotune replay``).

    Without overrides, with the trial's own seed and budget, it says whether the stored metric was
    reproduced exactly. Runs are recorded in the companion study ``<study>:replays``. ``batch_seeds``: train the
    seeds at once (None: the spec's ``batch_seeds``; see :mod:`autotune.training.seed_batch`).
    """

    if (trial is None) == (config is None):
        raise OptionError("give exactly one of «trial» N|best and «config» FILE")
    ctx = open_context(
        study,
        storage=storage,
        study_name=study_name,
        need_study=trial is not None,
        train_subset=train_subset,
        batch_seeds=batch_seeds,
    )
    spec, notes, source = ctx.spec, [], None
    if trial is not None:
        source, notes = replays.resolve_trial(ctx.study, str(trial))
        base = configs.config_of(spec, source)
        first_seed = source.user_attrs.get("seed", spec.seed)
    elif isinstance(config, dict):
        base, first_seed = configs.config_from_mapping(spec, config, source="config"), spec.seed
    else:
        base, first_seed = configs.load_config_file(str(config), spec), spec.seed
        origin = configs.exported_trial(str(config))
        if origin is not None:  # an export's best.yaml: its configuration, not its trial's run
            notes.append(
                f"{config} holds trial {origin[1]} of study '{origin[0]}': its configuration is trained here with the "
                f"spec's seed ({first_seed}) and step ({spec.step}), not the trial's own; "
                f"`autotune replay --study {origin[0]} --trial {origin[1]}` reproduces the trial itself"
            )
    base, set_notes = configs.apply_overrides(spec, base, dict(overrides or {}))
    notes += set_notes
    # a stored trial replays in the precision it recorded; a configuration in the spec's, resolved on the CPU
    used = (
        precision.recorded(source.user_attrs)
        if source is not None
        else precision.resolve(spec.precision, device="cpu", family=spec.model, config=base)
    )
    step = recorded_step(source.user_attrs) if source is not None else spec.step  # likewise the training step
    slow = precision.emulation_note(used, f"trial {source.number}" if source else "this configuration")
    notes += [slow] if slow else []
    seed_list = replays.seeds_for(first_seed, seeds)
    if spec.batch_seeds and replays.batch_of(spec, seed_list) is None:
        notes.append("seed batching needs two seeds or more: this one seed trains on its own")
    splits = replay_data(spec, threads, data_dir, source.user_attrs.get("threads") if source else None)
    extra = {
        "source_trial": source.number if source else None,
        "overrides": [f"{key}={value}" for key, value in (overrides or {}).items()],
        "config_file": config if isinstance(config, str) else None,
    }
    label = f"trial {source.number}" if source else (config if isinstance(config, str) else "config")
    result = replays.replay(
        spec,
        base,
        seeds=seed_list,
        epochs=epochs,
        splits=splits,
        label=label,
        store=ctx.store(),
        extra=extra,
        notes=notes,
        precision=used,
        step=step,
    )
    check = replays.reproduction(spec, source, result, overridden=bool(overrides), epochs=epochs)
    return ReplayResult(
        replay=result, spec=spec, trial=source.number if source else None, notes=notes, reproduction=check
    )
