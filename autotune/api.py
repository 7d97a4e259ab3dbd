"""The Python API for notebooks and scripts: the functions the CLI commands call, with defaults.

::

    import autotune

    spec = autotune.load_spec("examples/glyphs/glyphs.yaml")      # or autotune.parse_spec({...})
    autotune.run_study(spec, n_trials=12, storage="sqlite:///glyphs.db")   # `autotune run`
    best = autotune.best_config(spec, storage="sqlite:///glyphs.db")       # what `export` writes to best.yaml
    again = autotune.replay_config(spec, best["config"], seeds=3)          # `autotune replay --seeds 3`
    print(again.mean("val_accuracy"), again.std("val_accuracy"))
"""

from __future__ import annotations

import os
from typing import Any

import optuna

from autotune.spec import StudySpec, load_spec


def load_study(spec: StudySpec | str, *, storage: str | None = None, study_name: str | None = None) -> optuna.Study:
    """The stored Optuna study of ``spec`` (a spec, a shipped spec's name or a YAML path)."""
    from autotune.replay import open_context

    return open_context(spec, storage=storage, study_name=study_name, need_study=True).study  # type: ignore[return-value]


def best_config(spec: StudySpec | str, *, storage: str | None = None, study_name: str | None = None,
                objective: str | None = None) -> dict[str, Any]:
    """The best trial as ``autotune export`` records it: ``trial``, ``value``, ``params``, ``seed`` and
    ``config`` (every parameter resolved, ready for :func:`replay_config`)."""
    from autotune.export import best_record
    from autotune.replay import open_context

    ctx = open_context(spec, storage=storage, study_name=study_name, need_study=True)
    return best_record(ctx.study, ctx.spec, objective=objective)  # type: ignore[arg-type]


def replay_config(spec: StudySpec | str, config: dict[str, Any], *, seeds: int = 1, first_seed: int | None = None,
                  epochs: int | None = None, data_dir: str | os.PathLike | None = None) -> Any:
    """Train ``config`` over ``seeds`` seeds on the CPU (``first_seed`` first, default the spec's seed),
    as ``autotune replay`` does; returns a :class:`autotune.replay.Replay` (``.runs``, ``.mean(key)``,
    ``.std(key)``, ``.summary()``)."""
    from autotune.prepare import prepare
    from autotune.replay import config_from_mapping, replay, seeds_for

    spec = spec if isinstance(spec, StudySpec) else load_spec(spec)
    config = config_from_mapping(spec, config, source="config")  # checked like `--set`; missing keys: defaults
    splits = prepare(spec, data_dir=data_dir, device="cpu")
    return replay(spec, config, seeds=seeds_for(spec.seed if first_seed is None else first_seed, seeds),
                  epochs=epochs, splits=splits)
