"""Export from a real small study, checked against the database; the checkpoint reproduces its test accuracy."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import optuna
import pytest
import torch
import yaml
from click.testing import CliRunner

from autotune.cli.commands import cli
from autotune.data.datasets import Split, load_splits, load_test
from autotune.training.loop import evaluate
from autotune.training.models import build_model
from tests.conftest import empty_study, invoke, tiny_digits_spec


@pytest.fixture
def exported(write_spec):
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}))
    assert invoke("run", "--study", path, "--trials", "4", "-q").exit_code == 0
    result = invoke("export", "--study", path, "--out", "exp", "--json")
    assert result.exit_code == 0, result.output
    return path, json.loads(result.stdout), optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db")


def test_best_files_match_the_database(exported):
    _, summary, study = exported
    best = yaml.safe_load(Path("exp/best.yaml").read_text())
    assert best == json.loads(Path("exp/best.json").read_text())
    assert (best["trial"], best["value"], best["params"]) == (
        study.best_trial.number,
        study.best_value,
        study.best_trial.params,
    )
    assert best["seed"] == study.best_trial.user_attrs["seed"]
    assert best["config"]["units"] == [study.best_params[f"units_l{i}"] for i in range(best["config"]["n_layers"])]
    assert summary["files"] == ["best.json", "best.yaml", "model.pt", "provenance.json", "trials.csv"]


#: The keys of `export --json`, in order: scripts read them, so they change only on purpose
BEST_KEYS = ["trial", "chosen_by", "metric", "value", "values", "feasible", "params", "confirmed", "since_confirmation"]
CONFIRMED_KEYS = [
    "trial",
    "mean",
    "seeds",
    "confirmed",
    "single_seed_best",
    "single_seed_value",
    "tie_with",
    "complete_trials_since",
]
FINAL_KEYS = [
    "trained_on",
    "train_examples",
    "epochs",
    "train_subset",
    "precision",
    "step",
    "batch",
    "seed",
    "seconds",
    "test_loss",
    "test_accuracy",
    "test_examples",
    "diverged",
    "seeds",
    "test_accuracy_mean",
    "test_accuracy_std",
    "test_loss_mean",
    "test_loss_std",
]


def test_replaying_best_yaml_says_it_trains_the_configuration_not_the_trial(exported):
    path, summary, study = exported
    result = invoke("replay", "--study", path, "--config", "exp/best.yaml", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    trial = summary["best"]["trial"]
    assert out["notes"] == [
        f"exp/best.yaml holds trial {trial} of study 'tiny-digits': its configuration is trained here with the spec's "
        f"seed (7) and step (plain), not the trial's own; `autotune replay --study tiny-digits --trial {trial}` "
        "reproduces the trial itself"
    ]
    assert out["reproduction"] is None and out["runs"][0]["seed"] == 7


def test_the_json_keys_of_export_and_best_yaml_are_pinned(exported):
    path, summary, _ = exported
    assert list(summary) == ["out", "best", "final_model", "files"]
    assert list(summary["best"]) == BEST_KEYS and summary["best"]["confirmed"] is None
    assert list(summary["final_model"]) == FINAL_KEYS
    assert [list(run) for run in summary["final_model"]["seeds"]] == [
        ["seed", "seconds", "test_loss", "test_accuracy", "diverged"]
    ]
    assert json.loads(Path("exp/provenance.json").read_text())["final_model"] == summary["final_model"]
    best = yaml.safe_load(Path("exp/best.yaml").read_text())
    assert list(best) == [
        "study",
        "trial",
        "chosen_by",
        "metric",
        "value",
        "values",
        "feasible",
        "constraints",
        "on_pareto_front",
        "confirmed",
        "since_confirmation",
        "seed",
        "params",
        "config",
        "user_attrs",
        "spec",
    ]
    assert invoke("confirm", "--study", path, "--top", "2", "--seeds", "2", "--json").exit_code == 0
    confirmed = json.loads(invoke("export", "--study", path, "--out", "c", "--no-retrain", "--json").stdout)
    assert list(confirmed) == ["out", "best", "final_model", "files"] and confirmed["final_model"] is None
    assert list(confirmed["best"]) == BEST_KEYS and list(confirmed["best"]["confirmed"]) == CONFIRMED_KEYS
    assert yaml.safe_load(Path("c/best.yaml").read_text())["confirmed"] == confirmed["best"]["confirmed"]


def test_trials_csv_is_one_flat_row_per_trial(exported):
    _, _, study = exported
    with open("exp/trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["number"]) for r in rows] == [t.number for t in study.trials]
    for row, trial in zip(rows, study.trials):
        assert row["state"] == trial.state.name and float(row["value"]) == trial.value
        assert row["attr_seed"] == str(trial.user_attrs["seed"]) and row["attr_worker"] == trial.user_attrs["worker"]
        for i in range(2):
            expected = str(trial.params[f"units_l{i}"]) if i < trial.params["n_layers"] else ""
            assert row[f"param_units_l{i}"] == expected  # conditional widths are empty where they do not apply


def test_checkpoint_reloads_and_reproduces_its_test_accuracy(exported):
    _, summary, _ = exported
    ckpt = torch.load("exp/model.pt", weights_only=True)
    final = summary["final_model"]
    assert ckpt["test"]["accuracy"] == final["test_accuracy"] and ckpt["trained_on"] == "train+val"
    assert final["train_examples"] == 1437 and final["test_examples"] == 360
    model = build_model(
        ckpt["model"]["family"],
        input_shape=tuple(ckpt["model"]["input_shape"]),
        n_outputs=ckpt["model"]["n_outputs"],
        config=ckpt["model"]["config"],
    )
    model.load_state_dict(ckpt["state_dict"])
    splits = load_splits("digits", validation_size=0.2, seed=ckpt["spec"]["seed"])
    test = load_test(splits)
    assert ckpt["normalization"] == {"mean": splits.mean, "std": splits.std}
    _, accuracy = evaluate(model, Split(test.x, test.y), classification=True)
    assert accuracy == final["test_accuracy"] > 0.8
    assert set(ckpt["versions"]) >= {"autotune", "torch", "optuna", "python"}


def test_provenance(exported):
    _, _, study = exported
    prov = json.loads(Path("exp/provenance.json").read_text())
    assert prov["spec_fingerprint"] == study.user_attrs["spec_fingerprint"]
    assert prov["seeds"]["best_trial"] == study.best_trial.user_attrs["seed"]
    assert prov["packages"]["torch"] and prov["packages"]["optuna"]
    assert prov["dataset"]["name"] == "digits"


def test_best_yaml_feeds_replay(exported):
    path, _, study = exported
    out = json.loads(invoke("replay", "--study", path, "--config", "exp/best.yaml", "--json").stdout)
    best = yaml.safe_load(Path("exp/best.yaml").read_text())
    assert out["config"] == best["config"]


def test_study_without_complete_trials(write_spec):
    path = write_spec(tiny_digits_spec())
    empty_study(path)
    result = CliRunner().invoke(cli, ["export", "--study", path, "--out", "none"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: study 'tiny-digits' has no complete trial yet"
    assert not Path("none").exists()


def test_seeds_retrain_k_times_and_report_test_mean_and_std(exported):
    path, single, _ = exported
    result = invoke("export", "--study", path, "--out", "exp3", "--seeds", "3", "--json")
    assert result.exit_code == 0, result.output
    final = json.loads(result.stdout)["final_model"]
    runs = final["seeds"]
    assert [r["seed"] for r in runs][0] == single["final_model"]["seed"] and len({r["seed"] for r in runs}) == 3
    assert runs[0]["test_accuracy"] == single["final_model"]["test_accuracy"]  # same seed, same model
    accs = [r["test_accuracy"] for r in runs]
    assert final["test_accuracy_mean"] == pytest.approx(statistics.fmean(accs))
    assert final["test_accuracy_std"] == pytest.approx(statistics.stdev(accs))
    assert torch.load("exp3/model.pt", weights_only=True)["test"]["accuracy"] == accs[0]
    text = invoke("export", "--study", path, "--out", "exp3b", "--seeds", "3").output
    assert (
        f"Over 3 seeds ({', '.join(str(r['seed']) for r in runs)}): test accuracy "
        f"{final['test_accuracy_mean'] * 100:.2f}% ± {final['test_accuracy_std'] * 100:.2f} (percentage points)."
        in text
    )


def test_final_budget_from_the_spec_and_from_the_command_line(write_spec):
    """Search on a subset for few epochs; the exported model trains longer on all the data."""
    small = tiny_digits_spec(pruner={"name": "none"}, max_epochs=2, train_subset=300)
    path = write_spec(small)
    assert invoke("run", "--study", path, "--trials", "2", "-q").exit_code == 0
    splits = load_splits("digits", validation_size=0.2, seed=7)
    n_train, n_val = len(splits.train), len(splits.val)

    def final(*args: str) -> dict:
        result = invoke("export", "--study", path, "--out", "e", "--json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["final_model"]

    as_searched = final()
    assert (as_searched["epochs"], as_searched["train_examples"], as_searched["train_subset"]) == (2, 300 + n_val, 300)
    # the spec file gains a final block: same search (same fingerprint), so the stored study takes it
    write_spec(dict(small, final={"max_epochs": 5, "train_subset": "all"}))
    declared = final()
    assert (declared["epochs"], declared["train_examples"], declared["train_subset"]) == (5, n_train + n_val, "all")
    trained = torch.load("e/model.pt", weights_only=True)["spec"]  # the checkpoint says how it was trained
    assert (trained["max_epochs"], trained["train_subset"]) == (5, None)
    overridden = final("--epochs", "3", "--train-subset", "100")
    assert (overridden["epochs"], overridden["train_examples"]) == (3, 100 + n_val)
    prov = json.loads(Path("e/provenance.json").read_text())
    assert (prov["final_model"]["epochs"], prov["final_model"]["train_subset"]) == (3, 100)
    text = invoke("export", "--study", path, "--out", "e2", "--epochs", "3").output
    assert f"Final model retrained on train+val ({n_train + n_val} examples, 3 epochs, " in text


def test_a_fused_trial_is_exported_with_the_fused_step(write_spec):
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}))
    assert invoke("run", "--study", path, "--trials", "2", "--step", "fused", "-q").exit_code == 0
    result = invoke("export", "--study", path, "--out", "exp", "--json", "--seeds", "2")
    assert result.exit_code == 0, result.output
    final = json.loads(result.stdout)["final_model"]
    assert final["step"] == "fused"
    assert torch.load("exp/model.pt", weights_only=True)["step"] == "fused"


def test_seed_batched_final_models_are_tested_one_by_one_and_replay_their_batch(write_spec):
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}))
    assert invoke("run", "--study", path, "--trials", "2", "-q").exit_code == 0
    finals = []
    for out in ("a", "b", "c"):
        how = "--seeds-one-by-one" if out == "c" else "--batch-seeds"
        result = invoke("export", "--study", path, "--out", out, "--json", "--seeds", "3", how)
        assert result.exit_code == 0, result.output
        finals.append(json.loads(result.stdout)["final_model"])
    batched, again, alone = finals
    seeds = [run["seed"] for run in batched["seeds"]]
    assert batched["batch"] == seeds and alone["batch"] is None and len(set(seeds)) == 3
    assert torch.load("a/model.pt", weights_only=True)["batch"] == seeds
    figures = [(r["test_loss"], r["test_accuracy"]) for r in batched["seeds"]]
    assert figures == [(r["test_loss"], r["test_accuracy"]) for r in again["seeds"]]  # the same batch, to the bit
    # one by one: the same seeds' own draws (the dropout masks aside), so the same learning
    assert abs(batched["test_accuracy_mean"] - alone["test_accuracy_mean"]) <= 0.05
    text = invoke("export", "--study", path, "--out", "d", "--seeds", "3", "--batch-seeds").output
    assert "; the seeds trained at once, as one batched model." in text


def test_a_bf16_trial_is_exported_in_bf16(bf16_cpu, write_spec):
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}, precision="bf16"))
    assert invoke("run", "--study", path, "--trials", "2", "-q").exit_code == 0
    result = invoke("export", "--study", path, "--out", "exp", "--json")
    assert result.exit_code == 0, result.output
    final = json.loads(result.stdout)["final_model"]
    assert final["precision"] == "bf16"
    ckpt = torch.load("exp/model.pt", weights_only=True)
    assert ckpt["precision"] == "bf16"
    assert {v.dtype for v in ckpt["state_dict"].values() if v.is_floating_point()} == {torch.float32}
    model = build_model(
        "mlp", input_shape=tuple(ckpt["model"]["input_shape"]), n_outputs=10, config=ckpt["model"]["config"]
    )
    model.load_state_dict(ckpt["state_dict"])
    test = load_test(load_splits("digits", validation_size=0.2, seed=7))
    assert evaluate(model, test, classification=True, precision="bf16")[1] == final["test_accuracy"]
