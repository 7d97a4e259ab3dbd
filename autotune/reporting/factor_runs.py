"""Ablation and sweep of a stored study, as ``autotune ablate`` and ``autotune sweep`` run them: the trial chosen,
its configuration trained again over seeds (each run kept in the replay store), the table written with a caption
that says what ran (``AblationResult``, ``SweepResult``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import optuna

from autotune.analysis import ablation, sweeps
from autotune.analysis.ablation import AblationRow
from autotune.base.output_folders import check_output_folder, default_folder
from autotune.hardware.precision import recorded
from autotune.hardware.steps import recorded_step
from autotune.reporting import factor_files
from autotune.search import configs, goals
from autotune.search.prepare import replay_data
from autotune.spec.params import TRAINING_PARAMS
from autotune.spec.study import StudySpec
from autotune.storage import replays
from autotune.storage.replays import Replay
from autotune.storage.stored import Study, open_context
from autotune.words import i18n


@dataclass(frozen=True)
class AblationResult:
    """The ablation's rows (best, baseline, leave-one-out, path), its verdict lines and the files written."""

    rows: list[AblationRow]
    verdict: list[str]
    markdown: str
    out: str
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"markdown": self.markdown, "verdict": self.verdict, "files": self.files}


@dataclass(frozen=True)
class SweepResult:
    """One replay per value of the swept parameter, and the files written."""

    param: str
    replays: list[Replay]
    markdown: str
    out: str
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"markdown": self.markdown, "files": self.files}


def ablate(
    study: Study,
    *,
    baseline: str = "defaults",
    seeds: int = 3,
    epochs: int | None = None,
    train_subset: int | None = None,
    out_dir: str | None = None,
    lang: str = "en",
    storage: str | None = None,
    study_name: str | None = None,
    data_dir: str | os.PathLike | None = None,
    threads: int | None = None,
    on_row: Callable[[AblationRow], None] | None = None,
    batch_seeds: bool | None = None,
) -> AblationResult:
    """The best trial against ``baseline`` (``defaults``, ``trial:N`` or a config file): leave-one-out and a
    greedy ablation path over ``seeds`` seeds; writes ``ablation-<study>/`` (``autotune ablate``). ``batch_seeds``:
    train each configuration's seeds at once (None: the spec's ``batch_seeds``)."""
    i18n.check_lang(lang)  # before anything is opened or trained
    # imported here, not at the top: keeps torch off the import of this module
    from autotune.training.models import describe_structure

    ctx = open_context(
        study,
        storage=storage,
        study_name=study_name,
        need_study=True,
        train_subset=train_subset,
        batch_seeds=batch_seeds,
    )
    spec = ctx.spec
    chosen = goals.the_best(ctx.study)  # what 'best' means everywhere, and why (the caption says it)
    best_trial = chosen.trial
    best = configs.config_of(spec, best_trial)
    if baseline == "defaults":
        base = configs.default_config(spec)
    elif baseline.startswith("trial:"):
        base_trial, _ = replays.resolve_trial(ctx.study, baseline.split(":", 1)[1])
        base = configs.config_of(spec, base_trial)
    else:
        base = configs.load_config_file(baseline, spec)
    seed_list = replays.seeds_for(best_trial.user_attrs.get("seed", spec.seed), seeds)
    out = check_output_folder(
        out_dir or default_folder("ablation", ctx.study.study_name, lang)
    )  # before any run is trained or stored
    splits = replay_data(spec, threads, data_dir, best_trial.user_attrs.get("threads"))
    info = splits.info

    # every row names the value of every ablated component (the baseline's optimiser and lr too), so a row reads
    # alone; the structure text names a custom model's own parameters already: add only the trainer's
    ablated = [
        c
        for c in configs.components(spec, best, base)
        if c != "structure" and (spec.per_layer is not None or c in TRAINING_PARAMS)
    ]

    def structure(cfg: dict) -> str:
        return describe_structure(spec.model, input_shape=info.shape, n_outputs=info.n_outputs, config=cfg)

    def describe(cfg: dict) -> str:
        return structure(cfg) + ("" if not ablated else " " + ", ".join(f"{c}={configs.show(cfg[c])}" for c in ablated))

    rows = ablation.ablate(
        spec,
        best,
        base,
        seeds=seed_list,
        splits=splits,
        epochs=epochs,
        store=ctx.store(),
        describe=describe,
        on_row=on_row,
        precision=recorded(best_trial.user_attrs),
        step=recorded_step(best_trial.user_attrs),
        value=lambda c, cfg: structure(cfg) if c == "structure" else configs.show(cfg[c]),
    )
    say = partial(i18n.say, lang)
    budget = _budget_words(say, spec, best_trial, seed_list, epochs)  # the caption's words, and the note's test
    caption = say(
        "abl_caption",
        study=ctx.study.study_name,
        trial=best_trial.number,
        basis=say(f"abl_basis_{chosen.basis}"),
        baseline=say("abl_base_defaults")
        if baseline == "defaults"
        else say("abl_base_trial", n=baseline.split(":", 1)[1])
        if baseline.startswith("trial:")
        else baseline,
        **budget,
    )

    outputs = factor_files.ablation_outputs(spec, rows, out, lang=lang, caption=caption)
    if budget["epochs"] < budget["trial_epochs"] or train_subset is not None:  # the report puts it beside full runs
        outputs["table"]["note"] = say(
            "abl_reduced", epochs=budget["epochs"], trial_epochs=budget["trial_epochs"], subset=budget["subset"]
        )
    ablation.record(ctx.study, outputs["table"], lang)  # `autotune report --format docx` includes it
    return AblationResult(
        rows=rows, verdict=outputs["verdict"], markdown=outputs["markdown"], out=str(out), files=outputs["files"]
    )


def sweep(
    study: Study,
    *,
    param: str,
    values: Sequence[Any],
    start: str = "best",
    seeds: int = 1,
    epochs: int | None = None,
    train_subset: int | None = None,
    out_dir: str | None = None,
    lang: str = "en",
    storage: str | None = None,
    study_name: str | None = None,
    data_dir: str | os.PathLike | None = None,
    threads: int | None = None,
    batch_seeds: bool | None = None,
) -> SweepResult:
    """One factor at a time: ``param`` (or ``"epochs"``) set to each of ``values``, every other parameter held
    at trial ``start``'s (``best`` or ``trial:N``); writes ``sweep-<study>/`` (``autotune sweep``). ``batch_seeds``:
    train each value's seeds at once (None: the spec's ``batch_seeds``)."""
    i18n.check_lang(lang)  # before anything is opened or trained
    ctx = open_context(
        study,
        storage=storage,
        study_name=study_name,
        need_study=True,
        train_subset=train_subset,
        batch_seeds=batch_seeds,
    )
    spec = ctx.spec
    chosen = goals.the_best(ctx.study) if start == "best" else None
    source = chosen.trial if chosen else replays.resolve_trial(ctx.study, start.removeprefix("trial:"))[0]
    base = configs.config_of(spec, source)
    sweeps.settings(spec, base, param, values)  # every value checked before anything trains
    seed_list = replays.seeds_for(source.user_attrs.get("seed", spec.seed), seeds)
    out = check_output_folder(
        out_dir or default_folder("sweep", ctx.study.study_name, lang)
    )  # before any run is trained or stored
    splits = replay_data(spec, threads, data_dir, source.user_attrs.get("threads"))
    runs = sweeps.sweep(
        spec,
        base,
        param,
        list(values),
        seeds=seed_list,
        splits=splits,
        epochs=epochs,
        store=ctx.store(),
        precision=recorded(source.user_attrs),
        step=recorded_step(source.user_attrs),
    )
    say = partial(i18n.say, lang)
    basis = say(f"abl_basis_{chosen.basis}") if chosen else say("sweep_chosen")
    caption = say(
        "sweep_caption",
        study=ctx.study.study_name,
        param=param,
        trial=source.number,
        basis=basis,
        **_budget_words(say, spec, source, seed_list, epochs),
    )

    outputs = factor_files.sweep_outputs(spec, param, runs, out, lang=lang, caption=caption)
    return SweepResult(param=param, replays=runs, markdown=outputs["markdown"], out=str(out), files=outputs["files"])


def _budget_words(
    say: Callable[..., str], spec: StudySpec, trial: optuna.trial.FrozenTrial, seeds: Sequence[int], epochs: int | None
) -> dict[str, Any]:
    """What an ablation's or a sweep's caption says of its runs: the seeds (and whether they trained at once), the
    epochs per run against the trial's own, and the training subset."""
    return {
        "k": len(seeds),
        "seeds": ", ".join(map(str, seeds)) + ("" if replays.batch_of(spec, seeds) is None else say("abl_batched")),
        "epochs": epochs or spec.max_epochs,
        "trial_epochs": trial.user_attrs.get("epochs", spec.max_epochs),
        "subset": say("abl_subset", n=spec.train_subset) if spec.train_subset else "",
    }
