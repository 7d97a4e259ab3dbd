"""The ``autotune`` commands that look at a storage: ``dashboard`` and ``studies``."""

from __future__ import annotations

import json

import click

import autotune
from autotune.base.interrupts import stop_on_signals
from autotune.cli.options import (
    STORAGE_HELP,
    quiet_libraries,
)
from autotune.cli.output import table
from autotune.errors import StudyNotFoundError
from autotune.reporting.dashboard import serve
from autotune.spec.study import load_spec, shipped_specs
from autotune.storage.artifacts import artifact_dir as default_artifact_dir
from autotune.storage.studies import redact, resolve_storage_url
from autotune.words.figures import value_text


@click.command()
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

    url = resolve_storage_url(storage)
    with stop_on_signals():
        serve(
            url,
            host=host,
            port=port,
            artifact_dir=default_artifact_dir(url, artifact_dir),
            echo=lambda line: click.echo(line, err=line.startswith("Warning:")),
        )


@click.command()
@click.option("--storage", default=None, metavar="URL", help=STORAGE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
def studies(storage: str | None, as_json: bool) -> None:
    """List the shipped study specs and the studies in a storage (trials by state, best value)."""

    specs = [load_spec(str(path)) for path in shipped_specs().values()]
    url = resolve_storage_url(storage)
    quiet_libraries()
    try:
        rows = autotune.list_studies(url)
        missing = None
    except StudyNotFoundError as exc:
        rows, missing = [], exc.for_flags()
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
                    "studies": [r.to_dict() for r in rows if r.replays_of is None],
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
