"""The ``autotune`` command line: click commands only, each a thin layer over the library.

User errors print one ``Error: …`` line on stderr and exit non-zero, with no traceback.
Heavy imports (torch, optuna) happen inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from typing import Any

import click

from autotune import __version__
from autotune.base.interrupts import stop_on_signals
from autotune.cli.clusters import check_ray_options, ray_options, slurm
from autotune.cli.options import (
    STORAGE_HELP,
    STUDY_HELP,
    WORKERS,
    SubsetType,
    lang_option,
    out_option,
    quiet_libraries,
    replay_options,
    stored_study_options,
    worker_options,
)
from autotune.cli.output import num, pct, print_confirmation, print_import, print_summary, print_table_result, table
from autotune.errors import AutotuneError, Interrupted, storage_failure
from autotune.spec.study import PRUNERS, STOP_RULES
from autotune.words.figures import value_text
from autotune.words.tables import mean_std


class _Group(click.Group):
    """A click group that reports every user error as a single ``Error: …`` line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # A Ctrl-C that no command turned into its own message (it came before the command's work began, or
            # between its steps). Click would print an empty line and "Aborted"; say what holds instead.
            command = " ".join(["autotune", *filter(None, [ctx.invoked_subcommand])])
            raise Interrupted(
                f"interrupted: {command} stopped; what it finished is stored; run the same command again to continue"
            ) from None

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        # SQLAlchemy logs a cursor it could not close after a Ctrl-C cut a query short ("Error closing cursor" and
        # a traceback); with no handler of ours, Python's last-resort handler would print that on stderr beside
        # our one Error line. The interrupt itself is reported; the log record adds nothing for a user.
        logging.getLogger("sqlalchemy").addHandler(logging.NullHandler())
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 130)
        except AutotuneError as exc:
            _fail(str(exc), getattr(exc, "exit_code", 1))
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # a failing database (full disk, read-only file) is not a bug: one line
            reason = storage_failure(exc)
            if reason is None:
                raise
            _fail(
                f"the study database failed: {reason}; nothing else was changed; fix the cause and run the "
                "command again",
                1,
            )
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


def _fail(message: str, code: int) -> None:
    click.echo("Error: " + " ".join(message.split()), err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autotune")
def cli() -> None:
    """autotune: automated, reproducible hyperparameter search for small PyTorch networks.

    A study spec (YAML; shipped ones in autotune/studies/) declares the search space and the training set-up;
    `autotune run` searches it with Optuna and stores every trial in a database.
    """


@cli.command()
@click.option(
    "--study",
    "study",
    required=True,
    metavar="NAME|PATH",
    help="A shipped study spec (see `autotune studies`) or the path to your own YAML spec.",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Finished trials the study should hold in total; a rerun tops it up. [default: the spec's 'trials']",
)
@click.option("--pruner", type=click.Choice(list(PRUNERS)), default=None, help="Override the spec's pruner.")
@click.option(
    "--stop",
    type=click.Choice(list(STOP_RULES)),
    default=None,
    help="End the search before N trials: 'noise' stops once P finished trials in a row beat the best "
    "by no more than its seed-to-seed spread. [default: the spec's 'stop' block, else none]",
)
@click.option(
    "--stop-patience",
    type=click.IntRange(min=1),
    default=None,
    metavar="P",
    help="Finished trials in a row the stopping rule waits for. [default: the spec's stop.patience, else 20]",
)
@click.option(
    "--warm-start",
    "warm_start",
    default=None,
    metavar="STUDY[@STORAGE]",
    help="First seed the study with the finished trials of another study (e.g. one run from an earlier "
    "version of the spec) whose parameters fit this spec's space. [default: the run's own storage]",
)
@click.option(
    "--workers",
    type=WORKERS,
    default=1,
    show_default=True,
    envvar="AUTOTUNE_WORKERS",
    show_envvar=True,
    metavar="K|auto",
    help="Worker processes on this machine sharing the study. auto: one per CPU core (at most 8), one per "
    "GPU on CUDA; 1: this process alone (a study that repeats trial for trial). Threads are divided "
    "among them; on several GPUs each worker gets its own, round robin.",
)
@click.option(
    "--trials-per-gpu",
    type=click.IntRange(min=1),
    default=None,
    metavar="M",
    help="Pack M workers on each GPU (M trials share it) instead of dealing them round robin.",
)
@ray_options
@click.option(
    "--dashboard",
    "with_dashboard",
    is_flag=True,
    help="Start optuna-dashboard (127.0.0.1) on this storage beside the run, and stop it afterwards.",
)
@click.option(
    "--dashboard-port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port for --dashboard."
)
@worker_options
def run(
    study: str,
    trials: int | None,
    storage: str | None,
    study_name: str | None,
    pruner: str | None,
    stop: str | None,
    stop_patience: int | None,
    warm_start: str | None,
    trials_per_gpu: int | None,
    threads: int | None,
    data_dir: str | None,
    device: str,
    precision: str | None,
    workers: int | str,
    with_dashboard: bool,
    dashboard_port: int,
    timeout: float | None,
    artifact_dir: str | None,
    quiet: bool,
    as_json: bool,
    ray_address: str | None,
    cpus_per_worker: int | None,
    gpus_per_worker: float | None,
) -> None:
    """Search a study's space until it holds N finished trials (or the stopping rule fires).

    Trials are complete or pruned ones, counted over every worker; running the same command
    again after an interruption continues where it stopped. Ctrl-C stops cleanly (exit code 130).
    With --ray, the K workers are tasks on a Ray cluster.
    """
    from autotune.spec.study import load_spec

    check_ray_options(
        ray_address=ray_address,
        cpus_per_worker=cpus_per_worker,
        gpus_per_worker=gpus_per_worker,
        threads=threads,
        warm_start=warm_start,
        trials_per_gpu=trials_per_gpu,
        workers=workers,
    )
    spec = load_spec(study)
    quiet_libraries()
    from autotune.execution.progress import make_progress
    from autotune.execution.runner import run_study
    from autotune.reporting.dashboard import beside as _dashboard_beside

    with (
        stop_on_signals(),
        _dashboard_beside(storage, dashboard_port, artifact_dir) if with_dashboard else contextlib.nullcontext(),
    ):
        if ray_address is not None:
            from autotune.execution.ray_workers import run as run_on_ray

            summary = run_on_ray(
                spec,
                address=ray_address,
                workers=workers,
                n_trials=trials,
                storage=storage,
                study_name=study_name,
                cpus_per_worker=1 if cpus_per_worker is None else cpus_per_worker,
                gpus_per_worker=gpus_per_worker or 0,
                pruner=pruner,
                stop=stop,
                stop_patience=stop_patience,
                precision=precision,
                data_dir=data_dir,
                artifact_dir=artifact_dir,
                timeout=timeout,
                progress=make_progress(quiet=quiet or as_json),
                log=not (quiet or as_json),
            )
            print_summary(summary, spec.metric, as_json)
            return
        summary = run_study(
            spec,
            n_trials=trials,
            storage=storage,
            study_name=study_name,
            pruner=pruner,
            threads=threads,
            data_dir=data_dir,
            device=device,
            workers=workers,
            timeout=timeout,
            trials_per_gpu=trials_per_gpu,
            artifact_dir=artifact_dir,
            progress=make_progress(quiet=quiet or as_json),
            stop=stop,
            stop_patience=stop_patience,
            warm_start=warm_start,
            precision=precision,
        )
    print_summary(summary, spec.metric, as_json)


@cli.command()
@click.option(
    "--study",
    "study",
    required=True,
    metavar="NAME|PATH",
    help="The study's spec (the shipped name or YAML file it was created from), or the name of the stored "
    "study, whose stored spec is then used.",
)
@worker_options
def worker(
    study: str,
    storage: str | None,
    study_name: str | None,
    threads: int | None,
    data_dir: str | None,
    device: str,
    precision: str | None,
    timeout: float | None,
    artifact_dir: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Join an existing study from this host and work until its trial target is met.

    The study must exist (`autotune run` creates it and sets the target); run this on as
    many hosts as you like against one PostgreSQL storage.
    """
    from autotune.storage.stored import is_spec_reference, open_context

    if is_spec_reference(study):
        spec = open_context(study, storage=storage, study_name=study_name, need_study=False).spec
    else:  # a stored study's name: its own spec, the one its trials ran with
        spec = open_context(study, storage=storage, study_name=study_name, need_study=True).spec
        study_name = study_name or study
    quiet_libraries()
    from autotune.execution.progress import make_progress
    from autotune.execution.runner import join_study

    with stop_on_signals():
        summary = join_study(
            spec,
            storage=storage,
            study_name=study_name,
            threads=threads,
            data_dir=data_dir,
            device=device,
            timeout=timeout,
            artifact_dir=artifact_dir,
            precision=precision,
            progress=make_progress(quiet=quiet or as_json),
        )
    print_summary(summary, spec.metric, as_json)


@cli.command()
@replay_options
@click.option("--trial", "which", default=None, metavar="N|best", help="The stored trial to replay.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Replay a configuration from a YAML/JSON file instead (no stored study needed).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a parameter (repeatable), e.g. --set lr=0.01 --set units=[256,128].",
)
def replay(
    study: str | None,
    storage: str | None,
    study_name: str | None,
    seeds: int | None,
    epochs: int | None,
    train_subset: int | None,
    threads: int | None,
    data_dir: str | None,
    as_json: bool,
    which: str | None,
    config_file: str | None,
    sets: tuple[str, ...],
) -> None:
    """Re-run a stored trial (or a configuration file) exactly, with optional overrides and seeds.

    Prints train/validation loss and accuracy per seed and mean ± std; without overrides,
    with the trial's own seed, it checks that the stored metric is reproduced exactly.
    Replays are recorded in the companion study '<study>:replays'.
    """
    import autotune
    from autotune.search.configs import parse_set
    from autotune.storage.replays import METRIC_KEYS

    if (which is None) == (config_file is None):  # a usage error, exit code 2, before anything is opened
        raise click.UsageError("give exactly one of --trial N|best and --config FILE")
    quiet_libraries()
    _check_seeds(seeds)
    result = autotune.replay(
        study,
        trial=which,
        config=config_file,
        overrides=parse_set(sets),
        seeds=seeds or 1,
        epochs=epochs,
        train_subset=train_subset,
        storage=storage,
        study_name=study_name,
        data_dir=data_dir,
        threads=threads,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    for note in result.notes:
        click.echo(f"Note: {note}")
    table(
        ["seed", "epochs", "train loss", "train acc (%)", "val loss", "val acc (%)", "seconds", ""],
        [
            [
                r.seed,
                r.epochs,
                num(r.train_loss),
                pct(r.train_accuracy),
                num(r.val_loss),
                pct(r.val_accuracy),
                f"{r.seconds:.1f}",
                "(recorded earlier)" if r.reused else "",
            ]
            for r in result.runs
        ],
    )
    rep = result.replay
    if len(result.runs) > 1:  # one seed has no spread to show
        click.echo(
            "mean ± std: "
            + ", ".join(
                f"{key} {mean_std(rep.mean(key), rep.std(key), percent=key.endswith('accuracy'))}"
                for key in METRIC_KEYS
                if rep.mean(key) is not None
            )
        )
    costs = [
        m for m in (*result.spec.metrics[1:], *(c.metric for c in result.spec.constraints)) if m not in METRIC_KEYS
    ]
    if costs:  # the further objectives and constrained metrics of this study, measured on these runs
        click.echo(
            "also: "
            + ", ".join(
                f"{m} {rep.mean(m):.4g}" + ("" if rep.std(m) is None else f" ± {rep.std(m):.2g}")
                for m in dict.fromkeys(costs)
                if rep.mean(m) is not None
            )
        )
    if result.reproduction:
        click.echo(result.reproduction)


def _check_seeds(seeds: int | None) -> None:
    if seeds is not None and seeds < 1:
        raise click.BadParameter(f"{seeds} is not >= 1", param_hint="'--seeds'")


@cli.command()
@replay_options
@click.option(
    "--baseline",
    default="defaults",
    show_default=True,
    metavar="defaults|trial:N|FILE",
    help="What the best trial is compared with: the spec's defaults, a stored trial, or a config file.",
)
@lang_option("Table headers in English or in the seed reports' Chinese.")
@out_option("ablation")
def ablate(
    study: str | None,
    storage: str | None,
    study_name: str | None,
    seeds: int | None,
    epochs: int | None,
    train_subset: int | None,
    threads: int | None,
    data_dir: str | None,
    as_json: bool,
    baseline: str,
    lang: str,
    out_dir: str | None,
) -> None:
    """Ablation table: the best trial vs a baseline, leave-one-out and a greedy ablation path.

    Every row is mean ± std over K seeds (default 3) with the change against the best
    configuration, its share of the total gain and a paired test across seeds. Writes
    ablation.md/.csv/.json and ablation.png.
    """
    import autotune
    from autotune.analysis.ablation import ProgressLines

    quiet_libraries()
    _check_seeds(seeds)
    progress = ProgressLines()
    result = autotune.ablate(
        study,
        baseline=baseline,
        seeds=3 if seeds is None else seeds,
        epochs=epochs,
        train_subset=train_subset,
        out_dir=out_dir,
        lang=lang,
        storage=storage,
        study_name=study_name,
        data_dir=data_dir,
        threads=threads,
        on_row=None if as_json else lambda r: click.echo(progress(r), err=True),
    )
    print_table_result(result, as_json)


@cli.command()
@replay_options
@click.option("--param", required=True, metavar="P", help="The parameter to vary (or 'epochs').")
@click.option("--values", "values_text", required=True, metavar="V1,V2,...", help="Comma-separated values.")
@click.option(
    "--from",
    "from_",
    default="best",
    show_default=True,
    metavar="best|trial:N",
    help="The trial whose other parameters are held fixed.",
)
@lang_option("Table headers in English or in the seed reports' Chinese.")
@out_option("sweep")
def sweep(
    study: str | None,
    storage: str | None,
    study_name: str | None,
    seeds: int | None,
    epochs: int | None,
    train_subset: int | None,
    threads: int | None,
    data_dir: str | None,
    as_json: bool,
    param: str,
    values_text: str,
    from_: str,
    lang: str,
    out_dir: str | None,
) -> None:
    """One factor at a time: vary one parameter over values, holding the others at a trial's.

    Like the seed reports' learning-rate, batch-size, hidden-units and epochs tables; records
    wall time per setting too. Writes sweep-P.md/.csv/.json and sweep-P.png.
    """
    import autotune
    from autotune.search.configs import parse_set

    quiet_libraries()
    _check_seeds(seeds)
    values = [parse_set([f"{param}={text}"])[param] for text in values_text.split(",")]
    result = autotune.sweep(
        study,
        param=param,
        values=values,
        start=from_,
        seeds=seeds or 1,
        epochs=epochs,
        train_subset=train_subset,
        out_dir=out_dir,
        lang=lang,
        storage=storage,
        study_name=study_name,
        data_dir=data_dir,
        threads=threads,
    )
    print_table_result(result, as_json)


@cli.command()
@click.option("--study", "study", required=True, metavar="NAME|PATH", help=STUDY_HELP)
@click.option(
    "--top",
    type=int,
    default=5,
    show_default=True,
    metavar="K",
    help="Confirm the K best complete trials (by their single-seed value).",
)
@click.option(
    "--seeds",
    type=int,
    default=3,
    show_default=True,
    metavar="N",
    help="Seeds per trial, the same for every trial (at least 2; a paired test needs 3).",
)
@click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP)
@click.option(
    "--study-name", default=None, metavar="NAME", help="Name of the study in the storage. [default: the spec's name]"
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Torch CPU threads. [default: the best trial's, else 1]",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="AUTOTUNE_DATA_DIR",
    help="Folder with the original dataset files [env: AUTOTUNE_DATA_DIR].",
)
@click.option(
    "--docx",
    "docx",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also write the confirmation table alone as a Word document (FILE.docx), to paste from.",
)
@lang_option("The --docx table's language: English or the seed reports' Chinese.")
@click.option("--json", "as_json", is_flag=True, help="Print the confirmation as JSON.")
def confirm(
    study: str,
    top: int,
    seeds: int,
    storage: str | None,
    study_name: str | None,
    threads: int | None,
    data_dir: str | None,
    docx: str | None,
    lang: str,
    as_json: bool,
) -> None:
    """Re-train the top K trials over N seeds and rank them by mean: which best is real.

    The search's best won on one seed. Every confirmed trial is trained with the same N fresh
    seeds (runs already in '<study>:replays' are reused), ranked by mean with a 95% interval,
    and the others are tested against the top one (paired t-test, Holm-corrected, from 3 seeds).
    The result is recorded in the study; `autotune export` then exports the confirmed best.
    """
    import autotune

    quiet_libraries()
    result = autotune.confirm(
        study,
        top=top,
        seeds=seeds,
        storage=storage,
        study_name=study_name,
        data_dir=data_dir,
        threads=threads,
        docx=docx,
        lang=lang,
        on_run=None
        if as_json
        else lambda trial, run: click.echo(
            f"  trial {trial}, seed {run.seed}: done"
            + (" (recorded earlier)" if run.reused else f" ({run.seconds:.1f}s)"),
            err=True,
        ),
    )
    print_confirmation(result, as_json)


@cli.command("import")
@click.option(
    "--study",
    "study",
    required=True,
    metavar="NAME|PATH",
    help="The spec (a shipped name or a YAML file) whose study takes the table, created if missing; or a "
    "stored study's name.",
)
@click.option(
    "--table",
    "table",
    required=True,
    metavar="FILE[#N]",
    help="A CSV file, or a file of Markdown pipe tables: all of them, or the N-th with FILE#N.",
)
@click.option(
    "--base",
    default=None,
    metavar="FILE",
    help="A configuration file (as `replay --config` takes) for the parameters the table does not give. "
    "[default: the spec's defaults]",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=PARAM",
    help="What a column holds, where its header is unknown or ambiguous (repeatable), e.g. "
    "--map 隐藏层神经元=fc_units; PARAM may be a figure (val_accuracy), remark or ignore.",
)
@click.option(
    "--rerun",
    is_flag=True,
    help="Queue every row to be trained by `autotune run` under the study's budget and seed, instead of "
    "storing the recorded results.",
)
@click.option(
    "--keep-duplicates",
    is_flag=True,
    help="Add rows with the same configuration and result as trials imported before (from any file or "
    "format); by default they are left out with a warning, so no experiment counts twice.",
)
@click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP)
@click.option(
    "--study-name", default=None, metavar="NAME", help="Name of the study in the storage. [default: the spec's name]"
)
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON.")
def import_(
    study: str,
    table: str,
    base: str | None,
    maps: tuple[str, ...],
    rerun: bool,
    keep_duplicates: bool,
    storage: str | None,
    study_name: str | None,
    as_json: bool,
) -> None:
    """Import a hand-filled tuning table (CSV or Markdown) into a study.

    Each row with a result becomes a complete trial carrying it (user attribute source: hand); rows
    without one are queued for `autotune run`. Headers in English or Chinese (学习率, 批处理大小,
    网络结构, 验证集准确率 …), values as people write them (97.45%, [784,256,128,10], 正态).
    Importing the same table again, in any file or format, adds nothing. No data are loaded.
    """
    import autotune

    quiet_libraries()
    result = autotune.import_table(
        study,
        table,
        base=base,
        maps=list(maps),
        rerun=rerun,
        storage=storage,
        study_name=study_name,
        keep_duplicates=keep_duplicates,
    )
    print_import(result, as_json)


#: ``autotune report --format``'s choices and the files each writes
REPORT_CHOICES = {
    "html": ("html",),
    "md": ("md",),
    "both": ("html", "md"),
    "docx": ("docx",),
    "all": ("html", "md", "docx"),
}


@cli.command()
@stored_study_options("report")
@lang_option("The report's language: English, or Chinese throughout (headings, tables, figures, analysis).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(REPORT_CHOICES)),
    default="both",
    show_default=True,
    help="Write index.html, report.md, both, report.docx (a Word document to hand in), or all three "
    "(figures and data always).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def report(
    study: str, storage: str | None, study_name: str | None, out_dir: str | None, lang: str, fmt: str, as_json: bool
) -> None:
    """Write a report folder: summary, the seed-format trial table, importance, plots, analysis.

    index.html opens offline (no CDN); report.md, PNG figures and the data behind every
    figure (CSV/JSON) sit beside it.
    """
    import autotune

    quiet_libraries()
    result = autotune.report(
        study, storage=storage, study_name=study_name, out_dir=out_dir, lang=lang, formats=REPORT_CHOICES[fmt]
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(
        f"Report written to {result.out}/ ({len(result.files)} files, {len(result.figures)} figures)"
        + (f"; the Word document is {result.document}" if result.document else "")
    )


@cli.command()
@stored_study_options("export")
@click.option(
    "--retrain-on",
    type=click.Choice(["train+val", "train"]),
    default="train+val",
    show_default=True,
    help="Data the final model is retrained on before its one evaluation on the test split.",
)
@click.option("--no-retrain", is_flag=True, help="Skip the final model (no test-set evaluation).")
@click.option(
    "--threads", type=click.IntRange(min=1), default=None, metavar="N", help="Torch CPU threads. [default: 1]"
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="AUTOTUNE_DATA_DIR",
    help="Folder with the original dataset files [env: AUTOTUNE_DATA_DIR].",
)
@click.option(
    "--trial",
    "trial_number",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Export trial N (e.g. a Pareto trial from the report) instead of the (confirmed) best.",
)
@click.option(
    "--objective",
    default=None,
    metavar="K|METRIC",
    help="Multi-objective study: export the best trial by this objective. [default: the first]",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="K",
    help="Retrain the final model K times (seeds derived from the trial's) and report the test "
    "figures as mean ± std; model.pt keeps the first.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Train the final model for N epochs. [default: the spec's final.max_epochs, else the trials']",
)
@click.option(
    "--train-subset",
    type=SubsetType(),
    default=None,
    metavar="N|all",
    help="Train the final model on N training examples, or all of them. "
    "[default: the spec's final.train_subset, else the trials']",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def export(
    study: str,
    storage: str | None,
    study_name: str | None,
    out_dir: str | None,
    retrain_on: str,
    no_retrain: bool,
    threads: int | None,
    data_dir: str | None,
    trial_number: int | None,
    objective: str | None,
    seeds: int,
    epochs: int | None,
    train_subset: int | str | None,
    as_json: bool,
) -> None:
    """Export the best trial: best.yaml/.json, trials.csv, a final model tested once, provenance.json.

    The best trial is the confirmed best once `autotune confirm` (or the spec's confirm: block)
    has ranked the top trials over several seeds, else the best single-seed value.

    The final model is the best configuration retrained on train+validation (or train only)
    and evaluated exactly once on the held-out test split; its checkpoint (model.pt) carries
    the weights, model arguments, spec and package versions and loads with weights_only=True.
    Search cheaply, train the final model fully: its budget (--epochs, --train-subset) may
    exceed the trials', as the spec's ``final:`` block declares.
    """
    import autotune

    quiet_libraries()
    result = autotune.export(
        study,
        storage=storage,
        study_name=study_name,
        out_dir=out_dir,
        retrain_on=None if no_retrain else retrain_on,
        trial=trial_number,
        objective=objective,
        seeds=seeds,
        epochs=epochs,
        train_subset=train_subset,
        data_dir=data_dir,
        threads=threads,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    best = result.best
    values = ", ".join(f"{m} {value_text(m, v)}" for m, v in best["values"].items())
    click.echo(f"Trial {best['trial']} ({best['chosen_by']}): {values} -> {result.out}/ ({', '.join(result.files)})")
    confirmed = best["confirmed"]
    if confirmed and confirmed["trial"] != confirmed["single_seed_best"]:
        click.echo(
            f"The confirmed best, trial {confirmed['trial']} (mean {best['metric']} "
            f"{value_text(best['metric'], confirmed['mean'])} over {confirmed['seeds']} seeds), is exported "
            f"instead of the single-seed best, trial {confirmed['single_seed_best']} "
            f"({value_text(best['metric'], confirmed['single_seed_value'])} on one seed); "
            f"--trial {confirmed['single_seed_best']} exports that one."
        )
    if confirmed and confirmed["tie_with"] is not None:
        click.echo(
            f"Trial {confirmed['tie_with']} had the best mean {best['metric']} over {confirmed['seeds']} seeds, "
            f"but the confirmation measured no difference from the single-seed best, trial "
            f"{confirmed['single_seed_best']}: a tie, so the single-seed best is exported; --trial "
            f"{confirmed['tie_with']} exports the other."
        )
    if best["since_confirmation"]:
        click.echo(
            f"Note: the study has {best['since_confirmation']} complete trial(s) more than when it was "
            "confirmed; `autotune confirm` again to include them.",
            err=True,
        )
    final = result.final_model
    if final:
        metric = (
            f"test accuracy {value_text('val_accuracy', final['test_accuracy'])}"
            if final["test_accuracy"] is not None
            else f"test loss {final['test_loss']:.4g}"
            if final["test_loss"] is not None
            else "not tested (the dataset has no test split)"
        )
        click.echo(
            f"Final model retrained on {final['trained_on']} ({final['train_examples']} examples, "
            f"{final['epochs']} epochs, {final['seconds']:.1f}s): {metric} on {final['test_examples']} "
            f"test examples."
        )
        if len(final["seeds"]) > 1:
            key = "test_accuracy" if final["test_accuracy"] is not None else "test_loss"
            click.echo(
                f"Over {len(final['seeds'])} seeds ({', '.join(str(r['seed']) for r in final['seeds'])}): "
                f"{key.replace('_', ' ')} "
                f"{mean_std(final[key + '_mean'], final[key + '_std'], percent=key == 'test_accuracy')}"
                + (" (percentage points)" if key == "test_accuracy" else "")
                + "."
            )


@cli.command()
@click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind. optuna-dashboard has no authentication: anything but loopback warns.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option(
    "--artifact-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="AUTOTUNE_ARTIFACT_DIR",
    help="Folder of trial artifacts to serve [env: AUTOTUNE_ARTIFACT_DIR; default: beside the SQLite file].",
)
def dashboard(storage: str | None, host: str, port: int, artifact_dir: str | None) -> None:
    """Watch the studies of a storage live in optuna-dashboard (Ctrl-C stops it).

    Serves the same storage the other commands use, with its trial artifacts
    (learning curves, checkpoints), so they open from the dashboard's trial view.
    """
    from autotune.reporting.dashboard import serve
    from autotune.storage.artifacts import artifact_dir as default_artifact_dir
    from autotune.storage.studies import resolve_storage_url

    url = resolve_storage_url(storage)
    with stop_on_signals():
        serve(
            url,
            host=host,
            port=port,
            artifact_dir=default_artifact_dir(url, artifact_dir),
            echo=lambda line: click.echo(line, err=line.startswith("Warning:")),
        )


@cli.command()
@click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
def studies(storage: str | None, as_json: bool) -> None:
    """List the shipped study specs and the studies in a storage (trials by state, best value)."""
    import autotune
    from autotune.errors import StudyNotFoundError
    from autotune.spec.study import load_spec, shipped_specs
    from autotune.storage.studies import redact, resolve_storage_url

    specs = [load_spec(str(path)) for path in shipped_specs().values()]
    url = resolve_storage_url(storage)
    quiet_libraries()
    try:
        rows = autotune.list_studies(url)
        missing = None
    except StudyNotFoundError as exc:
        rows, missing = [], str(exc)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "specs": [
                        {
                            "name": s.name,
                            "dataset": s.dataset_name,
                            "model": s.model,
                            "metric": s.metric,
                            "max_epochs": s.max_epochs,
                            "description": s.description,
                        }
                        for s in specs
                    ],
                    "storage": redact(url),
                    "studies": [{**r.__dict__, "n_trials": r.n_trials} for r in rows if r.replays_of is None],
                    "replay_stores": [
                        {"name": r.name, "replays_of": r.replays_of, "runs": r.n_trials}
                        for r in rows
                        if r.replays_of is not None
                    ],
                },
                indent=2,
            )
        )
        return
    stores = [r for r in rows if r.replays_of is not None]
    rows = [r for r in rows if r.replays_of is None]
    click.echo("Shipped study specs:")
    table(
        ["name", "dataset", "model", "metric", "epochs", "description"],
        [[s.name, s.dataset_name, s.model, s.metric, s.max_epochs, s.description] for s in specs],
    )
    click.echo(f"\nStudies in {redact(url)}:")
    if missing:
        click.echo(f"  (none: {missing})")
    elif not rows:
        click.echo("  (none)")
    else:
        table(
            ["study", "trials", "states", "direction", "best", "best trial"],
            [
                [
                    r.name,
                    r.n_trials,
                    " ".join(f"{k.lower()}={v}" for k, v in r.states.items()),
                    r.direction,
                    "-" if r.best_value is None else value_text(r.metric or "", r.best_value),
                    "-" if r.best_trial is None else r.best_trial,
                ]
                for r in rows
            ],
        )
    if stores:  # runs of replay, ablate and sweep: not searches, so not beside the studies
        click.echo(
            "  Replay stores (runs of replay, ablate and sweep): "
            + ", ".join(f"{r.name} ({r.n_trials} runs)" for r in stores)
        )


cli.add_command(slurm)


def main() -> None:
    try:
        cli()
    except SystemExit as exc:
        if exc.code == Interrupted.exit_code:
            # CPython remembers a KeyboardInterrupt that once escaped code it ran through PyRun_*
            # (libraries do), even one caught later, and then kills itself with SIGINT at exit:
            # the caller would see "killed by SIGINT" (-2) instead of the 130 we promise. Every
            # with-block has been unwound by now, so only the final flush is left to do.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(Interrupted.exit_code)
        raise


if __name__ == "__main__":
    main()
