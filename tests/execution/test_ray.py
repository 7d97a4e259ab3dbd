"""`autotune run --ray`: its checks, and real runs on a local Ray cluster.

The cluster is a real Ray head started once for this module (`ray start --head` on 127.0.0.1 with 2 CPUs
and its own temp folder) and stopped at its end. Without Ray the tests that need it are skipped, unless
$AUTOTUNE_REQUIRE_RAY is set (as in CI). The real runs use the CI PostgreSQL server: Ray's workers may
run on other hosts, which cannot share an SQLite file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest

from tests.conftest import (
    assert_one_error_line,
    files,
    free_port,
    gated_spec,
    invoke,
    running_trial_of,
    wait_for,
    worker_name,
)

#: A storage that is never reached: every check below fails before the study would be created in it.
UNREACHED_URL = "postgresql+psycopg://tuner@db.invalid:5432/studies"


@pytest.fixture(scope="module")
def ray_installed():
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("AUTOTUNE_REQUIRE_RAY"):
            pytest.fail("AUTOTUNE_REQUIRE_RAY is set but Ray is not installed (pip install -e '.[ray]')")
        pytest.skip("Ray is not installed (pip install -e '.[ray]')")


@dataclass(frozen=True)
class RayHead:
    address: str
    node_id: str


@pytest.fixture(scope="module")
def ray_head(ray_installed, tmp_path_factory):
    """A real single-node Ray cluster for this module: `ray start --head` in its own process group, so that
    stopping it ends this cluster's processes (GCS, raylet, workers) and no other Ray on the machine."""
    ray_cli = Path(sys.executable).with_name("ray")
    port = free_port()
    temp = tmp_path_factory.mktemp("ray")
    log = temp / "ray-start.log"
    with log.open("w") as out:  # a file, not a pipe: the daemons `ray start` leaves behind would hold a pipe open
        start = subprocess.Popen(
            [
                str(ray_cli) if ray_cli.exists() else "ray",
                "start",
                "--head",
                "--node-ip-address=127.0.0.1",
                f"--port={port}",
                "--num-cpus=2",
                "--num-gpus=0",
                "--include-dashboard=false",
                "--disable-usage-stats",
                f"--temp-dir={temp}",
                "--object-store-memory=100000000",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # the tasks get each run's AUTOTUNE_* variables from the run itself (runtime_env), not from the head
            env={k: v for k, v in os.environ.items() if not k.startswith("AUTOTUNE_")},
        )
    try:
        assert start.wait(timeout=120) == 0, log.read_text()
        address = f"127.0.0.1:{port}"
        node = subprocess.run(
            [
                sys.executable,
                "-c",
                "import logging, sys, ray; "
                "ray.init(address=sys.argv[1], logging_level=logging.ERROR); "
                "print(ray.get_runtime_context().get_node_id())",
                address,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert node.returncode == 0, node.stderr
        yield RayHead(address, node.stdout.strip().splitlines()[-1])
    finally:
        # the cluster's processes share the process group of `ray start`; `ray stop --force` would end every
        # Ray on the machine
        with contextlib.suppress(ProcessLookupError):
            os.killpg(start.pid, signal.SIGKILL)


def test_ray_is_never_imported_by_autotune_or_run_help():
    code = (
        "import sys, autotune; from click.testing import CliRunner; from autotune.cli.commands import cli; "
        "autotune.run_on_ray; assert CliRunner().invoke(cli, ['run', '--help']).exit_code == 0; "
        "assert 'ray' not in sys.modules, 'ray imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------
# Bad input: one Error line, nothing written, the storage never reached


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--workers", "0"], ["Invalid value for '--workers'", "0 is not in the range x>=1"]),
        (["--workers", "2", "--cpus-per-worker", "0"], ["--cpus-per-worker must be a whole number >= 1", "got 0"]),
        (["--workers", "2", "--cpus-per-worker", "1.5"], ["'1.5' is not a valid integer"]),
        (["--workers", "2", "--gpus-per-worker", "-1"], ["--gpus-per-worker must be >= 0, got -1"]),
        (
            ["--workers", "2", "--gpus-per-worker", "1.5"],
            ["--gpus-per-worker 1.5: Ray gives a task a fraction of one GPU"],
        ),
        (["--workers", "2", "--threads", "2"], ["--threads does not go with --ray; use --cpus-per-worker"]),
        (["--workers", "2", "--device", "cuda"], ["--device does not go with --ray; use --gpus-per-worker"]),
        (["--workers", "2", "--trials-per-gpu", "2"], ["--trials-per-gpu does not go with --ray"]),
        (["--workers", "auto"], ["--ray needs --workers K, the number of Ray tasks"]),
    ],
)
def test_bad_options_are_one_error_line_and_nothing_is_written(write_spec, gate, tmp_path, args, fragments):
    spec = write_spec(gated_spec())
    before = files(tmp_path)
    result = invoke("run", "--study", spec, "--ray", "127.0.0.1:1", "--storage", UNREACHED_URL, *args)
    assert_one_error_line(result, *fragments)
    assert files(tmp_path) == before


def test_sqlite_is_refused(write_spec, gate, tmp_path, ray_installed):
    spec = write_spec(gated_spec())
    before = files(tmp_path)
    result = invoke(
        "run", "--study", spec, "--ray", "127.0.0.1:1", "--workers", "2", "--storage", "sqlite:///shared.db"
    )
    assert_one_error_line(
        result, "--storage sqlite:///shared.db: workers on the Ray cluster's nodes cannot share a local SQLite file"
    )
    assert files(tmp_path) == before


@pytest.mark.parametrize("address", ["head-node", "head:port", "http://head:6379", "127.0.0.1:99999"])
def test_an_address_that_is_not_host_port_is_refused(write_spec, gate, ray_installed, address):
    result = invoke(
        "run", "--study", write_spec(gated_spec()), "--ray", address, "--workers", "2", "--storage", UNREACHED_URL
    )
    assert_one_error_line(result, f"--ray {address!r}: give the head's HOST:PORT")


def test_cluster_options_without_ray_are_refused(write_spec, gate, tmp_path):
    spec = write_spec(gated_spec())
    before = files(tmp_path)
    result = invoke("run", "--study", spec, "--gpus-per-worker", "0.5")
    assert_one_error_line(result, "--gpus-per-worker goes with --ray")
    assert files(tmp_path) == before


def test_ray_not_installed_says_how_to_install_it(write_spec, gate, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails, as where it is not installed
    spec = write_spec(gated_spec())
    before = files(tmp_path)
    result = invoke("run", "--study", spec, "--ray", "auto", "--workers", "2", "--storage", UNREACHED_URL)
    assert_one_error_line(result, "Ray is not installed here: pip install 'autotune[ray]'")
    assert files(tmp_path) == before


def test_an_address_where_nothing_listens_fails_at_once(write_spec, gate, tmp_path, ray_installed):
    address = f"127.0.0.1:{free_port()}"
    spec = write_spec(gated_spec())
    before = files(tmp_path)
    started = time.monotonic()
    result = invoke("run", "--study", spec, "--ray", address, "--workers", "2", "--storage", UNREACHED_URL)
    assert_one_error_line(result, f"--ray {address}: no Ray cluster answers there (Connection refused)")
    assert time.monotonic() - started < 10  # Ray's own ray.init would retry for minutes
    assert files(tmp_path) == before


def test_auto_takes_ray_address_from_the_environment(write_spec, gate, tmp_path, ray_installed, monkeypatch):
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    result = invoke(
        "run", "--study", write_spec(gated_spec()), "--ray", "auto", "--workers", "2", "--storage", UNREACHED_URL
    )
    assert_one_error_line(result, f"--ray {address}: no Ray cluster answers there (Connection refused)")


def test_a_port_that_is_not_a_ray_cluster_fails_within_the_connect_timeout(
    write_spec, gate, tmp_path, ray_installed, monkeypatch
):
    from autotune.execution import ray_cluster

    monkeypatch.setattr(ray_cluster, "CONNECT_TIMEOUT", 3.0)
    spec = write_spec(gated_spec())
    before = files(tmp_path)
    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        result = invoke("run", "--study", spec, "--ray", address, "--workers", "2", "--storage", UNREACHED_URL)
    assert_one_error_line(result, f"--ray {address}: no Ray cluster answered within 3 s")
    assert files(tmp_path) == before


def test_a_worker_no_node_can_take_is_refused_before_the_study_is_created(ray_head, write_spec, gate, tmp_path):
    spec = write_spec(gated_spec())
    before = files(tmp_path)
    result = invoke(
        "run",
        "--study",
        spec,
        "--ray",
        ray_head.address,
        "--workers",
        "2",
        "--gpus-per-worker",
        "0.5",
        "--storage",
        UNREACHED_URL,
    )
    assert_one_error_line(
        result,
        f"no node of the Ray cluster at {ray_head.address} can take a worker of 1 CPU and "
        "0.5 GPU (its nodes: 2 CPU, 0 GPU)",
    )
    assert files(tmp_path) == before


def test_after_ctrl_c_the_command_fails_the_trials_its_tasks_left_running_and_no_others(tmp_path):
    from autotune.execution.ray_workers import fail_left_running

    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=url)
    for run_id in ("ours", "ours", "theirs", None):  # two trials of this command's tasks, one of another's, one by hand
        trial = study.ask()
        if run_id:
            trial.set_user_attr("ray_run", run_id)
    study.tell(1, 0.5)  # one of ours finished on its own
    assert fail_left_running(url, "s", "ours", deadline=time.monotonic()) == [0]
    assert [t.state.name for t in study.get_trials()] == ["FAIL", "COMPLETE", "RUNNING", "RUNNING"]
    # nothing of ours left RUNNING: it returns at once, however far off the deadline
    assert fail_left_running(url, "s", "ours", deadline=time.monotonic() + 3600) == []
    assert [t.state.name for t in study.get_trials()] == ["FAIL", "COMPLETE", "RUNNING", "RUNNING"]


# --------------------------------------------------------------------------------------
# On a real local Ray cluster, against PostgreSQL


def trials_of(url: str):
    return optuna.load_study(study_name="tiny-digits", storage=url).trials


@pytest.mark.slow
def test_two_ray_workers_end_with_exactly_n_trials_and_the_api_tops_the_study_up(ray_head, pg_url, write_spec, gate):
    spec = write_spec(gated_spec(pruner={"name": "none"}))
    result = invoke(
        "run", "--study", spec, "--ray", ray_head.address, "--workers", "2", "--trials", "6", "--storage", pg_url, "-q"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"Study 'tiny-digits' in {pg_url}: 6 of 6 finished trials (6 complete); 6 finished during this command ("
    ), result.stdout
    trials = trials_of(pg_url)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 6
    assert {t.user_attrs["ray_node"] for t in trials} == {ray_head.node_id}  # where each trial ran
    assert {t.user_attrs["threads"] for t in trials} == {1}  # --cpus-per-worker 1: one torch thread
    assert worker_name(os.getpid()) not in {t.user_attrs["worker"] for t in trials}  # in Ray's processes

    import autotune

    summary = autotune.run_on_ray(spec, address=ray_head.address, workers=1, n_trials=8, storage=pg_url)
    assert (summary.finished_before, summary.finished, summary.target, summary.workers) == (6, 8, 8, 1)
    assert [t.state.name for t in trials_of(pg_url)] == ["COMPLETE"] * 8


def held_run(spec: str, address: str, url: str, gate) -> subprocess.Popen:
    """`run --ray ADDRESS --workers 2 --trials 4` in a process, returned once both workers' trials are held at
    the gate mid-training."""
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autotune.cli",
            "run",
            "--study",
            spec,
            "--ray",
            address,
            "--workers",
            "2",
            "--trials",
            "4",
            "--storage",
            url,
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: len(gate.blocked()) == 2,
            "both Ray workers' trials to be held mid-training",
            procs=[driver],
            every=0.1,
        )
    except BaseException:
        driver.kill()
        raise
    return driver


@pytest.mark.slow
def test_a_ray_worker_killed_mid_trial_is_retried_and_the_study_stays_exact(
    ray_head, pg_url, write_spec, gate, monkeypatch
):
    # the tasks get the AUTOTUNE_* variables of the command's environment: a dead trial is failed within seconds
    monkeypatch.setenv("AUTOTUNE_GRACE_PERIOD", "2")
    monkeypatch.setenv("AUTOTUNE_HEARTBEAT_INTERVAL", "1")
    spec = write_spec(gated_spec(pruner={"name": "none"}))
    gate.hold()  # each worker's first trial waits mid-training
    driver = held_run(spec, ray_head.address, pg_url, gate)
    try:
        pid = min(gate.blocked())
        killed = running_trial_of(pg_url, pid)  # a Ray worker process runs it (its pid is in `worker`)
        assert killed.user_attrs["ray_node"] == ray_head.node_id
        os.kill(pid, signal.SIGKILL)
        gate.forget(pid)
        gate.release()
        out, err = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
    # exit 0: Ray started the killed task again (without a retry its crash would be this command's error)
    assert driver.returncode == 0, err
    trials = trials_of(pg_url)
    states = [t.state.name for t in trials]
    assert states.count("COMPLETE") == 4 and states.count("FAIL") == 1 and len(states) == 5, states
    assert trials[killed.number].state.name == "FAIL"
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].params == killed.params  # its parameters, run again
    assert out.startswith(
        f"Study 'tiny-digits' in {pg_url}: 4 of 4 finished trials (4 complete); not counted: "
        "1 fail; 4 finished during this command ("
    ), out


@pytest.mark.slow
@pytest.mark.parametrize("deaf", [False, True], ids=["tasks-answer", "tasks-ignore-the-cancel"])
def test_ctrl_c_cancels_the_tasks_and_their_running_trials_are_marked_fail(
    ray_head, pg_url, write_spec, gate, monkeypatch, deaf
):
    if deaf:  # the held trials swallow the KeyboardInterrupt Ray's cancel raises: only the command can fail them
        monkeypatch.setenv("AUTOTUNE_TEST_GATE_DEAF", "1")
        monkeypatch.setenv("AUTOTUNE_RAY_CANCEL_SECONDS", "2")
    spec = write_spec(gated_spec(pruner={"name": "none"}))
    gate.hold()
    driver = held_run(spec, ray_head.address, pg_url, gate)
    try:
        held = gate.blocked()
        driver.send_signal(signal.SIGINT)
        out, err = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130, err
    assert err.strip().splitlines()[-1] == (
        "Error: interrupted: the Ray tasks of study 'tiny-digits' were cancelled "
        "and their running trials marked FAIL; run the same command again to "
        "continue"
    )
    trials = trials_of(pg_url)
    assert [t.state.name for t in trials] == ["FAIL", "FAIL"]
    assert {t.user_attrs["worker"] for t in trials} == {worker_name(pid) for pid in held}
    assert len({t.user_attrs["ray_run"] for t in trials}) == 1  # both tasks were started by this command
