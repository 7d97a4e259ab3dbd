"""The ``autotune`` commands and options that start workers through a cluster's scheduler (Slurm, Ray)."""

from __future__ import annotations

import json
from typing import Any

import click

from autotune.cli.options import STORAGE_HELP, quiet_libraries
from autotune.errors import OptionError
from autotune.spec.study import PRUNERS, STOP_RULES


@click.command()
@click.option(
    "--study",
    "study",
    required=True,
    metavar="NAME|PATH",
    help="A shipped study spec (see `autotune studies`) or the path to your own YAML spec.",
)
@click.option(
    "--trials",
    type=int,
    default=None,
    metavar="N",
    help="Finished trials the study should hold in total. [default: the spec's 'trials']",
)
@click.option("--workers", type=int, required=True, metavar="K", help="Array tasks, one `autotune worker` each.")
@click.option(
    "--storage",
    default=None,
    metavar="URL",
    help=STORAGE_HELP.replace("[default:", "Every node must reach it (PostgreSQL). [default:"),
)
@click.option(
    "--study-name", default=None, metavar="NAME", help="Name of the study in the storage. [default: the spec's name]"
)
@click.option("--partition", default=None, metavar="P", help="Slurm partition. [default: the cluster's default]")
@click.option(
    "--cpus-per-worker",
    type=int,
    default=1,
    show_default=True,
    metavar="C",
    help="CPUs per array task (the worker's torch threads).",
)
@click.option(
    "--gpus-per-worker",
    type=int,
    default=0,
    show_default=True,
    metavar="G",
    help="GPUs per array task (--gres=gpu:G); with G > 0 the worker trains on CUDA.",
)
@click.option(
    "--time",
    "time_limit",
    default=None,
    metavar="HH:MM:SS",
    help="Time limit per array task ([DAYS-]HH:MM:SS). [default: the partition's]",
)
@click.option(
    "--script",
    "script_path",
    default=None,
    metavar="FILE",
    help="Where to write the sbatch script; the tasks' logs go beside it. [default: ./autotune-slurm-STUDY.sbatch]",
)
@click.option("--pruner", type=click.Choice(list(PRUNERS)), default=None, help="Override the spec's pruner.")
@click.option(
    "--stop",
    type=click.Choice(list(STOP_RULES)),
    default=None,
    help="The stopping rule the workers follow (see `autotune run --help`).",
)
@click.option(
    "--stop-patience",
    type=click.IntRange(min=1),
    default=None,
    metavar="P",
    help="Finished trials in a row the stopping rule waits for. [default: the spec's stop.patience, else 20]",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="AUTOTUNE_DATA_DIR",
    help="Folder with the dataset files, as the nodes see it [env: AUTOTUNE_DATA_DIR].",
)
@click.option(
    "--artifact-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="AUTOTUNE_ARTIFACT_DIR",
    help="Folder for trial artifacts, shared by the nodes [env: AUTOTUNE_ARTIFACT_DIR].",
)
@click.option("--dry-run", is_flag=True, help="Print the script only: no study is created, nothing is submitted.")
@click.option("--json", "as_json", is_flag=True, help="Print what was submitted as JSON.")
def slurm(
    study: str,
    trials: int | None,
    workers: int,
    storage: str | None,
    study_name: str | None,
    partition: str | None,
    cpus_per_worker: int,
    gpus_per_worker: int,
    time_limit: str | None,
    script_path: str | None,
    pruner: str | None,
    stop: str | None,
    stop_patience: int | None,
    data_dir: str | None,
    artifact_dir: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Run a study's workers as a Slurm job array: one array task per worker.

    Creates the study in the shared storage (PostgreSQL: every node must reach it), writes an sbatch
    script you can read, edit and resubmit, and submits it. The tasks stop when the study holds N
    finished trials; a task that Slurm ends (time limit, preemption, scancel) leaves the study exact.
    """
    # imported here, not at the top: keeps optuna off the import of this module
    from autotune.execution.slurm import lines, submit

    quiet_libraries()
    job = submit(
        study,
        workers=workers,
        n_trials=trials,
        storage=storage,
        study_name=study_name,
        cpus_per_worker=cpus_per_worker,
        gpus_per_worker=gpus_per_worker,
        partition=partition,
        time=time_limit,
        script_path=script_path,
        data_dir=data_dir,
        artifact_dir=artifact_dir,
        pruner=pruner,
        stop=stop,
        stop_patience=stop_patience,
        dry_run=dry_run,
    )
    if dry_run:
        click.echo(job.script, nl=False)
    elif as_json:
        click.echo(json.dumps(job.to_dict(), indent=2))
    else:
        click.echo("\n".join(lines(job)))


def ray_options(func: Any) -> Any:
    """`run`'s options for running its workers on a Ray cluster (see autotune.execution.ray_workers)."""
    options = [
        click.option(
            "--ray",
            "ray_address",
            default=None,
            metavar="ADDRESS|auto",
            help="Run the workers as --workers K tasks on the Ray cluster at ADDRESS (the head's HOST:PORT, "
            "or auto: $RAY_ADDRESS, else the one `ray start` started here). The storage must be one "
            "every node reaches (PostgreSQL); needs pip install 'autotune[ray]'.",
        ),
        click.option(
            "--cpus-per-worker",
            type=int,
            default=None,
            metavar="C",
            help="With --ray: CPUs per task, its torch threads. [default: 1]",
        ),
        click.option(
            "--gpus-per-worker",
            type=float,
            default=None,
            metavar="G",
            help="With --ray: GPUs per task; G > 0 trains on CUDA, and a fraction (0.5) lets several "
            "trials share one GPU. [default: 0]",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def check_ray_options(
    *,
    ray_address: str | None,
    cpus_per_worker: int | None,
    gpus_per_worker: float | None,
    threads: int | None,
    warm_start: str | None,
    trials_per_gpu: int | None,
    workers: int | str = 1,
) -> None:
    """`run`'s options that do not go together with --ray (or without it)."""
    if ray_address is None:
        if cpus_per_worker is not None or gpus_per_worker is not None:
            given = "--cpus-per-worker" if cpus_per_worker is not None else "--gpus-per-worker"
            raise OptionError(f"{given} goes with --ray; on this machine use --threads and --device")
        return
    device_given = click.get_current_context().get_parameter_source("device") == click.core.ParameterSource.COMMANDLINE
    clashes = [
        ("--threads", threads is not None, "--cpus-per-worker"),
        ("--device", device_given, "--gpus-per-worker (> 0: CUDA)"),
        ("--trials-per-gpu", trials_per_gpu is not None, "a fraction: --gpus-per-worker 0.5"),
        ("--warm-start", warm_start is not None, "a local `autotune run --warm-start` first"),
    ]
    for option, given, instead in clashes:
        if given:
            raise OptionError(f"{option} does not go with --ray; use {instead}")
    if workers == "auto":
        raise OptionError("--ray needs --workers K, the number of Ray tasks ('auto' counts this machine's cores)")
