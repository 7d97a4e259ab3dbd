"""The ``autotune`` command line: click commands only, each a thin layer over the library.

User errors print one ``Error: …`` line on stderr and exit non-zero, with no traceback.
Heavy imports (torch, optuna) happen inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from typing import Any

import click

from autotune import __version__
from autotune.errors import AutotuneError, Interrupted, storage_failure
from autotune.interrupts import stop_on_signals
from autotune.spec import PRUNERS, FinalSpec
from autotune.tables import short

STORAGE_HELP = ("SQLAlchemy URL of the study database [default: $AUTOTUNE_STORAGE, else sqlite:///autotune.db]; "
                "e.g. postgresql+psycopg://user@host:5432/db.")


class _Group(click.Group):
    """A click group that reports every user error as a single ``Error: …`` line."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
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
            _fail(f"the study database failed: {reason}; nothing else was changed; fix the cause and run the "
                  "command again", 1)
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

    A study spec (studies/*.yaml) declares the search space and the training set-up;
    `autotune run` searches it with Optuna and stores every trial in a database.
    """


def _worker_options(func: Any) -> Any:
    """The options `run` and `worker` share, in the order --help lists them."""
    options = [
        click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP),
        click.option("--study-name", default=None, metavar="NAME",
                     help="Name of the study in the storage. [default: the spec's name]"),
        click.option("--threads", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Torch CPU threads. [default: torch's choice: all physical cores, or $OMP_NUM_THREADS]"),
        click.option("--data-dir", type=click.Path(file_okay=False), default=None, envvar="AUTOTUNE_DATA_DIR",
                     help="Folder with the original dataset files (e.g. MNIST/raw/*.gz) [env: AUTOTUNE_DATA_DIR]."),
        click.option("--device", default="auto", show_default=True, envvar="AUTOTUNE_DEVICE", metavar="DEVICE",
                     help="auto, cpu, cuda, cuda:N or mps; auto takes a GPU when there is one "
                          "[env: AUTOTUNE_DEVICE]. Replays run on the CPU."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
                     help="Stop starting new trials after this many seconds."),
        click.option("--artifact-dir", type=click.Path(file_okay=False), default=None, envvar="AUTOTUNE_ARTIFACT_DIR",
                     help="Folder for trial artifacts (learning curves, checkpoints) [env: AUTOTUNE_ARTIFACT_DIR; "
                          "default: beside the SQLite file, e.g. autotune-artifacts/]."),
        click.option("--quiet", "-q", is_flag=True, help="No progress display; print only the final summary."),
        click.option("--json", "as_json", is_flag=True, help="Print the final summary as JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@click.option("--study", "study", required=True, metavar="NAME|PATH",
              help="A shipped study spec (see `autotune studies`) or the path to your own YAML spec.")
@click.option("--trials", type=click.IntRange(min=1), default=None, metavar="N",
              help="Finished trials the study should hold in total; a rerun tops it up. [default: the spec's 'trials']")
@click.option("--pruner", type=click.Choice(list(PRUNERS)), default=None,
              help="Override the spec's pruner.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="K",
              help="Worker processes on this machine sharing the study (threads are divided among them).")
@click.option("--dashboard", "with_dashboard", is_flag=True,
              help="Start optuna-dashboard (127.0.0.1) on this storage beside the run, and stop it afterwards.")
@click.option("--dashboard-port", type=click.IntRange(1, 65535), default=8080, show_default=True,
              help="Port for --dashboard.")
@_worker_options
def run(study: str, trials: int | None, storage: str | None, study_name: str | None, pruner: str | None,
        threads: int | None, data_dir: str | None, device: str, workers: int, with_dashboard: bool,
        dashboard_port: int, timeout: float | None, artifact_dir: str | None, quiet: bool, as_json: bool) -> None:
    """Search a study's space until it holds N finished trials.

    Trials are complete or pruned ones, counted over every worker; running the same command
    again after an interruption continues where it stopped. Ctrl-C stops cleanly (exit code 130).
    """
    from autotune.spec import load_spec

    spec = load_spec(study)
    _quiet_libraries()
    from autotune.progress import make_progress
    from autotune.runner import run_study

    with stop_on_signals(), _dashboard_beside(storage, dashboard_port, artifact_dir, enabled=with_dashboard):
        summary = run_study(spec, n_trials=trials, storage=storage, study_name=study_name, pruner=pruner,
                            threads=threads, data_dir=data_dir, device=device, workers=workers, timeout=timeout,
                            artifact_dir=artifact_dir, progress=make_progress(quiet=quiet or as_json))
    _print_summary(summary, spec.metric, as_json)


@contextlib.contextmanager
def _dashboard_beside(storage: str | None, port: int, artifact_dir: str | None, *, enabled: bool):
    if not enabled:
        yield
        return
    from autotune.artifacts import artifact_dir as default_artifact_dir
    from autotune.dashboard import start_background
    from autotune.storage import open_storage, resolve_storage_url

    url = resolve_storage_url(storage)
    open_storage(url)  # the dashboard needs the database to exist before the first trial
    proc = start_background(url, host="127.0.0.1", port=port, artifact_dir=default_artifact_dir(url, artifact_dir))
    click.echo(f"optuna-dashboard: http://127.0.0.1:{port}/", err=True)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@cli.command()
@click.option("--study", "study", required=True, metavar="NAME|PATH",
              help="The study's spec: the same shipped name or YAML file the study was created from.")
@_worker_options
def worker(study: str, storage: str | None, study_name: str | None, threads: int | None, data_dir: str | None,
           device: str, timeout: float | None, artifact_dir: str | None, quiet: bool, as_json: bool) -> None:
    """Join an existing study from this host and work until its trial target is met.

    The study must exist (`autotune run` creates it and sets the target); run this on as
    many hosts as you like against one PostgreSQL storage.
    """
    from autotune.spec import load_spec

    spec = load_spec(study)
    _quiet_libraries()
    from autotune.progress import make_progress
    from autotune.runner import join_study

    with stop_on_signals():
        summary = join_study(spec, storage=storage, study_name=study_name, threads=threads, data_dir=data_dir,
                             device=device, timeout=timeout, artifact_dir=artifact_dir, progress=make_progress(quiet=quiet or as_json))
    _print_summary(summary, spec.metric, as_json)


def _print_summary(summary: Any, metric: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.__dict__, indent=2, default=str))
        return
    new = summary.finished - summary.finished_before
    counts = ", ".join(f"{n} {s.lower()}" for s, n in summary.states.items())
    click.echo(f"Study '{summary.study_name}' in {summary.storage}: {summary.finished} of {summary.target} "
               f"finished trials ({counts}); {new} finished during this command ({summary.seconds:.1f}s), "
               f"{summary.pruned_this_run} of them pruned.")
    if summary.best_value is not None:
        params = ", ".join(f"{k}={short(v)}" for k, v in summary.best_params.items())
        click.echo(f"Best {metric} {summary.best_value:.4f} (trial {summary.best_trial}): {params}")
    if summary.infeasible:
        click.echo(f"{summary.infeasible} complete trial(s) break a constraint (kept, marked infeasible).")
    if len(summary.metrics) > 1:
        click.echo(f"Pareto front ({len(summary.pareto)} trials, feasible only; `autotune report` draws it):")
        _table(["trial", *summary.metrics],
               [[p["trial"], *(short(p["values"][m]) for m in summary.metrics)] for p in summary.pareto])


def _replay_options(func: Any) -> Any:
    """Options shared by replay, ablate and sweep."""
    options = [
        click.option("--study", "study", default=None, metavar="NAME|PATH",
                     help="The study's spec (shipped name or YAML file); a stored study's own spec is used if present."),
        click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP),
        click.option("--study-name", default=None, metavar="NAME",
                     help="Name of the study in the storage. [default: the spec's name]"),
        click.option("--seeds", type=int, default=None, metavar="K", help="Seeds per configuration."),
        click.option("--epochs", type=click.IntRange(min=1), default=None, metavar="E",
                     help="Training epochs per run. [default: the spec's max_epochs]"),
        click.option("--train-subset", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Train on the first N examples of the training split only (a smaller budget)."),
        click.option("--threads", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Torch CPU threads. [default: the source trial's, else torch's choice]"),
        click.option("--data-dir", type=click.Path(file_okay=False), default=None, envvar="AUTOTUNE_DATA_DIR",
                     help="Folder with the original dataset files [env: AUTOTUNE_DATA_DIR]."),
        click.option("--json", "as_json", is_flag=True, help="Print the results as JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _prepare_replay(spec: Any, seeds: int | None, default_seeds: int, threads: int | None, data_dir: str | None,
                    source_threads: Any = None) -> tuple[int, Any]:
    """Validate the seed count, set threads, load the data: all before anything is written."""
    k = default_seeds if seeds is None else seeds
    if k < 1:
        raise click.BadParameter(f"{k} is not >= 1", param_hint="'--seeds'")
    import torch

    from autotune.prepare import prepare

    chosen = threads or (source_threads if isinstance(source_threads, int) else None)
    if chosen:
        torch.set_num_threads(chosen)
    return k, prepare(spec, data_dir=data_dir, device="cpu")  # replays run on the CPU, where they are exact


@cli.command()
@_replay_options
@click.option("--trial", "which", default=None, metavar="N|best", help="The stored trial to replay.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Replay a configuration from a YAML/JSON file instead (no stored study needed).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter (repeatable), e.g. --set lr=0.01 --set units=[256,128].")
def replay(study: str | None, storage: str | None, study_name: str | None, seeds: int | None, epochs: int | None,
           train_subset: int | None, threads: int | None, data_dir: str | None, as_json: bool, which: str | None,
           config_file: str | None, sets: tuple[str, ...]) -> None:
    """Re-run a stored trial (or a configuration file) exactly, with optional overrides and seeds.

    Prints train/validation loss and accuracy per seed and mean ± std; without overrides,
    with the trial's own seed, it checks that the stored metric is reproduced exactly.
    Replays are recorded in the companion study '<study>:replays'.
    """
    from autotune import replay as rp

    if (which is None) == (config_file is None):
        raise click.UsageError("give exactly one of --trial N|best and --config FILE")
    _quiet_libraries()
    ctx = rp.open_context(study, storage=storage, study_name=study_name, need_study=which is not None,
                          train_subset=train_subset)
    spec, notes, trial = ctx.spec, [], None
    if which is not None:
        trial, notes = rp.resolve_trial(ctx.study, which)
        config = rp.config_from_params(spec, trial.params)
        first_seed = trial.user_attrs.get("seed", spec.seed)
    else:
        config = rp.load_config_file(config_file, spec)
        first_seed = spec.seed
    config, set_notes = rp.apply_overrides(spec, config, rp.parse_set(sets))
    notes += set_notes
    k, splits = _prepare_replay(spec, seeds, 1, threads, data_dir, trial.user_attrs.get("threads") if trial else None)
    store = ctx.store()
    extra = {"source_trial": trial.number if trial else None, "overrides": list(sets), "config_file": config_file}
    result = rp.replay(spec, config, seeds=rp.seeds_for(first_seed, k), epochs=epochs, splits=splits,
                       label=f"trial {trial.number}" if trial else str(config_file), store=store, extra=extra,
                       notes=notes)
    check = _exactness(spec, trial, result, overridden=bool(sets), epochs=epochs)
    if as_json:
        click.echo(json.dumps({**result.summary(), "reproduction": check}, indent=2, default=str))
        return
    for note in notes:
        click.echo(f"Note: {note}")
    _table(["seed", "epochs", "train loss", "train acc", "val loss", "val acc", "seconds", ""],
           [[r.seed, r.epochs, _num(r.train_loss), _num(r.train_accuracy), _num(r.val_loss), _num(r.val_accuracy),
             f"{r.seconds:.1f}", "(recorded earlier)" if r.reused else ""] for r in result.runs])
    click.echo("mean ± std: " + ", ".join(f"{key} {_num(result.mean(key))} ± {_num(result.std(key))}"
                                          for key in rp.METRIC_KEYS if result.mean(key) is not None))
    costs = [m for m in (*spec.metrics[1:], *(c.metric for c in spec.constraints)) if m not in rp.METRIC_KEYS]
    if costs:  # the further objectives and constrained metrics of this study, measured on these runs
        click.echo("also: " + ", ".join(f"{m} {result.mean(m):.4g} ± {result.std(m):.2g}"
                                        for m in dict.fromkeys(costs) if result.mean(m) is not None))
    if check:
        click.echo(check)


def _exactness(spec: Any, trial: Any, result: Any, *, overridden: bool, epochs: int | None) -> str | None:
    """Whether a replay reproduced the stored trial's metric exactly (only when the comparison is fair)."""
    import optuna

    if trial is None or overridden or trial.state != optuna.trial.TrialState.COMPLETE:
        return None
    if epochs not in (None, trial.user_attrs.get("epochs")) or result.runs[0].seed != trial.user_attrs.get("seed"):
        return None
    stored = trial.user_attrs.get(spec.metric)
    got = getattr(result.runs[0], spec.metric)
    if got == stored:
        return f"Reproduced exactly: {spec.metric} {got!r} equals the stored value of trial {trial.number}."
    return (f"NOT reproduced: {spec.metric} {got!r} differs from the stored {stored!r} of trial {trial.number} "
            f"(different threads, device or library versions change floating-point results).")


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def _lang_option(help_text: str) -> Any:
    return click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help=help_text)


def _out_option(default_out: str) -> Any:
    return click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
                        help=f"Output folder. [default: {default_out}-<study>]")


@cli.command()
@_replay_options
@click.option("--baseline", default="defaults", show_default=True, metavar="defaults|trial:N|FILE",
              help="What the best trial is compared with: the spec's defaults, a stored trial, or a config file.")
@_lang_option("Table headers in English or in the seed reports' Chinese.")
@_out_option("ablation")
def ablate(study: str | None, storage: str | None, study_name: str | None, seeds: int | None, epochs: int | None,
           train_subset: int | None, threads: int | None, data_dir: str | None, as_json: bool, baseline: str,
           lang: str, out_dir: str | None) -> None:
    """Ablation table: the best trial vs a baseline, leave-one-out and a greedy ablation path.

    Every row is mean ± std over K seeds (default 3) with the change against the best
    configuration, its share of the total gain and a paired test across seeds. Writes
    ablation.md/.csv/.json and ablation.png.
    """
    from autotune import replay as rp

    _quiet_libraries()
    ctx = rp.open_context(study, storage=storage, study_name=study_name, need_study=True,
                          train_subset=train_subset)
    spec = ctx.spec
    best_trial, _ = rp.resolve_trial(ctx.study, "best")
    best = rp.config_from_params(spec, best_trial.params)
    if baseline == "defaults":
        base = rp.default_config(spec)
    elif baseline.startswith("trial:"):
        base_trial, _ = rp.resolve_trial(ctx.study, baseline.split(":", 1)[1])
        base = rp.config_from_params(spec, base_trial.params)
    else:
        base = rp.load_config_file(baseline, spec)
    k, splits = _prepare_replay(spec, seeds, 3, threads, data_dir, best_trial.user_attrs.get("threads"))
    from autotune.models import describe_structure
    from autotune.spec import TRAINING_PARAMS

    info = splits.info

    def describe(cfg: dict) -> str:
        # the structure text names a custom model's own parameters already: add only the trainer's
        diff = [c for c in rp.components(spec, cfg, base)
                if c != "structure" and (spec.per_layer is not None or c in TRAINING_PARAMS)]
        text = describe_structure(spec.model, input_shape=info.shape, n_outputs=info.n_outputs, config=cfg)
        return text + ("" if not diff else " " + rp.describe_change(
            {c: base[c] for c in diff}, {c: cfg[c] for c in diff}))

    rows = rp.ablate(spec, best, base, seeds=rp.seeds_for(best_trial.user_attrs.get("seed", spec.seed), k),
                     splits=splits, epochs=epochs, store=ctx.store(), describe=describe,
                     on_row=None if as_json else lambda r: click.echo(f"  {r.kind}: {r.component} done", err=True))
    outputs = rp.ablation_outputs(spec, rows, out_dir or f"ablation-{ctx.study.study_name}", lang=lang)
    if as_json:
        click.echo(json.dumps(outputs, indent=2, default=str))
        return
    click.echo(outputs["markdown"])


@cli.command()
@_replay_options
@click.option("--param", required=True, metavar="P", help="The parameter to vary (or 'epochs').")
@click.option("--values", "values_text", required=True, metavar="V1,V2,...", help="Comma-separated values.")
@click.option("--from", "from_", default="best", show_default=True, metavar="best|trial:N",
              help="The trial whose other parameters are held fixed.")
@_lang_option("Table headers in English or in the seed reports' Chinese.")
@_out_option("sweep")
def sweep(study: str | None, storage: str | None, study_name: str | None, seeds: int | None, epochs: int | None,
          train_subset: int | None, threads: int | None, data_dir: str | None, as_json: bool, param: str,
          values_text: str, from_: str, lang: str, out_dir: str | None) -> None:
    """One factor at a time: vary one parameter over values, holding the others at a trial's.

    Like the seed reports' learning-rate, batch-size, hidden-units and epochs tables; records
    wall time per setting too. Writes sweep-P.md/.csv/.json and sweep-P.png.
    """
    from autotune import replay as rp

    _quiet_libraries()
    ctx = rp.open_context(study, storage=storage, study_name=study_name, need_study=True,
                          train_subset=train_subset)
    spec = ctx.spec
    which = "best" if from_ == "best" else from_.removeprefix("trial:")
    trial, _ = rp.resolve_trial(ctx.study, which)
    base = rp.config_from_params(spec, trial.params)
    values = [rp.parse_set([f"{param}={text}"])[param] for text in values_text.split(",")]
    for value in values:  # check every value before training anything
        if param != "epochs":
            rp.apply_overrides(spec, base, {param: value}, source="--values")
    k, splits = _prepare_replay(spec, seeds, 1, threads, data_dir, trial.user_attrs.get("threads"))
    replays = rp.sweep(spec, base, param, values, seeds=rp.seeds_for(trial.user_attrs.get("seed", spec.seed), k),
                       splits=splits, epochs=epochs, store=ctx.store())
    outputs = rp.sweep_outputs(spec, param, replays, out_dir or f"sweep-{ctx.study.study_name}", lang=lang)
    if as_json:
        click.echo(json.dumps(outputs, indent=2, default=str))
        return
    click.echo(outputs["markdown"])


def _stored_study_options(default_out: str) -> Any:
    """--study, --storage, --study-name and --out, for commands that read a stored study."""
    def decorate(func: Any) -> Any:
        for option in reversed([
            click.option("--study", "study", required=True, metavar="NAME|PATH",
                         help="The study's spec (shipped name or YAML file); the stored study's own spec is used "
                              "if present."),
            click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP),
            click.option("--study-name", default=None, metavar="NAME",
                         help="Name of the study in the storage. [default: the spec's name]"),
            _out_option(default_out),
        ]):
            func = option(func)
        return func
    return decorate


@cli.command()
@_stored_study_options("report")
@_lang_option("Trial-table headers in English or in the seed reports' Chinese.")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "both"]), default="both", show_default=True,
              help="Write index.html, report.md, or both (figures and data always).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def report(study: str, storage: str | None, study_name: str | None, out_dir: str | None, lang: str, fmt: str,
           as_json: bool) -> None:
    """Write a report folder: summary, the seed-format trial table, importance, plots, analysis.

    index.html opens offline (no CDN); report.md, PNG figures and the data behind every
    figure (CSV/JSON) sit beside it.
    """
    from autotune import replay as rp
    from autotune.report import build_report
    from autotune.storage import redact, resolve_storage_url

    _quiet_libraries()
    ctx = rp.open_context(study, storage=storage, study_name=study_name, need_study=True)
    formats = ("html", "md") if fmt == "both" else (fmt,)
    with stop_on_signals():
        result = build_report(ctx.study, ctx.spec, out_dir=out_dir or f"report-{ctx.study.study_name}",
                              storage=redact(resolve_storage_url(storage)), lang=lang, formats=formats)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for note in result["notes"]:
        click.echo(f"Note: {note}", err=True)
    click.echo(f"Report written to {result['out']}/ ({len(result['files'])} files, {len(result['figures'])} figures)")


class SubsetType(click.ParamType):
    """A count of training examples >= 1, or ``all``."""

    name = "N|all"

    def convert(self, value, param, ctx):
        try:
            number = int(value)
        except ValueError:
            number = value  # "all", or a word valid_subset refuses
        if not FinalSpec.valid_subset(number):
            self.fail(f"{FinalSpec.RULE}, got {value!r}", param, ctx)
        return number


@cli.command()
@_stored_study_options("export")
@click.option("--retrain-on", type=click.Choice(["train+val", "train"]), default="train+val", show_default=True,
              help="Data the final model is retrained on before its one evaluation on the test split.")
@click.option("--no-retrain", is_flag=True, help="Skip the final model (no test-set evaluation).")
@click.option("--threads", type=click.IntRange(min=1), default=None, metavar="N",
              help="Torch CPU threads. [default: torch's choice]")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, envvar="AUTOTUNE_DATA_DIR",
              help="Folder with the original dataset files [env: AUTOTUNE_DATA_DIR].")
@click.option("--trial", "trial_number", type=click.IntRange(min=0), default=None, metavar="N",
              help="Export trial N (e.g. a Pareto trial from the report) instead of the best.")
@click.option("--objective", default=None, metavar="K|METRIC",
              help="Multi-objective study: export the best trial by this objective. [default: the first]")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True, metavar="K",
              help="Retrain the final model K times (seeds derived from the trial's) and report the test "
                   "figures as mean ± std; model.pt keeps the first.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Train the final model for N epochs. [default: the spec's final.max_epochs, else the trials']")
@click.option("--train-subset", type=SubsetType(), default=None, metavar="N|all",
              help="Train the final model on N training examples, or all of them. "
                   "[default: the spec's final.train_subset, else the trials']")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def export(study: str, storage: str | None, study_name: str | None, out_dir: str | None, retrain_on: str,
           no_retrain: bool, threads: int | None, data_dir: str | None, trial_number: int | None,
           objective: str | None, seeds: int, epochs: int | None, train_subset: int | str | None,
           as_json: bool) -> None:
    """Export the best trial: best.yaml/.json, trials.csv, a final model tested once, provenance.json.

    The final model is the best configuration retrained on train+validation (or train only)
    and evaluated exactly once on the held-out test split; its checkpoint (model.pt) carries
    the weights, model arguments, spec and package versions and loads with weights_only=True.
    Search cheaply, train the final model fully: its budget (--epochs, --train-subset) may
    exceed the trials', as the spec's ``final:`` block declares.
    """
    from autotune import replay as rp
    from autotune.export import export_study
    from autotune.storage import redact, resolve_storage_url

    _quiet_libraries()
    ctx = rp.open_context(study, storage=storage, study_name=study_name, need_study=True)
    if threads:
        import torch

        torch.set_num_threads(threads)
    summary = export_study(ctx.study, ctx.spec, out_dir=out_dir or f"export-{ctx.study.study_name}",
                           storage=redact(resolve_storage_url(storage)),
                           retrain_on=None if no_retrain else retrain_on, data_dir=data_dir,
                           trial=trial_number, objective=objective, seeds=seeds, epochs=epochs,
                           train_subset=train_subset)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    best = summary["best"]
    values = ", ".join(f"{m} {v:.4g}" for m, v in best["values"].items())
    click.echo(f"Trial {best['trial']} ({best['chosen_by']}): {values} -> {summary['out']}/ "
               f"({', '.join(summary['files'])})")
    final = summary["final_model"]
    if final:
        metric = (f"test accuracy {final['test_accuracy']:.4f}" if final["test_accuracy"] is not None
                  else f"test loss {final['test_loss']:.4g}" if final["test_loss"] is not None
                  else "not tested (the dataset has no test split)")
        click.echo(f"Final model retrained on {final['trained_on']} ({final['train_examples']} examples, "
                   f"{final['epochs']} epochs, {final['seconds']:.1f}s): {metric} on {final['test_examples']} "
                   f"test examples.")
        if len(final["seeds"]) > 1:
            key = "test_accuracy" if final["test_accuracy"] is not None else "test_loss"
            click.echo(f"Over {len(final['seeds'])} seeds ({', '.join(str(r['seed']) for r in final['seeds'])}): "
                       f"{key.replace('_', ' ')} {final[key + '_mean']:.4f} ± {final[key + '_std']:.4f}.")


@cli.command()
@click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. optuna-dashboard has no authentication: anything but loopback warns.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option("--artifact-dir", type=click.Path(file_okay=False), default=None, envvar="AUTOTUNE_ARTIFACT_DIR",
              help="Folder of trial artifacts to serve [env: AUTOTUNE_ARTIFACT_DIR; default: beside the SQLite file].")
def dashboard(storage: str | None, host: str, port: int, artifact_dir: str | None) -> None:
    """Watch the studies of a storage live in optuna-dashboard (Ctrl-C stops it).

    Serves the same storage the other commands use, with its trial artifacts
    (learning curves, checkpoints), so they open from the dashboard's trial view.
    """
    from autotune.artifacts import artifact_dir as default_artifact_dir
    from autotune.dashboard import serve
    from autotune.storage import resolve_storage_url

    url = resolve_storage_url(storage)
    with stop_on_signals():
        serve(url, host=host, port=port, artifact_dir=default_artifact_dir(url, artifact_dir),
              echo=lambda line: click.echo(line, err=line.startswith("Warning:")))


@cli.command()
@click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
def studies(storage: str | None, as_json: bool) -> None:
    """List the shipped study specs and the studies in a storage (trials by state, best value)."""
    from autotune.errors import StudyNotFoundError
    from autotune.spec import load_spec, shipped_specs
    from autotune.storage import list_studies, redact, resolve_storage_url

    specs = [load_spec(str(path)) for path in shipped_specs().values()]
    url = resolve_storage_url(storage)
    _quiet_libraries()
    try:
        rows = list_studies(url)
        missing = None
    except StudyNotFoundError as exc:
        rows, missing = [], str(exc)
    if as_json:
        click.echo(json.dumps({
            "specs": [{"name": s.name, "dataset": s.dataset_name, "model": s.model, "metric": s.metric,
                       "max_epochs": s.max_epochs, "description": s.description} for s in specs],
            "storage": redact(url),
            "studies": [{**r.__dict__, "n_trials": r.n_trials} for r in rows],
        }, indent=2))
        return
    click.echo("Shipped study specs:")
    _table(["name", "dataset", "model", "metric", "epochs", "description"],
           [[s.name, s.dataset_name, s.model, s.metric, s.max_epochs, s.description] for s in specs])
    click.echo(f"\nStudies in {redact(url)}:")
    if missing:
        click.echo(f"  (none: {missing})")
    elif not rows:
        click.echo("  (none)")
    else:
        _table(["study", "trials", "states", "direction", "best", "best trial"],
               [[r.name, r.n_trials, " ".join(f"{k.lower()}={v}" for k, v in r.states.items()), r.direction,
                 "-" if r.best_value is None else f"{r.best_value:.4f}",
                 "-" if r.best_trial is None else r.best_trial] for r in rows])


def _table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _quiet_libraries() -> None:
    import optuna

    # Our own progress display reports trials; Optuna would print a traceback for every interrupted one.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")


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
