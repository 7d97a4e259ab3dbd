"""The Python API for notebooks and scripts: one function behind each command, with typed results.

::

    import autotune

    spec = autotune.load_spec("mlp-digits")                         # or a YAML path, or parse_spec({...})
    autotune.run_study(spec, n_trials=20, storage="sqlite:///digits.db")          # `autotune run`
    rep = autotune.report("mlp-digits", storage="sqlite:///digits.db")             # `autotune report`
    out = autotune.export("mlp-digits", storage="sqlite:///digits.db", seeds=3)    # `autotune export`
    again = autotune.replay("mlp-digits", trial="best", seeds=3, storage="sqlite:///digits.db")
    print(again.replay.mean("val_accuracy"), again.replay.std("val_accuracy"))
    sure = autotune.confirm("mlp-digits", top=5, seeds=3, storage="sqlite:///digits.db")  # `autotune confirm`
    print(sure.best_trial, sure.lines)

``study`` is a :class:`StudySpec`, a shipped spec's name, a YAML path, or the name of a study
in the storage (its stored spec is used). Every user error is an :class:`autotune.AutotuneError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from autotune.analysis import ablation, confirmation, sweeps
from autotune.analysis.ablation import AblationRow
from autotune.base.interrupts import stop_on_signals
from autotune.base.output_folders import check_output_file, check_output_folder
from autotune.errors import Interrupted, OptionError
from autotune.execution.confirming import ConfirmResult, confirm_study
from autotune.hand_tables import into_study as imports
from autotune.hardware import precision
from autotune.hardware.devices import set_threads
from autotune.hardware.precision import recorded, resolve
from autotune.reporting import documents, factor_files
from autotune.reporting.chosen_trial import choose
from autotune.reporting.exports import ExportResult, export_study
from autotune.reporting.reports import build_report
from autotune.search import configs, goals
from autotune.search.configs import config_from_mapping
from autotune.search.prepare import prepare, replay_data
from autotune.search.samplers import make_pruner, make_sampler
from autotune.spec.params import TRAINING_PARAMS
from autotune.spec.study import StudySpec, load_spec
from autotune.storage import recovery, replays
from autotune.storage.replays import Replay, SeedRun, seeds_for
from autotune.storage.replays import replay as run_replay
from autotune.storage.stored import is_spec_reference, open_context
from autotune.storage.studies import (
    StudyRow,
    check_url,
    create_or_load_study,
    open_storage,
    redact,
    resolve_storage_url,
)
from autotune.storage.studies import list_studies as rows
from autotune.words import i18n
from autotune.words.i18n import LANGS

Study = StudySpec | str


@dataclass(frozen=True)
class ReportResult:
    """What :func:`report` wrote: the folder, its files (relative paths), the figures, and notes on what
    could not be computed."""

    out: str
    files: list[str]
    figures: list[str]
    notes: list[str]
    document: str | None = None  # report.docx's path, where ``formats`` has "docx"

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": self.out,
            "notes": self.notes,
            "figures": self.figures,
            "files": self.files,
            "document": self.document,
        }


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


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_table` did: ``record`` (per row: its trial, or why it was not queued; the parameters the
    table, ``--base`` and the spec's defaults gave; the values outside the space; the best recorded result) and
    ``lines``, the same in words."""

    record: dict[str, Any]
    lines: list[str]

    @property
    def added(self) -> int:
        """COMPLETE trials added (rows with a recorded result)."""
        return self.record["added"]

    @property
    def queued(self) -> int:
        """Trials queued for ``autotune run``."""
        return self.record["queued"]

    @property
    def study(self) -> str:
        """The study the table went into."""
        return self.record["study"]

    @property
    def storage(self) -> str:
        """The study's storage URL, its password masked."""
        return self.record["storage"]

    def to_dict(self) -> dict[str, Any]:
        return {**self.record, "lines": self.lines}


# --------------------------------------------------------------------------------------
# Reading a stored study


def load_study(study: Study, *, storage: str | None = None, study_name: str | None = None) -> optuna.Study:
    """The stored Optuna study of ``study``."""

    return open_context(study, storage=storage, study_name=study_name, need_study=True).study  # type: ignore[return-value]


def best_config(
    study: Study, *, storage: str | None = None, study_name: str | None = None, objective: str | None = None
) -> dict[str, Any]:
    """The best trial as ``autotune export`` records it (the confirmed best where the study has a
    confirmation): ``trial``, ``value``, ``params``, ``seed``, ``config`` (every parameter resolved, ready
    for :func:`replay_config`) and ``confirmed`` (None without a confirmation)."""

    ctx = open_context(study, storage=storage, study_name=study_name, need_study=True)
    return choose(ctx.study, ctx.spec, objective=objective).to_dict()  # type: ignore[arg-type]


def list_studies(storage: str | None = None) -> list[StudyRow]:
    """Every study in the storage, with its trials by state and its best value (``autotune studies``)."""

    return rows(resolve_storage_url(storage))


def import_table(
    study: Study,
    table: str,
    *,
    base: str | None = None,
    maps: dict[str, str] | Sequence[str] | None = None,
    rerun: bool = False,
    storage: str | None = None,
    study_name: str | None = None,
    keep_duplicates: bool = False,
) -> ImportResult:
    """Import a hand-filled tuning table (CSV, or Markdown pipe tables; ``FILE#N`` for the N-th) into a study
    (``autotune import``; ``import`` itself is a Python keyword).

    Each row with a result in the spec's metric becomes a COMPLETE trial carrying it; the others are queued for
    ``autotune run``, and ``rerun=True`` queues every row. Parameters a table does not give come from ``base``
    (a config file as ``replay --config`` takes) or the spec's defaults; ``maps`` (``{"COLUMN": "PARAM"}`` or
    ``["COLUMN=PARAM"]``) names columns whose header is unknown or ambiguous. The study is created from the spec
    if it is missing; rows imported before are not added again, nor rows with the same configuration and result
    as a trial imported before from any file or format (``keep_duplicates=True`` adds those). Everything is read
    and checked first: a bad
    table raises a :class:`~autotune.errors.TableError` and writes nothing. No data are loaded.
    """

    url = resolve_storage_url(storage)
    check_url(url)
    if isinstance(study, str) and not is_spec_reference(study):  # a stored study's name: its own spec
        spec = open_context(study, storage=storage, study_name=study_name, need_study=True).spec
        study_name = study_name or study
    else:
        spec = study if isinstance(study, StudySpec) else load_spec(study)
    planned = imports.plan(spec, table, base=base, maps=imports.parse_maps(maps), rerun=rerun)
    name = study_name or spec.name
    target = create_or_load_study(
        open_storage(url),
        spec,
        study_name=name,
        sampler=make_sampler(spec, n_existing=0),
        pruner=make_pruner(spec.pruner, max_epochs=spec.max_epochs),
    )
    with recovery.slot_lock(url, name):  # a running search counts finished trials under the same lock
        record = imports.write(planned, target, keep_duplicates=keep_duplicates)
    record = {**record, "storage": redact(url)}
    return ImportResult(record=record, lines=imports.lines(record))


def _check_lang(lang: Any) -> None:

    if lang not in LANGS:
        raise OptionError(f"lang {lang!r} is not a report language; allowed: {', '.join(LANGS)}; nothing was written")


#: What ``report``'s ``formats`` may hold
REPORT_FORMATS = ("html", "md", "docx")


def report(
    study: Study,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    out_dir: str | None = None,
    lang: str = "en",
    formats: Sequence[str] = ("html", "md"),
) -> ReportResult:
    """Write a report folder (``report-<study>`` by default): summary, trial table, importance, figures,
    analysis (``autotune report``). ``formats``: any of ``html`` (index.html), ``md`` (report.md) and ``docx``
    (report.docx, a Word document to hand in; its path is ``ReportResult.document``)."""

    formats = tuple(formats) if not isinstance(formats, str) else (formats,)
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        given = f"{unknown[0]!r} is not a report format" if unknown else "is empty"
        raise OptionError(f"formats {given}; allowed: {', '.join(REPORT_FORMATS)}; nothing was written")
    _check_lang(lang)
    out = None
    try:
        with stop_on_signals():
            ctx = open_context(study, storage=storage, study_name=study_name, need_study=True)
            out = check_output_folder(out_dir or _default_out("report", ctx.study.study_name, lang))
            result = build_report(
                ctx.study,
                ctx.spec,
                out_dir=out,
                storage=redact(resolve_storage_url(storage)),
                lang=lang,
                formats=tuple(formats),
            )
    except KeyboardInterrupt:  # a report only reads the study: say what the stop left behind
        phase = (
            "while reading the study: nothing was written"
            if out is None or not Path(out).exists()
            else f"while writing the report: the report in '{out}' is incomplete"
        )
        raise Interrupted(
            f"interrupted {phase}; the study database was not changed; run the same command again "
            "to write the whole report"
        ) from None
    return ReportResult(
        out=result["out"],
        files=result["files"],
        figures=result["figures"],
        notes=result["notes"],
        document=result["document"],
    )


def export(
    study: Study,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    out_dir: str | None = None,
    retrain_on: str | None = "train+val",
    trial: int | None = None,
    objective: str | None = None,
    seeds: int = 1,
    epochs: int | None = None,
    train_subset: int | str | None = None,
    data_dir: str | os.PathLike | None = None,
    threads: int | None = None,
) -> ExportResult:
    """Export the best trial (or trial ``trial``): best.yaml/.json, trials.csv, a final model retrained on
    ``retrain_on`` and tested once (None: no final model), provenance.json (``autotune export``).

    The best trial is the confirmed best where :func:`confirm` has recorded a confirmation (and neither
    ``trial`` nor ``objective`` is given), else the best single-seed value."""

    ctx = open_context(study, storage=storage, study_name=study_name, need_study=True)
    out = check_output_folder(out_dir or f"export-{ctx.study.study_name}")
    set_threads(threads)
    return export_study(
        ctx.study,
        ctx.spec,
        out_dir=out,
        storage=redact(resolve_storage_url(storage)),
        retrain_on=retrain_on,
        data_dir=None if data_dir is None else str(data_dir),
        trial=trial,
        objective=objective,
        seeds=seeds,
        epochs=epochs,
        train_subset=train_subset,
    )


# --------------------------------------------------------------------------------------
# Training configurations again: replay, ablate, sweep


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
) -> ReplayResult:
    """Re-run a stored trial (``trial``: a number or ``"best"``) or a configuration (a mapping, or a YAML/JSON
    file as export writes it) over ``seeds`` seeds, with optional ``overrides`` (``autotune replay``).

    Without overrides, with the trial's own seed and budget, it says whether the stored metric was
    reproduced exactly. Runs are recorded in the companion study ``<study>:replays``.
    """

    if (trial is None) == (config is None):
        raise OptionError("give exactly one of «trial» N|best and «config» FILE")
    ctx = open_context(
        study, storage=storage, study_name=study_name, need_study=trial is not None, train_subset=train_subset
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
    base, set_notes = configs.apply_overrides(spec, base, dict(overrides or {}))
    notes += set_notes
    # a stored trial replays in the precision it recorded; a configuration in the spec's, resolved on the CPU
    used = (
        precision.recorded(source.user_attrs)
        if source is not None
        else precision.resolve(spec.precision, device="cpu", family=spec.model, config=base)
    )
    slow = precision.emulation_note(used, f"trial {source.number}" if source else "this configuration")
    notes += [slow] if slow else []
    seed_list = replays.seeds_for(first_seed, seeds)
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
    )
    check = replays.reproduction(spec, source, result, overridden=bool(overrides), epochs=epochs)
    return ReplayResult(
        replay=result, spec=spec, trial=source.number if source else None, notes=notes, reproduction=check
    )


def confirm(
    study: Study,
    *,
    top: int = 5,
    seeds: int = 3,
    storage: str | None = None,
    study_name: str | None = None,
    data_dir: str | os.PathLike | None = None,
    threads: int | None = None,
    on_run: Callable[[int, SeedRun], None] | None = None,
    workers: int = 1,
    splits: Any = None,
    docx: str | os.PathLike | None = None,
    lang: str = "en",
) -> ConfirmResult:
    """Re-train the ``top`` best complete trials over ``seeds`` shared seeds (runs already in the replay store
    are reused), rank them by mean, test the others against the top one, and record the result in the
    study's ``confirmation`` user attribute (``autotune confirm``). ``on_run(trial, run)`` is called
    after each run. ``workers > 1`` trains the missing runs in that many processes forked from this one,
    where the trials ran with one thread each (results identical to one process's). ``splits``: the study's data
    already loaded on the CPU (``autotune run`` passes its own), used instead of loading them again. ``docx``: also
    write the table alone as a Word document at that path, in ``lang`` (``en`` or ``zh``), to paste from."""
    from dataclasses import replace

    confirmation.check_options(top, seeds)  # before anything is opened
    _check_lang(lang)
    if docx is not None:
        check_output_file(docx, option="docx", suffix=".docx")
    result = confirm_study(
        study,
        top=top,
        seeds=seeds,
        storage=storage,
        study_name=study_name,
        data_dir=data_dir,
        threads=threads,
        on_run=on_run,
        workers=workers,
        splits=splits,
        lang=lang,
    )
    if docx is None:
        return result

    heads, body = confirmation.table_parts(result.record, lang)
    document = documents.table_document(
        docx,
        title=i18n.say(lang, "h_confirmation"),
        heads=heads,
        body=body,
        caption=i18n.say(lang, "h_confirmation"),
        lines=result.lines,
        lang=lang,
        wide=True,
    )
    return replace(result, document=document)


def replay_config(
    spec: Study,
    config: dict[str, Any],
    *,
    seeds: int = 1,
    first_seed: int | None = None,
    epochs: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> Replay:
    """Train ``config`` over ``seeds`` seeds on the CPU (``first_seed`` first, default the spec's seed),
    with no study and nothing recorded; returns a :class:`autotune.storage.replays.Replay`."""

    spec = spec if isinstance(spec, StudySpec) else load_spec(spec)
    config = config_from_mapping(spec, config, source="config")  # checked like `--set`; missing keys: defaults
    seed_list = seeds_for(spec.seed if first_seed is None else first_seed, seeds)  # checked before data load
    used = resolve(spec.precision, device="cpu", family=spec.model, config=config)  # the spec's precision
    splits = prepare(spec, data_dir=data_dir, device="cpu")
    return run_replay(
        spec,
        config,
        seeds=seed_list,
        epochs=epochs,
        splits=splits,
        precision=used,
    )


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
) -> AblationResult:
    """The best trial against ``baseline`` (``defaults``, ``trial:N`` or a config file): leave-one-out and a
    greedy ablation path over ``seeds`` seeds; writes ``ablation-<study>/`` (``autotune ablate``)."""
    from functools import partial

    # imported here, not at the top: keeps torch off the import of this module
    from autotune.training.models import describe_structure

    ctx = open_context(study, storage=storage, study_name=study_name, need_study=True, train_subset=train_subset)
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
        out_dir or _default_out("ablation", ctx.study.study_name, lang)
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
) -> SweepResult:
    """One factor at a time: ``param`` (or ``"epochs"``) set to each of ``values``, every other parameter held
    at trial ``start``'s (``best`` or ``trial:N``); writes ``sweep-<study>/`` (``autotune sweep``)."""
    from functools import partial

    ctx = open_context(study, storage=storage, study_name=study_name, need_study=True, train_subset=train_subset)
    spec = ctx.spec
    chosen = goals.the_best(ctx.study) if start == "best" else None
    source = chosen.trial if chosen else replays.resolve_trial(ctx.study, start.removeprefix("trial:"))[0]
    base = configs.config_of(spec, source)
    sweeps.settings(spec, base, param, values)  # every value checked before anything trains
    seed_list = replays.seeds_for(source.user_attrs.get("seed", spec.seed), seeds)
    out = check_output_folder(
        out_dir or _default_out("sweep", ctx.study.study_name, lang)
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
    """What an ablation's or a sweep's caption says of its runs: the seeds, the epochs per run against the trial's
    own, and the training subset."""
    return {
        "k": len(seeds),
        "seeds": ", ".join(map(str, seeds)),
        "epochs": epochs or spec.max_epochs,
        "trial_epochs": trial.user_attrs.get("epochs", spec.max_epochs),
        "subset": say("abl_subset", n=spec.train_subset) if spec.train_subset else "",
    }


def _default_out(kind: str, study_name: str, lang: str) -> str:
    """``report-<study>``; another language writes beside it (``report-<study>-zh``), never over it."""
    return f"{kind}-{study_name}" + ("" if lang == "en" else f"-{lang}")
