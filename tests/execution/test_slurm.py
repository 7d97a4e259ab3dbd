"""`autotune slurm`: the sbatch array script, its checks, and real runs on a single-node Slurm cluster.

The cluster is the one .ci/run starts (scripts/slurm.sh: Debian's slurm-wlm, slurmctld and slurmd on
127.0.0.1); without it the real-cluster tests are skipped, unless $AUTOTUNE_REQUIRE_SLURM is set (as in
CI). They use the CI PostgreSQL server: workers on a cluster cannot share an SQLite file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import optuna
import pytest
import yaml

from tests.conftest import assert_one_error_line, files, gated_spec, invoke, wait_for, worker_name

SECRET_URL = "postgresql+psycopg://tuner:s3cret@db.invalid:5432/studies"


def test_dry_run_prints_the_array_script_and_writes_nothing(write_spec, gate, tmp_path):
    spec = write_spec(gated_spec(), "spec.yaml")
    before = files(tmp_path)
    result = invoke(
        "slurm",
        "--study",
        spec,
        "--workers",
        "3",
        "--trials",
        "12",
        "--storage",
        SECRET_URL,
        "--partition",
        "gpu",
        "--gpus-per-worker",
        "1",
        "--cpus-per-worker",
        "4",
        "--time",
        "1-02:00:00",
        "--data-dir",
        str(tmp_path / "data"),
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "#!/bin/bash"
    assert [line for line in lines if line.startswith("#SBATCH")] == [
        "#SBATCH --job-name=autotune-tiny-digits",
        "#SBATCH --array=0-2",
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --gres=gpu:1",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=1-02:00:00",
        f"#SBATCH --output={tmp_path}/autotune-tiny-digits-%A_%a.out",
        f"#SBATCH --chdir={tmp_path}",
    ]
    assert "s3cret" not in result.output  # a password is never written: the job takes it from the environment
    assert ': "${AUTOTUNE_STORAGE:?export AUTOTUNE_STORAGE=the study\'s storage URL before sbatch}"' in lines
    assert f"export AUTOTUNE_DATA_DIR={tmp_path / 'data'}" in lines and "export OMP_NUM_THREADS=4" in lines
    assert lines[-1] == (
        f"exec {sys.executable} -m autotune.cli worker --study "
        f"{tmp_path / 'autotune-slurm-tiny-digits.spec.yaml'} --study-name tiny-digits --storage "
        '"$AUTOTUNE_STORAGE" --threads 4 --device cuda'
    )
    assert "12 finished trials" in lines[2]
    assert files(tmp_path) == before  # no script, no database


def test_a_url_without_a_password_is_written_into_the_script(write_spec, gate):
    url = "postgresql+psycopg://tuner@db.example:5432/studies"
    result = invoke("slurm", "--study", write_spec(gated_spec()), "--workers", "1", "--storage", url, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith(f"--study-name tiny-digits --storage {url} --threads 1 --device cpu")
    assert "AUTOTUNE_STORAGE" not in result.stdout


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--workers", "0"], ["--workers must be >= 1", "got 0"]),
        (["--workers", "2", "--time", "90m"], ["--time '90m' is not [DAYS-]HH:MM:SS"]),
        (["--workers", "2", "--cpus-per-worker", "0"], ["--cpus-per-worker must be >= 1"]),
        (["--workers", "2", "--gpus-per-worker", "-1"], ["--gpus-per-worker must be >= 0"]),
        (["--workers", "2", "--partition", "a b"], ["--partition 'a b'"]),
        (["--workers", "2", "--trials", "0"], ["--trials must be >= 1"]),
        (
            ["--workers", "2", "--storage", "sqlite:///shared.db"],
            ["sqlite:///shared.db: workers on the cluster's nodes cannot share a local SQLite file"],
        ),
    ],
)
def test_bad_options_are_one_error_line_and_nothing_is_written(write_spec, gate, tmp_path, args, fragments):
    spec = write_spec(gated_spec())
    before = files(tmp_path)
    result = invoke("slurm", "--study", spec, "--dry-run", *args)
    assert_one_error_line(result, *fragments)
    assert files(tmp_path) == before


def test_no_sbatch_on_path_is_one_error_line_and_nothing_is_written(write_spec, gate, tmp_path, monkeypatch):
    spec = write_spec(gated_spec())
    before = files(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = invoke("slurm", "--study", spec, "--workers", "2", "--storage", SECRET_URL)
    assert_one_error_line(result, "sbatch is not on PATH", "--dry-run")
    assert files(tmp_path) == before


def test_an_unwritable_script_folder_is_refused_before_the_study_is_created(write_spec, gate, tmp_path, monkeypatch):
    # a stand-in sbatch that must never run: the check comes first (and no database is contacted)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sbatch").write_text('#!/bin/sh\necho called >> "$0.log"\n')
    (fake / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    result = invoke(
        "slurm",
        "--study",
        write_spec(gated_spec()),
        "--workers",
        "2",
        "--storage",
        SECRET_URL,
        "--script",
        str(tmp_path / "missing" / "job.sbatch"),
    )
    assert_one_error_line(result, f"--script {tmp_path / 'missing' / 'job.sbatch'}: cannot write into")
    assert not (fake / "sbatch.log").exists()


# --------------------------------------------------------------------------------------
# On a real single-node Slurm cluster


@pytest.fixture
def slurm_cluster():
    """The local Slurm cluster (scripts/slurm.sh), answering `sinfo`."""
    ok = shutil.which("sbatch") and subprocess.run(["sinfo", "-h"], capture_output=True).returncode == 0
    if not ok:
        if os.environ.get("AUTOTUNE_REQUIRE_SLURM"):
            pytest.fail("AUTOTUNE_REQUIRE_SLURM is set but no Slurm cluster answers `sinfo` (scripts/slurm.sh start)")
        pytest.skip("no Slurm cluster: bash scripts/slurm.sh start DIR, then export the SLURM_CONF it prints")


def job_active(job: str) -> bool:
    out = subprocess.run(["squeue", "-h", "-j", job, "-o", "%i %T"], capture_output=True, text=True)
    return bool(out.stdout.strip())


def task_active(job: str, task: int) -> bool:
    out = subprocess.run(["squeue", "-h", "-j", job, "-o", "%i"], capture_output=True, text=True)
    return f"{job}_{task}" in out.stdout.split()


def submitted(result) -> str:
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("Submitted Slurm job array "), first
    return first.split()[4].rstrip(":")


def test_an_array_of_two_workers_ends_with_exactly_n_trials(slurm_cluster, pg_url, write_spec, gate, tmp_path):
    # a study named like a shipped spec, whose --pruner changes its fingerprint: the workers must train with the
    # study's own spec (the file written beside the script), neither spec.yaml nor the shipped mlp-digits
    spec = write_spec(gated_spec(name="mlp-digits", pruner={"name": "none"}))
    result = invoke(
        "slurm", "--study", spec, "--workers", "2", "--trials", "6", "--storage", pg_url, "--pruner", "median"
    )
    job = submitted(result)
    assert result.stdout.splitlines()[1:] == [
        f"Script: autotune-slurm-mlp-digits.sbatch (edit it and `sbatch` it again to add workers; the spec and the "
        "logs beside it, "
        f"autotune-mlp-digits-{job}_N.out).",
        f"Watch: squeue -j {job}; autotune report --study mlp-digits --storage {pg_url}; stop: scancel {job} "
        "(running trials are marked FAIL).",
    ]
    wait_for(lambda: not job_active(job), f"Slurm job {job} to end", timeout=600, every=0.2)
    trials = optuna.load_study(study_name="mlp-digits", storage=pg_url).trials
    assert len(trials) == 6 and {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}, [
        open(p).read() for p in tmp_path.glob("*.out")
    ]
    assert {t.user_attrs["slurm_job"] for t in trials} <= {f"{job}_0", f"{job}_1"}
    assert (tmp_path / "autotune-slurm-mlp-digits.sbatch").read_text().startswith("#!/bin/bash")
    written = yaml.safe_load((tmp_path / "autotune-slurm-mlp-digits.spec.yaml").read_text())
    assert written["name"] == "mlp-digits" and written["pruner"]["name"] == "median"


def test_scancel_of_a_task_mid_trial_leaves_the_study_exact(slurm_cluster, pg_url, write_spec, gate, tmp_path):
    spec = write_spec(gated_spec(pruner={"name": "none"}))
    gate.hold()  # every worker's first trial waits mid-training
    job = submitted(invoke("slurm", "--study", spec, "--workers", "2", "--trials", "4", "--storage", pg_url))
    wait_for(
        lambda: len(gate.blocked()) == 2, "both array tasks' trials to be held mid-training", timeout=600, every=0.1
    )

    def running_of_task(task: int):
        return [
            t
            for t in optuna.load_study(study_name="tiny-digits", storage=pg_url).trials
            if t.state.name == "RUNNING" and t.user_attrs.get("slurm_job") == f"{job}_{task}"
        ]

    (victim,) = wait_for(lambda: running_of_task(1), f"task {job}_1's running trial")
    pid = next(p for p in gate.blocked() if worker_name(p) == victim.user_attrs["worker"])
    subprocess.run(["scancel", f"{job}_1"], check=True)
    wait_for(lambda: not task_active(job, 1), f"task {job}_1 to end", timeout=120, every=0.1)
    gate.forget(pid)
    gate.release()
    wait_for(lambda: not job_active(job), f"Slurm job {job} to end", timeout=600, every=0.2)
    trials = optuna.load_study(study_name="tiny-digits", storage=pg_url).trials
    states = [t.state.name for t in trials]
    assert states.count("COMPLETE") == 4 and states.count("FAIL") == 1, states
    failed = next(t for t in trials if t.state.name == "FAIL")
    assert failed.number == victim.number and failed.user_attrs["slurm_job"] == f"{job}_1"
    # a rerun of the same script (as a user would resubmit it) finds the target met and adds nothing
    again = subprocess.run(
        ["sbatch", "--parsable", str(tmp_path / "autotune-slurm-tiny-digits.sbatch")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    wait_for(lambda: not job_active(again), f"Slurm job {again} to end", timeout=600, every=0.2)
    after = optuna.load_study(study_name="tiny-digits", storage=pg_url).trials
    assert [t.state.name for t in after] == states


def test_the_python_api_writes_the_same_script_as_the_command(write_spec, gate):
    import autotune

    spec = write_spec(gated_spec())
    job = autotune.submit_slurm(spec, workers=2, n_trials=8, storage=SECRET_URL, dry_run=True)
    assert (job.job_id, job.path, job.study, job.target, job.storage) == (
        None,
        None,
        "tiny-digits",
        8,
        "postgresql+psycopg://tuner:***@db.invalid:5432/studies",
    )
    cli = invoke("slurm", "--study", spec, "--workers", "2", "--trials", "8", "--storage", SECRET_URL, "--dry-run")
    assert job.script == cli.stdout
