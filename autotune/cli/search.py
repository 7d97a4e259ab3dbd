"""The ``autotune`` commands that search: ``run`` and ``worker``."""

from __future__ import annotations

import contextlib

import click

from autotune.base.interrupts import stop_on_signals
from autotune.cli.clusters import check_ray_options, ray_options
from autotune.cli.options import (
    WORKERS,
    quiet_libraries,
    worker_options,
)
from autotune.cli.output import print_summary
from autotune.execution.progress import make_progress
from autotune.execution.ray_workers import run as run_on_ray
from autotune.execution.runner import join_study, run_study
from autotune.reporting.dashboard import beside as _dashboard_beside
from autotune.spec.study import PRUNERS, STOP_RULES, load_spec
from autotune.storage.stored import is_spec_reference, open_context


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
    step: str | None,
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

    with (
        stop_on_signals(),
        _dashboard_beside(storage, dashboard_port, artifact_dir) if with_dashboard else contextlib.nullcontext(),
    ):
        if ray_address is not None:
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
                step=step,
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
            step=step,
        )
    print_summary(summary, spec.metric, as_json)


@click.command()
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
    step: str | None,
    timeout: float | None,
    artifact_dir: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Join an existing study from this host and work until its trial target is met.

    The study must exist (`autotune run` creates it and sets the target); run this on as
    many hosts as you like against one PostgreSQL storage.
    """

    if is_spec_reference(study):
        spec = open_context(study, storage=storage, study_name=study_name, need_study=False).spec
    else:  # a stored study's name: its own spec, the one its trials ran with
        spec = open_context(study, storage=storage, study_name=study_name, need_study=True).spec
        study_name = study_name or study
    quiet_libraries()

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
            step=step,
            progress=make_progress(quiet=quiet or as_json),
        )
    print_summary(summary, spec.metric, as_json)
