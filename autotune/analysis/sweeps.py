"""One factor at a time: vary one parameter over values, the others held at a trial's (the seed
reports' learning-rate, batch-size, hidden-units and epochs tables)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from autotune.errors import ConfigError
from autotune.search.configs import apply_overrides, show
from autotune.spec.study import StudySpec
from autotune.storage.replays import Replay, ReplayStore, replay


def settings(
    spec: StudySpec, base: dict[str, Any], param: str, values: Sequence[Any]
) -> list[tuple[dict[str, Any], list[str], int | None]]:
    """(configuration, notes, epochs) for each value, every value checked before anything trains."""
    out = []
    for value in values:
        if param == "epochs":  # the training budget itself, as in the seed reports' epochs tables
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"--values: epochs must be integers >= 1, got {value!r}")
            out.append((base, [], value))
        else:
            cfg, notes = apply_overrides(spec, base, {param: value}, source="--values")
            out.append((cfg, notes, None))
    return out


def sweep(
    spec: StudySpec,
    base: dict[str, Any],
    param: str,
    values: Sequence[Any],
    *,
    seeds: Sequence[int],
    splits: Any,
    epochs: int | None = None,
    store: ReplayStore | None = None,
    on_replay: Callable[[Replay], None] | None = None,
    precision: str = "fp32",
) -> list[Replay]:
    """One factor at a time: ``param`` set to each value, everything else held at ``base``; every run in
    ``precision`` (the starting trial's)."""
    out = []
    for value, (cfg, notes, value_epochs) in zip(values, settings(spec, base, param, values)):
        rep = replay(
            spec,
            cfg,
            seeds=seeds,
            epochs=value_epochs or epochs,
            splits=splits,
            label=f"{param}={show(value)}",
            store=store,
            notes=notes,
            extra={"purpose": "sweep"},
            precision=precision,
        )
        out.append(rep)
        if on_replay is not None:
            on_replay(rep)
    return out


def sweep_outputs(
    spec: StudySpec, param: str, replays: list[Replay], out_dir: Any, *, lang: str = "en", caption: str = ""
) -> dict[str, Any]:
    """Write the sweep's table (Markdown, CSV, JSON) and its line plot. ``caption``: what the table is of (study,
    trial it started from, seeds, epochs), the Markdown's first line."""
    from pathlib import Path

    from autotune.reporting import plots
    from autotune.words import figures as ft
    from autotune.words import tables

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    heads = [param] + [
        tables.header(k, lang) for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")
    ]
    body = [
        [
            rep.label.split("=", 1)[1],
            tables.mean_std(rep.mean("train_loss"), rep.std("train_loss")),
            tables.mean_std(rep.mean("train_accuracy"), rep.std("train_accuracy"), percent=True),
            tables.mean_std(rep.mean("val_loss"), rep.std("val_loss")),
            tables.mean_std(rep.mean("val_accuracy"), rep.std("val_accuracy"), percent=True),
            f"{rep.mean('seconds'):.1f}",
        ]
        for rep in replays
    ]
    md = (caption + "\n\n" if caption else "") + tables.markdown(heads, body)
    stem = f"sweep-{param}"
    (out / f"{stem}.md").write_text(md, encoding="utf-8")
    (out / f"{stem}.csv").write_text(tables.to_csv(heads, body), encoding="utf-8")
    (out / f"{stem}.json").write_text(
        json.dumps({"param": param, "caption": caption, "rows": [r.summary() for r in replays]}, indent=1, default=str),
        encoding="utf-8",
    )
    plots.line_plot(
        [r.label.split("=", 1)[1] for r in replays],
        [r.mean(spec.metric) or math.nan for r in replays],
        [r.std(spec.metric) or 0.0 for r in replays],
        title=ft.word("sweep_title", lang, name=spec.name, metric=ft.metric_name(spec.metric, lang), param=param),
        xlabel=param,
        ylabel=spec.metric,
        path=out / f"{stem}.png",
        lang=lang,
    )
    return {"markdown": md, "files": sorted(p.name for p in out.iterdir())}
