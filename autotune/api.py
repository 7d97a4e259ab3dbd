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

Every public name is found here (``__all__``); some live in the layer that holds all they need: ``replay`` in
:mod:`autotune.analysis.replaying`, ``ablate`` and ``sweep`` in :mod:`autotune.reporting.factor_runs`, the files of
``export`` and its result in :mod:`autotune.reporting.exports`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import optuna

from autotune.analysis import confirmation
from autotune.analysis.replaying import ReplayResult, replay
from autotune.base.interrupts import stop_on_signals
from autotune.base.output_folders import check_output_file, check_output_folder, default_folder
from autotune.errors import Interrupted, OptionError
from autotune.execution.confirming import ConfirmResult, confirm_study
from autotune.hand_tables import into_study as imports
from autotune.hardware import precision
from autotune.hardware.devices import set_threads
from autotune.reporting import documents
from autotune.reporting.chosen_trial import choose
from autotune.reporting.exports import ExportResult, export_study
from autotune.reporting.factor_runs import AblationResult, SweepResult, ablate, sweep
from autotune.reporting.reports import build_report
from autotune.search import configs
from autotune.search.prepare import prepare
from autotune.search.samplers import make_pruner, make_sampler
from autotune.spec.study import StudySpec, load_spec
from autotune.storage import recovery, replays
from autotune.storage.replays import Replay, SeedRun
from autotune.storage.stored import Study, is_spec_reference, open_context
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

__all__ = [
    "AblationResult",
    "ConfirmResult",
    "ExportResult",
    "ImportResult",
    "ReplayResult",
    "ReportResult",
    "SweepResult",
    "ablate",
    "best_config",
    "confirm",
    "export",
    "import_table",
    "list_studies",
    "load_study",
    "replay",
    "replay_config",
    "report",
    "sweep",
]


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
    i18n.check_lang(lang)
    out = None
    try:
        with stop_on_signals():
            ctx = open_context(study, storage=storage, study_name=study_name, need_study=True)
            out = check_output_folder(out_dir or default_folder("report", ctx.study.study_name, lang))
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
    batch_seeds: bool | None = None,
) -> ExportResult:
    """Export the best trial (or trial ``trial``): best.yaml/.json, trials.csv, a final model retrained on
    ``retrain_on`` and tested once (None: no final model), provenance.json (``autotune export``).

    The best trial is the confirmed best where :func:`confirm` has recorded a confirmation (and neither
    ``trial`` nor ``objective`` is given), else the best single-seed value. ``batch_seeds``: retrain the ``seeds``
    final models at once (None: the spec's ``batch_seeds``)."""

    ctx = open_context(study, storage=storage, study_name=study_name, need_study=True, batch_seeds=batch_seeds)
    out = check_output_folder(out_dir or default_folder("export", ctx.study.study_name))
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
# Training configurations again (replay, ablate and sweep: autotune.analysis.replaying, autotune.reporting.factor_runs)


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
    batch_seeds: bool | None = None,
) -> ConfirmResult:
    """Re-train the ``top`` best complete trials over ``seeds`` shared seeds (runs already in the replay store
    are reused), rank them by mean, test the others against the top one, and record the result in the
    study's ``confirmation`` user attribute (``autotune confirm``). ``on_run(trial, run)`` is called
    after each run. ``workers > 1`` trains the missing runs in that many processes forked from this one,
    where the trials ran with one thread each (results identical to one process's). ``splits``: the study's data
    already loaded on the CPU (``autotune run`` passes its own), used instead of loading them again. ``docx``: also
    write the table alone as a Word document at that path, in ``lang`` (``en`` or ``zh``), to paste from.
    ``batch_seeds``: train each trial's seeds at once, as one batched model (None: the spec's ``batch_seeds``)."""
    confirmation.check_options(top, seeds)  # before anything is opened
    i18n.check_lang(lang)
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
        batch_seeds=batch_seeds,
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
    config = configs.config_from_mapping(spec, config, source="config")  # checked like `--set`; missing: defaults
    seed_list = replays.seeds_for(spec.seed if first_seed is None else first_seed, seeds)
    used = precision.resolve(spec.precision, device="cpu", family=spec.model, config=config)  # the spec's precision
    splits = prepare(spec, data_dir=data_dir, device="cpu")
    return replays.replay(spec, config, seeds=seed_list, epochs=epochs, splits=splits, precision=used, step=spec.step)
