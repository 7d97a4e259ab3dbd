"""optuna-dashboard on a real study: HTTP API, artifacts byte-identical, notes, a real browser, errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
import pytest
import torch
import yaml
from click.testing import CliRunner

from autotune.cli.commands import cli
from autotune.data.datasets import load_splits
from autotune.execution.runner import run_study
from autotune.reporting.dashboard import exposure_warning
from autotune.spec.study import parse_spec
from autotune.storage.replays import ReplayStore
from autotune.storage.studies import study_note
from autotune.training.loop import evaluate
from autotune.training.models import build_model
from tests.conftest import empty_study, free_port, invoke, tiny_digits_spec

pytestmark = pytest.mark.slow
STORAGE = "sqlite:///autotune.db"


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


@pytest.fixture
def study():
    spec = parse_spec(tiny_digits_spec(pruner={"name": "none"}))
    run_study(spec, n_trials=3, storage=STORAGE)
    return optuna.load_study(study_name="tiny-digits", storage=STORAGE)


def start_dashboard(cwd: Path) -> tuple[str, subprocess.Popen]:
    """`autotune dashboard` on ./autotune.db of ``cwd``, once its API answers: (base URL, process)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "autotune.cli", "dashboard", "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            get(base + "/api/meta")
            return base, proc
        except OSError:
            assert proc.poll() is None, proc.communicate()
            assert time.time() < deadline, "dashboard did not start"
            time.sleep(0.2)


def stop_dashboard(proc: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, as a user stops it; returns its (stdout, stderr)."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    return out, err


@pytest.fixture
def dashboard(study, tmp_path):
    base, proc = start_dashboard(tmp_path)
    yield base, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def chromium_dom(url: str, tmp_path: Path) -> str:
    """The page at ``url`` as headless Chromium renders it (the DOM after its scripts ran)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("AUTOTUNE_REQUIRE_CHROMIUM"):
            pytest.fail("AUTOTUNE_REQUIRE_CHROMIUM is set but chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chr'}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout


def test_api_lists_the_study_with_its_trials_and_stops_on_ctrl_c(dashboard, study):
    base, proc = dashboard
    (summary,) = json.loads(get(base + "/api/studies"))["study_summaries"]
    assert summary["study_name"] == "tiny-digits"
    detail = json.loads(get(f"{base}/api/studies/{summary['study_id']}"))
    assert len(detail["trials"]) == len(study.trials) == 3
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "at http://127.0.0.1:" in out and "Dashboard stopped." in out


def test_artifacts_download_byte_identical_through_the_dashboard(dashboard, study, tmp_path):
    base, _ = dashboard
    store_dir = tmp_path / "autotune-artifacts"
    for trial in study.trials:
        artifact_id = trial.user_attrs["curve_artifact"]
        served = get(f"{base}/artifacts/{study._study_id}/{trial._trial_id}/{artifact_id}")
        assert served == (store_dir / artifact_id).read_bytes()
        curve = json.loads(served)
        assert curve["val_accuracy"] == [trial.intermediate_values[e] for e in curve["epoch"]]
    best = study.best_trial
    served = get(f"{base}/artifacts/{study._study_id}/{best._trial_id}/{best.user_attrs['checkpoint_artifact']}")
    assert served == (store_dir / best.user_attrs["checkpoint_artifact"]).read_bytes()
    ckpt_path = tmp_path / "best.pt"
    ckpt_path.write_bytes(served)
    ckpt = torch.load(ckpt_path, weights_only=True)
    model = build_model(
        ckpt["model"]["family"],
        input_shape=tuple(ckpt["model"]["input_shape"]),
        n_outputs=ckpt["model"]["n_outputs"],
        config=ckpt["model"]["config"],
    )
    model.load_state_dict(ckpt["state_dict"])
    spec = ckpt["spec"]
    splits = load_splits(spec["dataset"], validation_size=spec["validation_size"], seed=spec["seed"])
    _, accuracy = evaluate(model, splits.val, classification=True)
    assert accuracy == best.value  # the checkpoint is the best trial's network, exactly


def test_study_and_trials_carry_notes_and_attributes(study):
    from optuna_dashboard import get_note

    assert "tiny-digits" in get_note(study) and "```yaml" in get_note(study)
    for trial in study.trials:
        note = get_note(optuna.Trial(study, trial._trial_id))  # get_note wants a live Trial
        assert trial.user_attrs["remark"] in note
        assert str(trial.user_attrs["seed"]) in note
        assert {"seed", "remark", "worker", "val_accuracy", "train_loss"} <= set(trial.user_attrs)
    assert study.user_attrs["spec"]["name"] == "tiny-digits"
    assert study.metric_names == ["val_accuracy"]


def test_a_new_study_carries_its_spec_in_words_as_its_note(write_spec):
    from optuna_dashboard import get_note

    study = empty_study(write_spec(tiny_digits_spec(description="Digits, tiny: the test study.")))
    note = get_note(study)
    readable, yaml_part = note.split("Full spec (the study's `spec` attribute):\n\n")
    fingerprint = study.user_attrs["spec_fingerprint"]
    assert readable.splitlines() == [
        "## tiny-digits",
        "",
        "Digits, tiny: the test study.",
        "",
        f"- Spec: tiny-digits (fingerprint {fingerprint})",
        "- Dataset: digits; validation: 20% of the training data, drawn with seed 7",
        "- Model: mlp",
        "- Objective: maximize val_accuracy",
        "- Budget: 4 trials in the spec (`autotune run --trials N` sets another target), at most 3 epochs each",
        "- Sampler: tpe (multivariate=false, n_startup_trials=3)",
        "- Pruner: median (n_startup_trials=2, n_warmup_steps=0)",
        "- Fixed: optimizer=adam",
        "",
        "Search space:",
        "",
        "- lr: 0.001 to 0.03 (log scale)",
        "- batch_size: one of 64, 128",
        "- n_layers: 1 to 2 (integers)",
        "- units: 16 to 64 (integers), per layer",
        "- activation: one of relu, tanh",
        "",
        "Report and export:",
        "",
        "- `autotune report --study tiny-digits`: tables, figures and analysis",
        "- `autotune export --study tiny-digits`: the best configuration and a final model",
        "- `autotune replay --study tiny-digits --trial best`: the best configuration again, over several seeds",
        "- `autotune ablate --study tiny-digits`: what each part of the best configuration is worth",
        "",
        "A trial whose user attribute `source` is `hand` is a row imported from a hand table: its values come from "
        "that table's own training budget, so autotune's commands never take it as the best (the dashboard's own "
        '"best trial" box compares every trial and may show one).',
        "",
    ]
    assert yaml_part.startswith("```yaml\n") and yaml_part.endswith("\n```\n")
    assert yaml.safe_load(yaml_part.removeprefix("```yaml\n").removesuffix("```\n")) == study.user_attrs["spec"]
    assert study.user_attrs["spec"]["name"] == "tiny-digits"  # the attribute other code reads stays


def test_the_note_names_a_server_storage_without_its_password():
    spec = parse_spec(tiny_digits_spec(pruner={"name": "none"}, space={"dropout": {"low": 0.0, "high": 0.5}}))
    note = study_note(spec, study_name="other-name", storage_url="postgresql+psycopg://tuner:s3cret@db:5432/studies")
    assert "s3cret" not in note
    assert "- `autotune report --study other-name --storage URL`: tables, figures and analysis" in note.splitlines()
    assert (
        "- (URL: postgresql+psycopg://tuner:***@db:5432/studies with its password, which is not printed)"
        in note.splitlines()
    )
    assert "- Spec: tiny-digits (fingerprint " + spec.fingerprint() + ")" in note.splitlines()
    assert "- Pruner: none (every trial trains to the end)" in note.splitlines()
    assert "- dropout: 0 to 0.5" in note.splitlines()


def test_chromium_renders_the_study_page(dashboard, study, tmp_path):
    base, _ = dashboard
    dom = chromium_dom(f"{base}/dashboard/studies/{study._study_id}", tmp_path)
    assert "tiny-digits" in dom, dom[:2000]
    note = chromium_dom(f"{base}/dashboard/studies/{study._study_id}/note", tmp_path)
    for line in (
        "Search space:",
        "lr: 0.001 to 0.03 (log scale)",
        "Objective: maximize val_accuracy",
        "autotune report --study tiny-digits",
    ):
        assert line in note, note[:2000]


def test_replay_stores_are_left_out_of_the_study_list_and_still_open(study, tmp_path):
    """The home page listed tiny-digits:replays as a study, first (it sorts newest first)."""
    assert invoke("replay", "--study", "tiny-digits", "--trial", "best").exit_code == 0
    replays = optuna.load_study(study_name="tiny-digits:replays", storage=STORAGE)
    base, proc = start_dashboard(tmp_path)
    try:
        listed = json.loads(get(base + "/api/studies"))["study_summaries"]
        assert [(s["study_id"], s["study_name"]) for s in listed] == [(study._study_id, "tiny-digits")]
        detail = json.loads(get(f"{base}/api/studies/{replays._study_id}"))  # its page still opens
        assert detail["name"] == "tiny-digits:replays" and len(detail["trials"]) == 1
        ReplayStore(optuna.storages.RDBStorage(STORAGE), "later")  # made while the dashboard runs: left out too
        assert [s["study_name"] for s in json.loads(get(base + "/api/studies/"))["study_summaries"]] == ["tiny-digits"]
        home = chromium_dom(f"{base}/dashboard", tmp_path)
        assert "tiny-digits" in home and ":replays" not in home, home[:2000]
        page = chromium_dom(f"{base}/dashboard/studies/{replays._study_id}", tmp_path)
        assert "tiny-digits:replays" in page, page[:2000]
    finally:
        out, _ = stop_dashboard(proc)
    assert out.splitlines() == [
        f"optuna-dashboard for sqlite:///autotune.db at {base}/ (artifacts: autotune-artifacts); press Ctrl-C to stop",
        f"Replay stores hidden from the study list: 1 (runs of replay, ablate and sweep); each still opens at its "
        f"address: tiny-digits:replays at {base}/dashboard/studies/{replays._study_id}",
        "Dashboard stopped.",
    ]


def test_port_in_use_is_one_clear_error(study):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = CliRunner().invoke(cli, ["dashboard", "--port", str(port)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: port {port} on 127.0.0.1 is already in use; choose another with --port"
    ]


def test_missing_storage_is_one_clear_error():
    result = CliRunner().invoke(cli, ["dashboard", "--storage", "sqlite:///missing.db"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: no study database at 'missing.db' (storage 'sqlite:///missing.db')"
    ]
    assert not Path("missing.db").exists()


def test_non_loopback_hosts_warn():
    assert exposure_warning("127.0.0.1", 8080) is None
    assert exposure_warning("localhost", 8080) is None
    assert exposure_warning("::1", 8080) is None
    warning = exposure_warning("0.0.0.0", 8080)
    assert warning.startswith("Warning: serving on 0.0.0.0:8080, not loopback.")
    assert "no authentication" in warning


def test_run_with_dashboard_starts_and_stops_it(write_spec):
    port = free_port()
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--study",
            write_spec(tiny_digits_spec()),
            "--trials",
            "2",
            "-q",
            "--dashboard",
            "--dashboard-port",
            str(port),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert f"optuna-dashboard: http://127.0.0.1:{port}/" in result.stderr
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # stopped afterwards
