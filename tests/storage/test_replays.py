"""Replays on real digits studies: exact reproduction, overrides, reuse, bad input (ablate and sweep too)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from click.testing import CliRunner

import autotune
from autotune.cli.commands import cli
from autotune.spec.study import load_spec
from autotune.storage.replays import run_key
from tests.conftest import file_digest, invoke, tiny_digits_spec
from tests.conftest import stored_study as _study


def test_replay_reproduces_the_stored_trial_exactly(study_path):
    result = invoke("replay", "--study", study_path, "--trial", "best")
    assert result.exit_code == 0, result.output
    best = _study().best_trial
    assert (
        f"Reproduced exactly: val_accuracy {best.value!r} equals the stored value of trial {best.number}."
        in result.stdout
    )
    record = _study("tiny-digits:replays").trials[0]
    assert record.user_attrs["source_trial"] == best.number and record.user_attrs["overrides"] == []
    out = result.stdout.splitlines()
    assert out[0] == f"Note: 'best' is trial {best.number}, the search's best of autotune's trials (one seed each)"
    head, row = out[1].split(), out[2].split()  # accuracies in percent, as every text output prints them (#31)
    assert head == [
        "seed",
        "epochs",
        "train",
        "loss",
        "train",
        "acc",
        "(%)",
        "val",
        "loss",
        "val",
        "acc",
        "(%)",
        "seconds",
    ]
    assert (
        row[5] == f"{best.user_attrs['val_accuracy'] * 100:.2f}"
        and row[3] == f"{best.user_attrs['train_accuracy'] * 100:.2f}"
    )


def test_overrides_change_the_result_and_are_recorded(study_path):
    best = _study().best_trial
    out = json.loads(
        invoke(
            "replay",
            "--study",
            study_path,
            "--trial",
            str(best.number),
            "--set",
            "lr=0.9",
            "--set",
            "activation=tanh",
            "--seeds",
            "2",
            "--json",
        ).stdout
    )
    assert out["config"]["lr"] == 0.9 and out["config"]["activation"] == "tanh"
    assert "lr=0.9 is outside the search space ([0.001, 0.03])" in out["notes"]
    assert len(out["runs"]) == 2 and out["runs"][0]["seed"] == best.user_attrs["seed"]
    assert out["runs"][0]["val_accuracy"] != best.value
    assert out["reproduction"] is None  # overridden: no exactness claim
    records = _study("tiny-digits:replays").trials
    assert [r.user_attrs["overrides"] for r in records] == [["lr=0.9", "activation=tanh"]] * 2
    assert {r.user_attrs["run"]["seed"] for r in records} == {r["seed"] for r in out["runs"]}


def test_replays_are_reused_not_recomputed(study_path):
    first = json.loads(invoke("replay", "--study", study_path, "--trial", "0", "--seeds", "2", "--json").stdout)
    again = json.loads(invoke("replay", "--study", study_path, "--trial", "0", "--seeds", "2", "--json").stdout)
    assert [r["reused"] for r in first["runs"]] == [False, False]
    assert [r["reused"] for r in again["runs"]] == [True, True]
    assert [r["val_accuracy"] for r in again["runs"]] == [r["val_accuracy"] for r in first["runs"]]
    assert len(_study("tiny-digits:replays").trials) == 2


def test_replay_a_config_file_without_any_study(write_spec, tmp_path):
    cfg = tmp_path / "row.yaml"
    cfg.write_text("lr: 0.01\nbatch_size: 32\nunits: [64, 32]\ninit: normal\noptimizer: sgd_momentum\n")
    result = invoke("replay", "--study", write_spec(tiny_digits_spec()), "--config", str(cfg), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["config"]["units"] == [64, 32] and out["config"]["n_layers"] == 2
    assert out["config"]["init"] == "normal" and out["runs"][0]["val_accuracy"] > 0.5
    assert not Path("autotune.db").exists()


def test_pruned_trial_replay_is_allowed_but_noted(write_spec):
    spec = tiny_digits_spec(
        space={"lr": {"low": 1e-5, "high": 0.5, "log": True}},
        sampler={"name": "random"},
        pruner={"name": "median", "n_startup_trials": 1, "n_warmup_steps": 0},
    )
    path = write_spec(spec)
    invoke("run", "--study", path, "--trials", "8", "-q")
    pruned = [t for t in _study().trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "the spec is meant to prune at least one trial"
    result = invoke("replay", "--study", path, "--trial", str(pruned[0].number), "--epochs", "1")
    assert result.exit_code == 0
    assert f"Note: trial {pruned[0].number} is pruned: replaying the parameters it had" in result.stdout


BAD = [
    (["replay", "--trial", "99"], "has no trial 99; trials are 0..2"),
    (["replay", "--trial", "first"], "--trial must be a trial number or 'best', got 'first'"),
    (["replay", "--trial", "0", "--set", "momentum=0.9"], "--set: unknown parameter 'momentum'; allowed: lr,"),
    (["replay", "--trial", "0", "--set", "lr=fast"], "--set: lr: must be a number > 0"),
    (["replay", "--trial", "0", "--set", "batch_size=[1,"], "--set batch_size: cannot parse value '[1,'"),
    (["replay", "--trial", "0", "--set", "lr"], "--set 'lr' is not KEY=VALUE"),
    (["replay", "--trial", "0", "--seeds", "0"], "Invalid value for '--seeds': 0 is not >= 1"),
    (["replay"], "give exactly one of --trial N|best and --config FILE"),
    (["ablate", "--seeds", "0"], "Invalid value for '--seeds': 0 is not >= 1"),
    (["sweep", "--param", "colour", "--values", "1,2"], "--values: unknown parameter 'colour'"),
    (["sweep", "--param", "lr", "--values", "0.1,abc"], "--values: lr: must be a number > 0"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[m for _, m in BAD])
def test_bad_input_is_one_line_and_writes_nothing(study_path, args, message):
    before = file_digest(Path("autotune.db"))
    result = CliRunner().invoke(cli, [*args[:1], "--study", study_path, *args[1:]])
    assert result.exit_code != 0
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and message in line, line
    assert file_digest(Path("autotune.db")) == before
    assert not Path("ablation-tiny-digits").exists() and not Path("sweep-tiny-digits").exists()


def test_config_file_must_be_a_mapping(study_path, tmp_path):
    cfg = tmp_path / "list.yaml"
    cfg.write_text("- 1\n- 2\n")
    result = CliRunner().invoke(cli, ["replay", "--study", study_path, "--config", str(cfg)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: config file '{cfg}' must hold a mapping of parameter to value, got list"


def test_train_subset_shrinks_the_budget_and_is_recorded_apart(study_path):
    full = json.loads(invoke("replay", "--study", study_path, "--trial", "0", "--epochs", "1", "--json").stdout)
    small = json.loads(
        invoke(
            "replay", "--study", study_path, "--trial", "0", "--epochs", "1", "--train-subset", "100", "--json"
        ).stdout
    )
    assert not small["runs"][0]["reused"]  # a different budget is a different run
    assert small["runs"][0]["val_accuracy"] != full["runs"][0]["val_accuracy"]
    assert len(_study("tiny-digits:replays").trials) == 2


def test_a_bf16_trial_replays_bit_exactly_in_its_recorded_precision(bf16_cpu, write_spec):
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}, precision="bf16"))
    assert invoke("run", "--study", path, "--trials", "2", "-q").exit_code == 0
    trials = _study().trials
    assert [t.user_attrs["precision"] for t in trials] == ["bf16", "bf16"]
    best = _study().best_trial
    out = json.loads(invoke("replay", "--study", path, "--trial", str(best.number), "--json").stdout)
    (run,) = out["runs"]
    assert run["precision"] == "bf16" and not run["reused"]
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert run[key] == best.user_attrs[key], key  # every figure, not the metric alone
    assert out["reproduction"] == (
        f"Reproduced exactly: val_accuracy {best.value!r} equals the stored value of trial {best.number}."
    )
    # the same configuration and seed in fp32 gives other numbers: the recorded precision is what reproduces
    fp32 = autotune.replay_config(
        replace(load_spec(path), precision="fp32"), out["config"], first_seed=best.user_attrs["seed"]
    )
    assert fp32.runs[0].precision == "fp32" and fp32.runs[0].val_loss != best.user_attrs["val_loss"]


def test_replaying_a_bf16_trial_on_a_cpu_without_bf16_units_says_it_is_emulated(bf16_here, write_spec):
    from autotune.hardware import precision

    path = write_spec(tiny_digits_spec(pruner={"name": "none"}, precision="bf16"))
    bf16_here(True)  # the study ran where bf16 is in hardware ...
    assert invoke("run", "--study", path, "--trials", "1", "-q").exit_code == 0
    bf16_here(False)  # ... and is replayed where it is not
    result = invoke("replay", "--study", path, "--trial", "0", "--seeds", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"Note: {precision.emulation_note('bf16', 'trial 0')}"
    lines = result.stdout.splitlines()
    assert sum(line.startswith("Note:") for line in lines) == 1  # once per command, not once per seed
    assert lines[-1].startswith("Reproduced exactly: ")  # the same kernels here as when it ran: a note, no refusal


def test_a_fused_trial_replays_bit_exactly_with_its_recorded_step(write_spec):
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}, fixed={"optimizer": "adam", "augment": True}))
    assert invoke("run", "--study", path, "--trials", "2", "--step", "fused", "-q").exit_code == 0
    trials = _study().trials
    assert [t.user_attrs["step"] for t in trials] == ["fused", "fused"]
    assert "step" not in load_spec(path).to_dict()  # the option, not the file, chose it
    best = _study().best_trial
    out = json.loads(invoke("replay", "--study", path, "--trial", str(best.number), "--json").stdout)
    (run,) = out["runs"]
    assert run["step"] == "fused" and not run["reused"]
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert run[key] == best.user_attrs[key], key  # every figure, not the metric alone
    assert out["reproduction"] == (
        f"Reproduced exactly: val_accuracy {best.value!r} equals the stored value of trial {best.number}."
    )
    # the same configuration and seed with the plain step gives other numbers: the recorded step reproduces
    plain = autotune.replay_config(load_spec(path), out["config"], first_seed=best.user_attrs["seed"])
    assert plain.runs[0].step == "plain" and plain.runs[0].val_loss != best.user_attrs["val_loss"]


def test_an_fp32_run_keeps_the_store_key_it_had_before_precisions(write_spec):
    spec = load_spec(write_spec(tiny_digits_spec()))
    config = {"lr": 0.01}
    before = hashlib.sha256(
        json.dumps({"spec": spec.fingerprint(), "config": config, "seed": 1, "epochs": 3}, sort_keys=True).encode()
    ).hexdigest()[:20]
    assert (
        run_key(spec, config, seed=1, epochs=3) == run_key(spec, config, seed=1, epochs=3, precision="fp32") == before
    )
    assert run_key(spec, config, seed=1, epochs=3, precision="bf16") != before
    assert run_key(spec, config, seed=1, epochs=3, step="plain") == before
    assert run_key(spec, config, seed=1, epochs=3, step="fused") != before
    assert run_key(spec, config, seed=1, epochs=3, batch=None) == before
    batched = run_key(spec, config, seed=1, epochs=3, batch=[1, 2])
    assert batched != before and batched != run_key(spec, config, seed=1, epochs=3, batch=[2, 1])


def test_a_seed_batched_replay_says_it_is_another_protocol_and_replays_its_batch(study_path):
    best = _study().best_trial
    first = invoke("replay", "--study", study_path, "--trial", "best", "--seeds", "3", "--batch-seeds", "--json")
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    seeds = [run["seed"] for run in out["runs"]]
    assert seeds[0] == best.user_attrs["seed"] and [run["batch"] for run in out["runs"]] == [seeds] * 3
    assert out["reproduction"] == (
        f"Not compared with trial {best.number}'s stored value: seeds {', '.join(map(str, seeds))} were trained at "
        "once as one batched model, whose dropout masks are drawn for the batch as a whole (and whose sums may "
        "differ in the last bits); --seeds-one-by-one (batch_seeds=False) reproduces the trial itself, and the same "
        "batch reproduces this replay."
    )
    again = json.loads(
        invoke("replay", "--study", study_path, "--trial", "best", "--seeds", "3", "--batch-seeds", "--json").stdout
    )
    assert [run["reused"] for run in again["runs"]] == [True] * 3
    figures = [{k: r[k] for k in ("val_loss", "val_accuracy", "train_loss")} for r in out["runs"]]
    assert [{k: r[k] for k in ("val_loss", "val_accuracy", "train_loss")} for r in again["runs"]] == figures
    one = invoke("replay", "--study", study_path, "--trial", "best", "--batch-seeds")  # one seed is no batch
    assert "Note: seed batching needs two seeds or more: this one seed trains on its own" in one.stdout.splitlines()
    assert one.stdout.splitlines()[-1].startswith("Reproduced exactly: ")
    Path("cfg.json").write_text(json.dumps(best.params))
    text = invoke("replay", "--study", study_path, "--config", "cfg.json", "--seeds", "2", "--batch-seeds").stdout
    assert text.splitlines()[-1].startswith("Seeds ") and text.endswith(
        " were trained at once, as one batched model.\n"
    )


def test_a_bad_batch_seeds_value_in_a_spec_is_one_error_line(write_spec):
    from tests.conftest import assert_one_error_line

    path = write_spec(tiny_digits_spec(batch_seeds="yes"))
    result = invoke("run", "--study", path, "--trials", "1")
    assert_one_error_line(result, "batch_seeds", "true or false", "'yes'")
    assert not Path("autotune.db").exists()


def test_a_replay_that_matches_the_metric_but_not_a_loss_is_not_reproduced(write_spec):
    """An accuracy is a count and can agree by chance (a replay in the wrong training step often does): every
    figure the trial stored must agree before a replay is called exact."""
    from autotune.storage.replays import Replay, SeedRun, reproduction

    spec = load_spec(write_spec(tiny_digits_spec()))
    figures = {"train_loss": 0.25, "train_accuracy": 0.93, "val_loss": 0.3, "val_accuracy": 0.9}
    trial = optuna.trial.create_trial(
        value=0.9, user_attrs={**figures, "seed": 5, "epochs": 3}, state=optuna.trial.TrialState.COMPLETE
    )
    trial.number = 4

    def replayed(**changed):
        run = SeedRun(seed=5, epochs=3, seconds=1.0, diverged=False, **{**figures, **changed})
        return Replay(label="trial 4", config={}, runs=[run])

    exact = reproduction(spec, trial, replayed(), overridden=False, epochs=None)
    assert exact == "Reproduced exactly: val_accuracy 0.9 equals the stored value of trial 4."
    assert reproduction(spec, trial, replayed(val_loss=0.30000000000000004), overridden=False, epochs=None) == (
        "NOT reproduced: val_accuracy 0.9 equals the stored value of trial 4, but val_loss 0.30000000000000004 "
        "differs from the stored 0.3 (different threads, device, CPU, library versions or training step change "
        "floating-point results)."
    )
