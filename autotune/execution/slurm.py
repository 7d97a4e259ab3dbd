"""Slurm: ``autotune slurm`` runs a study's workers as one Slurm job array, one array task per worker.

:func:`script` writes the ``sbatch`` script, a readable file a user can edit and submit
(``sbatch FILE``); :func:`submit` checks everything, creates the study in the shared storage (its trial
target and stopping rule, which every worker reads), writes the script and submits it. Each array
task runs ``autotune worker`` against the same PostgreSQL study, so the study ends with exactly N
finished trials however many tasks run, and a task the scheduler ends (time limit, preemption,
``scancel``: SIGTERM, then SIGKILL) leaves it exact: SIGTERM marks the running trial FAIL, and a
trial whose worker was killed outright stops beating and is failed and retried by the others.
"""

from __future__ import annotations

import datetime
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from autotune.base.output_folders import writable_problem
from autotune.errors import OptionError, OutputError, SchedulerError
from autotune.execution.shared_study import check_shared, create_shared
from autotune.spec.study import StudySpec, load_spec
from autotune.storage.studies import redact, storage_option

#: ``--time``: Slurm's [DAYS-]HOURS:MINUTES:SECONDS.
_TIME_RE = re.compile(r"^(\d+-)?\d{1,3}:[0-5]\d:[0-5]\d$")
_PARTITION_RE = re.compile(r"^[A-Za-z0-9_.,-]+$")


@dataclass(frozen=True)
class SlurmJob:
    """What :func:`submit` did: the script (its text and file), the job id (None for a dry run), the study."""

    script: str
    path: str | None
    job_id: str | None
    study: str
    storage: str  # redacted
    target: int
    finished: int  # finished trials the study held at submission
    workers: int

    def to_dict(self) -> dict:
        return {
            "job_id": self.job_id,
            "script": self.path,
            "study": self.study,
            "storage": self.storage,
            "target": self.target,
            "finished": self.finished,
            "workers": self.workers,
        }


def check_options(
    *, workers: int, cpus_per_worker: int, gpus_per_worker: int, time: str | None, partition: str | None
) -> None:
    if workers < 1:
        raise OptionError(f"«workers» must be >= 1 (one array task each), got {workers}")
    if cpus_per_worker < 1:
        raise OptionError(f"«cpus_per_worker» must be >= 1, got {cpus_per_worker}")
    if gpus_per_worker < 0:
        raise OptionError(f"«gpus_per_worker» must be >= 0, got {gpus_per_worker}")
    if time is not None and not _TIME_RE.match(time):
        raise OptionError(f"«time» {time!r} is not [DAYS-]HH:MM:SS (e.g. 02:00:00, or 1-12:00:00 for a day and a half)")
    if partition is not None and not _PARTITION_RE.match(partition):
        raise OptionError(
            f"--partition {partition!r}: a Slurm partition name is letters, digits, '_', '.', '-' "
            "(several separated by ',')"
        )


def script(
    *,
    study: str,
    spec_file: str,
    url: str,
    target: int,
    workers: int,
    cpus_per_worker: int = 1,
    gpus_per_worker: int = 0,
    partition: str | None = None,
    time: str | None = None,
    log_dir: str,
    workdir: str,
    data_dir: str | None = None,
    artifact_dir: str | None = None,
    python: str | None = None,
) -> str:
    """The ``sbatch`` array script: ``workers`` tasks, each ``autotune worker`` on ``study`` in ``url``, with the
    spec the study was created from (``spec_file``, written beside the script: a shipped spec's name would mean
    the shipped file, which a --pruner given here changes).

    A URL with a password is not written into the file: the script takes it from ``$AUTOTUNE_STORAGE``
    (``sbatch`` passes the submitting shell's environment on), and says so."""
    python = python or sys.executable
    secret = redact(url) != url
    q = shlex.quote
    lines = [
        "#!/bin/bash",
        f"# autotune workers for study '{study}' as a Slurm job array: each array task runs `autotune worker`,",
        f"# and together they stop when the study holds {target} finished trials (complete or pruned).",
        f"# Written by `autotune slurm` on {datetime.date.today().isoformat()}; edit it and submit it again with",
        "#   sbatch THIS_FILE",
        f"#SBATCH --job-name=autotune-{study}",
        f"#SBATCH --array=0-{workers - 1}",
        "#SBATCH --ntasks=1",
        f"#SBATCH --cpus-per-task={cpus_per_worker}",
    ]
    if gpus_per_worker:
        lines.append(f"#SBATCH --gres=gpu:{gpus_per_worker}")
    if partition:
        lines.append(f"#SBATCH --partition={partition}")
    if time:
        lines.append(f"#SBATCH --time={time}")
    lines += [
        f"#SBATCH --output={log_dir}/autotune-{study}-%A_%a.out",
        f"#SBATCH --chdir={workdir}",
        "",
        "set -euo pipefail",
    ]
    if secret:
        lines += [
            "# The storage URL holds a password, so it is not in this file: export AUTOTUNE_STORAGE before",
            "# sbatch (sbatch passes the environment on).",
            ': "${AUTOTUNE_STORAGE:?export AUTOTUNE_STORAGE=the study\'s storage URL before sbatch}"',
        ]
    lines.append(f"export OMP_NUM_THREADS={cpus_per_worker}")
    if data_dir:
        lines.append(f"export AUTOTUNE_DATA_DIR={q(str(data_dir))}")
    cmd = [
        q(python),
        "-m",
        "autotune.cli",
        "worker",
        "--study",
        q(spec_file),
        "--study-name",
        q(study),
        "--storage",
        '"$AUTOTUNE_STORAGE"' if secret else q(url),
        "--threads",
        str(cpus_per_worker),
        "--device",
        "cuda" if gpus_per_worker else "cpu",
    ]
    if artifact_dir:
        cmd += ["--artifact-dir", q(str(artifact_dir))]
    lines += [
        "# exec: the worker itself receives Slurm's SIGTERM (time limit, preemption, scancel) and marks its",
        "# running trial FAIL, so the study stays exact",
        "exec " + " ".join(cmd),
        "",
    ]
    return "\n".join(lines)


def default_script_path(study: str) -> Path:
    return Path(f"autotune-slurm-{re.sub(r'[^A-Za-z0-9_.-]', '_', study)}.sbatch")


def submit(
    spec: StudySpec | str,
    *,
    workers: int,
    n_trials: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    cpus_per_worker: int = 1,
    gpus_per_worker: int = 0,
    partition: str | None = None,
    time: str | None = None,
    script_path: str | None = None,
    data_dir: str | None = None,
    artifact_dir: str | None = None,
    pruner: str | None = None,
    stop: str | None = None,
    stop_patience: int | None = None,
    dry_run: bool = False,
) -> SlurmJob:
    """Check everything, then (unless ``dry_run``) create the study, write the script and submit it.
    ``spec``: a :class:`StudySpec`, a shipped spec's name or a YAML path.

    Nothing is written and nothing submitted when a check fails: no ``sbatch`` on PATH, an SQLite
    storage, a bad option, a script path that cannot be written, missing data."""

    check_options(
        workers=workers,
        cpus_per_worker=cpus_per_worker,
        gpus_per_worker=gpus_per_worker,
        time=time,
        partition=partition,
    )
    spec = spec if isinstance(spec, StudySpec) else load_spec(spec)
    # the nodes get the folders this shell uses, written into the script
    data_dir = data_dir or os.environ.get("AUTOTUNE_DATA_DIR") or None
    artifact_dir = artifact_dir or os.environ.get("AUTOTUNE_ARTIFACT_DIR") or None
    sbatch = shutil.which("sbatch")
    if sbatch is None and not dry_run:
        raise SchedulerError(
            "sbatch is not on PATH: run `autotune slurm` on a Slurm login node (or use --dry-run to print the script)"
        )
    spec, url, name, target, rule = check_shared(
        spec,
        n_trials=n_trials,
        storage=storage,
        study_name=study_name,
        pruner=pruner,
        stop=stop,
        stop_patience=stop_patience,
        data_dir=data_dir,
        hosts="the cluster's nodes",
    )
    path = Path(script_path) if script_path else default_script_path(name)
    spec_path = spec_file_for(path)
    text = script(
        study=name,
        spec_file=str(spec_path.resolve()),
        url=url,
        target=target,
        workers=workers,
        cpus_per_worker=cpus_per_worker,
        gpus_per_worker=gpus_per_worker,
        partition=partition,
        time=time,
        log_dir=str(path.resolve().parent),
        workdir=os.getcwd(),
        data_dir=data_dir,
        artifact_dir=artifact_dir,
    )
    if dry_run:
        return SlurmJob(text, None, None, name, redact(url), target, 0, workers)
    _check_writable(path)
    shared = create_shared(spec, url, name, target=target, rule=rule)
    spec.write_yaml(spec_path)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    job_id = _sbatch(sbatch, path)  # type: ignore[arg-type]
    return SlurmJob(text, str(path), job_id, name, redact(url), target, shared.finished, workers)


def spec_file_for(script_path: Path) -> Path:
    """The spec file written beside the script: ``job.sbatch`` -> ``job.spec.yaml``."""
    return script_path.with_name(script_path.stem + ".spec.yaml")


def _check_writable(path: Path) -> None:
    folder = path.resolve().parent
    if path.is_dir():
        raise OutputError(f"«script_path» {path}: is a folder; give a file name (e.g. {default_script_path('study')})")
    # Slurm does not create the logs' folder: it must exist (and take files, as output folders are checked)
    if not folder.is_dir() or writable_problem(folder) is not None:
        raise OutputError(
            f"«script_path» {path}: cannot write into {folder} (missing or not writable); the job's logs go there too"
        )


def _sbatch(sbatch: str, path: Path) -> str:
    """Submit ``path``; the job id (``sbatch --parsable`` prints ``ID`` or ``ID;CLUSTER``)."""
    out = subprocess.run([sbatch, "--parsable", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or [f"exit code {out.returncode}"])[-1]
        raise SchedulerError(
            f"sbatch refused {path}: {last.removeprefix('sbatch: error: ')} (the study is created; "
            f"fix the script and submit it with `sbatch {path}`)"
        )
    return out.stdout.strip().split(";")[0]


def lines(job: SlurmJob) -> list[str]:
    """What ``autotune slurm`` prints after submitting (commands to paste, see storage.storage_option)."""
    left = max(job.target - job.finished, 0)
    option, note = storage_option(job.storage)
    return [
        f"Submitted Slurm job array {job.job_id}: {job.workers} worker(s) on study '{job.study}' "
        f"({job.storage}), {left} of {job.target} trials to go.",
        f"Script: {job.path} (edit it and `sbatch` it again to add workers; the spec and the logs beside it, "
        f"autotune-{job.study}-{job.job_id}_N.out).",
        f"Watch: squeue -j {job.job_id}; autotune report --study {shlex.quote(job.study)}{option}{note}; stop: "
        f"scancel {job.job_id} (running trials are marked FAIL).",
    ]
