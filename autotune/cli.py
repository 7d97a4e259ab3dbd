"""The ``autotune`` command line: click commands only, each a thin layer over the library.

User errors print one ``Error: …`` line on stderr and exit non-zero, with no traceback.
Heavy imports (torch, optuna) happen inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import warnings
from typing import Any

import click

from autotune import __version__
from autotune.errors import AutotuneError

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
@click.option("--pruner", type=click.Choice(["median", "hyperband", "none"]), default=None,
              help="Override the spec's pruner.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="K",
              help="Worker processes on this machine sharing the study (threads are divided among them).")
@click.option("--dashboard", "with_dashboard", is_flag=True,
              help="Start optuna-dashboard (127.0.0.1) on this storage beside the run, and stop it afterwards.")
@click.option("--dashboard-port", type=click.IntRange(1, 65535), default=8080, show_default=True,
              help="Port for --dashboard.")
@_worker_options
def run(study: str, trials: int | None, storage: str | None, study_name: str | None, pruner: str | None,
        threads: int | None, data_dir: str | None, workers: int, with_dashboard: bool, dashboard_port: int,
        timeout: float | None, artifact_dir: str | None, quiet: bool, as_json: bool) -> None:
    """Search a study's space until it holds N finished trials.

    Trials are complete or pruned ones, counted over every worker; running the same command
    again after an interruption continues where it stopped. Ctrl-C stops cleanly (exit code 130).
    """
    from autotune.spec import load_spec

    spec = load_spec(study)
    _quiet_libraries()
    from autotune.progress import make_progress
    from autotune.runner import run_study

    with _clean_stop(), _dashboard_beside(storage, dashboard_port, artifact_dir, enabled=with_dashboard):
        summary = run_study(spec, n_trials=trials, storage=storage, study_name=study_name, pruner=pruner,
                            threads=threads, data_dir=data_dir, workers=workers, timeout=timeout,
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
           timeout: float | None, artifact_dir: str | None, quiet: bool, as_json: bool) -> None:
    """Join an existing study from this host and work until its trial target is met.

    The study must exist (`autotune run` creates it and sets the target); run this on as
    many hosts as you like against one PostgreSQL storage.
    """
    from autotune.spec import load_spec

    spec = load_spec(study)
    _quiet_libraries()
    from autotune.progress import make_progress
    from autotune.runner import join_study

    with _clean_stop():
        summary = join_study(spec, storage=storage, study_name=study_name, threads=threads, data_dir=data_dir,
                             timeout=timeout, artifact_dir=artifact_dir, progress=make_progress(quiet=quiet or as_json))
    _print_summary(summary, spec.metric, as_json)


@contextlib.contextmanager
def _clean_stop():
    """Ctrl-C and SIGTERM both stop cleanly, even where a parent shell started us with SIGINT ignored."""
    previous = {sig: signal.signal(sig, _raise_keyboard_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in summary.best_params.items())
        click.echo(f"Best {metric} {summary.best_value:.4f} (trial {summary.best_trial}): {params}")


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
    with _clean_stop():
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
            "specs": [{"name": s.name, "dataset": s.dataset, "model": s.model, "metric": s.metric,
                       "max_epochs": s.max_epochs, "description": s.description} for s in specs],
            "storage": redact(url),
            "studies": [{**r.__dict__, "n_trials": r.n_trials} for r in rows],
        }, indent=2))
        return
    click.echo("Shipped study specs:")
    _table(["name", "dataset", "model", "metric", "epochs", "description"],
           [[s.name, s.dataset, s.model, s.metric, s.max_epochs, s.description] for s in specs])
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


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _quiet_libraries() -> None:
    import optuna

    # Our own progress display reports trials; Optuna would print a traceback for every interrupted one.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
